"""Tests for training/runtime.py: devices, dtype, the model_dir check."""

import functools
import json

import pytest
import tensorflow as tf

import deep_speech_model
from tests.helpers import official_utils as helpers
from training import runtime

NUM_CLASSES = 29


def test_one_machine_without_gpus_needs_no_strategy():
  assert runtime.distribution(None, 0, 0) == (None, None, 1)
  assert runtime.distribution(None, 0, 1) == (None, None, 1)


def test_simulated_cpu_replicas_mirror_over_that_many_devices():
  # In a fresh process: the strategy finds /cpu:1 only while TensorFlow's
  # eager context is not yet set up, and an earlier test in this process
  # may have set it up with one CPU device.
  code = """
      import json
      from training import runtime
      strategy, config, replicas = runtime.distribution(None, 0, 2)
      print("JSON" + json.dumps({
          "replicas": replicas, "in_sync": strategy.num_replicas_in_sync,
          "cpus": config.device_count["CPU"]}))
  """
  rc, out = helpers.run_python_code(code)
  assert rc == 0, out
  result = json.loads(out.split("JSON", 1)[1])
  assert result == {"replicas": 2, "in_sync": 2, "cpus": 2}


def test_simulated_replicas_and_a_cluster_do_not_mix():
  with pytest.raises(ValueError, match="TF_CONFIG cluster"):
    runtime.distribution(object(), 0, 2)


@pytest.mark.parametrize("text,value", [(None, None), ("dynamic", "dynamic"),
                                        ("128", 128.0), ("0.5", 0.5)])
def test_loss_scale_parses(text, value):
  assert runtime.parse_loss_scale(text) == value


@pytest.mark.parametrize("text", ["0", "-1", "big"])
def test_bad_loss_scale_is_a_clear_error(text):
  with pytest.raises(ValueError, match="positive number or 'dynamic'"):
    runtime.parse_loss_scale(text)


def test_unknown_dtype_is_a_clear_error():
  with pytest.raises(ValueError, match="unknown dtype"):
    runtime.check_dtype("int8")
  runtime.check_dtype("float32")


def test_a_fresh_model_dir_passes_the_check(tmp_path):
  model = deep_speech_model.DeepSpeech2(1, "gru", True, 8, NUM_CLASSES, True,
                                        conv_filters=4)
  runtime.check_model_dir(str(tmp_path), model, 161)


def _save_checkpoint(model, path, bins=161):
  with tf.Graph().as_default():
    model(tf.compat.v1.placeholder(tf.float32, [None, None, bins, 1]),
          training=True)
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      return tf.compat.v1.train.Saver().save(sess, path)


def test_checkpoint_mismatch_names_the_first_differing_variable(tmp_path):
  model = deep_speech_model.DeepSpeech2(1, "gru", True, 8, NUM_CLASSES, True,
                                        conv_filters=4)
  checkpoint = _save_checkpoint(model, str(tmp_path / "model.ckpt"))
  mismatch = functools.partial(runtime.checkpoint_mismatch, checkpoint)
  assert mismatch(model, 161) is None
  wider = deep_speech_model.DeepSpeech2(1, "gru", True, 8, NUM_CLASSES, True,
                                        conv_filters=8)
  assert mismatch(wider, 161) == (
      "cnn_1/kernel is [41, 11, 1, 4] there but [41, 11, 1, 8] with these "
      "settings")
  # Other features: the first RNN's input width differs.
  assert "bidirectional_rnn_1" in mismatch(model, 81)
  lstm = deep_speech_model.DeepSpeech2(1, "lstm", True, 8, NUM_CLASSES, True,
                                       conv_filters=4)
  assert mismatch(lstm, 161).startswith("it has no variable")
  with pytest.raises(runtime.CheckpointMismatchError,
                     match="trained with a different model"):
    runtime.check_model_dir(str(tmp_path), wider, 161)

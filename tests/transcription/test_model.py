"""Hyper-parameters read back from a checkpoint's variables."""

import json

import pytest
import tensorflow as tf

from data import featurizer
import deep_speech_model
from transcription import model as model_lib


@pytest.mark.parametrize("params", [
    dict(rnn_hidden_layers=2, rnn_type="lstm", is_bidirectional=False,
         rnn_hidden_size=8, conv_filters=4, use_bias=False,
         lookahead_context=0),
    dict(rnn_hidden_layers=1, rnn_type="gru", is_bidirectional=True,
         rnn_hidden_size=12, conv_filters=2, use_bias=True,
         lookahead_context=0),
    dict(rnn_hidden_layers=1, rnn_type="gru", is_bidirectional=False,
         rnn_hidden_size=6, conv_filters=2, use_bias=True,
         lookahead_context=3),
])
def test_infer_params_rebuilds_the_network_of_a_checkpoint(tmp_path, params):
  params = dict(params, num_classes=29, learning_rate=0.0, dtype="float32")
  with tf.Graph().as_default():
    deep_speech_model.from_params(params)(
        tf.compat.v1.placeholder(tf.float32, [None, None, 161, 1]),
        training=False)
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      path = tf.compat.v1.train.Saver().save(sess, str(tmp_path / "ckpt"))
  assert model_lib.infer_params(path) == params


def test_a_directory_without_a_checkpoint_is_a_model_error(tmp_path):
  fallback = model_lib.Settings(featurizer.AudioFeaturizer(), " abc-")
  with pytest.raises(model_lib.ModelError, match="no checkpoint"):
    model_lib.CheckpointModel(str(tmp_path), fallback)
  with pytest.raises(model_lib.ModelError, match="no SavedModel"):
    model_lib.ExportedModel(str(tmp_path), fallback)


def test_a_model_dir_that_exported_records_its_settings(tmp_path):
  from training import export  # pylint: disable=g-import-not-at-top
  assert model_lib.read_recorded_settings(str(tmp_path)) == (None, None)
  path = tmp_path / export.EXPORT_SETTINGS_FILE
  recorded = {"sample_rate": 8000, "window_ms": 20, "stride_ms": 10,
              "speech_labels": " ab-"}
  path.write_text(json.dumps(recorded))
  assert model_lib.read_recorded_settings(str(tmp_path)) == (
      recorded, str(path))
  path.write_text('{"sample_rate": ')
  with pytest.raises(model_lib.ModelError, match="not valid JSON"):
    model_lib.read_recorded_settings(str(tmp_path))

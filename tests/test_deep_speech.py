"""Tests for deep_speech: model_fn per mode, the training cycles, the CLI."""

import json
import os
import shutil
import subprocess
import sys

from absl import flags
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from data import dataset as dataset_lib
from data import vocabulary
import deep_speech
from tests import conftest
from training import evaluation
from training import export
from training import flags as port_flags
from training import hooks
from training import inputs
from training import runtime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = flags.FLAGS
PARAMS = dict(num_classes=29, rnn_hidden_layers=1, rnn_type="gru",
              is_bidirectional=True, rnn_hidden_size=16, use_bias=True,
              learning_rate=1e-3)
TINY = ["--batch_size=4", "--rnn_hidden_size=16", "--rnn_hidden_layers=1",
        "--learning_rate=2e-3", "--export_dir=", "--show_samples=0"]


def run_in_process(argv):
  """Parses `argv` as deep_speech.py flags and runs the cycles in-process."""
  if "rnn_hidden_size" not in FLAGS:
    port_flags.define_deep_speech_flags()
  FLAGS.unparse_flags()
  FLAGS(["deep_speech.py"] + list(argv))
  return deep_speech.run_deep_speech(FLAGS)


def read_state(model_dir):
  with open(os.path.join(model_dir, "train_state.json")) as f:
    return json.load(f)


def _features(batch=2, frames=40, seed=0):
  rng = np.random.default_rng(seed)
  return {
      "features": tf.constant(rng.standard_normal(
          (batch, frames, 161, 1)).astype(np.float32)),
      "input_length": tf.constant([[frames - 4 * i] for i in range(batch)],
                                  tf.int32),
      "label_length": tf.constant([[3]] * batch, tf.int32),
  }


def test_compute_length_after_conv_scales_each_utterance():
  with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
    out = sess.run(deep_speech.compute_length_after_conv(
        tf.constant(100), tf.constant(25),
        tf.constant([[100], [50], [7]], tf.int32)))
  np.testing.assert_array_equal(out, [[25], [12], [1]])


def test_ctc_loss_handles_a_batch_of_one():
  """The seed's tf.squeeze turned a batch of one into a scalar and failed."""
  rng = np.random.default_rng(0)
  logits = rng.standard_normal((1, 12, 29)).astype(np.float32)
  with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
    loss = sess.run(deep_speech.ctc_loss(
        tf.constant([[3]]), tf.constant([[12]]), tf.constant([[3, 1, 20]]),
        tf.constant(logits)))
    reference = sess.run(tf.nn.ctc_loss(
        labels=tf.constant([[3, 1, 20]]), logits=tf.constant(logits),
        label_length=tf.constant([3]), logit_length=tf.constant([12]),
        logits_time_major=False, blank_index=28))
  assert loss.shape == (1, 1)
  np.testing.assert_allclose(loss[:, 0], reference, rtol=1e-4)


@pytest.mark.parametrize("mode", ["train", "eval", "infer"])
def test_model_fn_per_mode(mode):
  with tf.Graph().as_default():
    features = _features()
    labels = tf.constant([[3, 1, 20], [4, 15, 7]], tf.int32)
    spec = deep_speech.model_fn(features, labels if mode != "infer" else None,
                                mode, PARAMS)
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      if mode == "infer":
        assert spec.loss is None and spec.train_op is None
        assert set(spec.export_outputs["serving_default"].outputs) == {
            "probabilities", "ctc_input_length"}
        pred = sess.run(spec.predictions)
        assert pred["probabilities"].shape == (2, 10, 29)
        np.testing.assert_allclose(pred["probabilities"].sum(-1), 1.0,
                                   rtol=1e-5)
        np.testing.assert_array_equal(pred["ctc_input_length"], [10, 9])
        assert pred["classes"].shape == (2, 10)
      elif mode == "eval":
        assert spec.train_op is None
        assert np.isfinite(sess.run(spec.loss))
      else:
        first = sess.run(spec.loss)
        moving = [v for v in tf.compat.v1.global_variables()
                  if "moving_mean" in v.name]
        moving_before = sess.run(moving)
        for _ in range(5):
          sess.run(spec.train_op)
        assert sess.run(tf.compat.v1.train.get_global_step()) == 5
        # Finite steps update batch norm's statistics.
        for value, old in zip(sess.run(moving), moving_before):
          assert not np.array_equal(value, old)
        assert sess.run(spec.loss) < first


@pytest.mark.parametrize("decay_steps", [0, 4])
def test_learning_rate_decays_exponentially_when_asked(decay_steps):
  params = dict(PARAMS, learning_rate_decay_steps=decay_steps,
                learning_rate_decay_rate=0.5)
  with tf.Graph().as_default() as graph:
    spec = deep_speech.model_fn(_features(), tf.constant([[3, 1, 20]] * 2),
                                "train", params)
    rate = graph.get_tensor_by_name("learning_rate:0")
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      rates = []
      for _ in range(8):
        rates.append(sess.run(rate))
        sess.run(spec.train_op)
  expected = [1e-3 * 0.5 ** (step / decay_steps) if decay_steps else 1e-3
              for step in range(8)]
  np.testing.assert_allclose(rates, expected, rtol=1e-5)


def test_non_finite_loss_stops_the_step_before_any_update():
  with tf.Graph().as_default():
    features = _features()
    features["features"] = features["features"] * np.nan
    features["wav_filename"] = tf.constant(["/data/a.wav", "/data/b.wav"])
    spec = deep_speech.model_fn(features, tf.constant([[3, 1, 20]] * 2),
                                "train", PARAMS)
    kernel = [v for v in tf.compat.v1.global_variables()
              if v.name == "dense/kernel:0"][0]
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      before = sess.run(kernel)
      with pytest.raises(tf.errors.InvalidArgumentError) as info:
        sess.run(spec.train_op)
      np.testing.assert_array_equal(sess.run(kernel), before)
  message = hooks.non_finite_message(
      info.value, hooks.NON_FINITE_MARKER)
  assert "/data/a.wav" in message and "/data/b.wav" in message
  assert "step" in message


def test_non_finite_loss_leaves_the_batch_norm_statistics_alone():
  # One NaN sample used to reach the moving mean and variance: their update
  # ops ran beside the finiteness check instead of after it.
  with tf.Graph().as_default():
    features = _features()
    features["features"] = tf.tensor_scatter_nd_update(
        features["features"], [[0, 3, 5, 0]], [np.nan])
    spec = deep_speech.model_fn(features, tf.constant([[3, 1, 20]] * 2),
                                "train", PARAMS)
    moving = [v for v in tf.compat.v1.global_variables()
              if "moving_" in v.name]
    assert len(moving) == 6  # mean and variance of three batch norms
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      before = sess.run(moving)
      with pytest.raises(tf.errors.InvalidArgumentError):
        sess.run(spec.train_op)
      for value, old in zip(sess.run(moving), before):
        np.testing.assert_array_equal(value, old)


def test_bf16_training_exports_a_float32_model(tmp_path, corpus):
  if not runtime.bfloat16_supported():
    pytest.skip("this CPU cannot run bfloat16 convolutions (no AVX512)")
  export_dir = tmp_path / "export"
  cycles = run_in_process(TINY + [
      "--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
      "--model_dir=" + str(tmp_path / "m"), "--train_epochs=1",
      "--dtype=bf16", "--export_dir=" + str(export_dir)])
  assert np.isfinite(cycles[0]["train_loss"])
  (export_path,) = list(export_dir.iterdir())
  saved = saved_model_pb2.SavedModel()
  saved.ParseFromString((export_path / "saved_model.pb").read_bytes())
  graph = saved.meta_graphs[0].graph_def
  nodes = list(graph.node) + [n for f in graph.library.function
                              for n in f.node_def]
  types = {value.type for node in nodes for value in node.attr.values()}
  assert tf.float32.as_datatype_enum in types
  assert tf.bfloat16.as_datatype_enum not in types


def test_bf16_without_cpu_support_is_a_clear_error(tmp_path):
  # oneDNN's custom operations limited to AVX2 stand for a CPU without
  # AVX512 where they are on: bfloat16 convolutions cannot run there, on
  # every CPU kind (the variable is set explicitly, since TensorFlow's
  # default differs between CPU kinds).
  manifest = conftest.make_corpus(tmp_path / "data", num_utts=4)
  env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2", TF_ENABLE_ONEDNN_OPTS="1",
             CUDA_VISIBLE_DEVICES="")
  proc = subprocess.run(
      [sys.executable, "deep_speech.py", "--train_data_dir=" + manifest,
       "--eval_data_dir=" + manifest, "--model_dir=" + str(tmp_path / "m"),
       "--dtype=bf16", "--rnn_hidden_size=8", "--rnn_hidden_layers=1"],
      cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 1, proc.stderr[-3000:]
  assert "--dtype=bf16" in proc.stderr and "Use --dtype=fp32" in proc.stderr
  assert "Traceback" not in proc.stderr
  assert not os.path.exists(str(tmp_path / "m" / "checkpoint"))


@pytest.mark.slow
def test_bf16_emulated_trains_with_a_warning(tmp_path):
  # With oneDNN's custom operations off (TensorFlow's default on an AVX2
  # CPU), TensorFlow's own kernels emulate bfloat16 on every CPU kind:
  # training proceeds, and the log says it is slower than fp32.
  manifest = conftest.make_corpus(tmp_path / "data", num_utts=4)
  env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2", TF_ENABLE_ONEDNN_OPTS="0",
             CUDA_VISIBLE_DEVICES="")
  proc = subprocess.run(
      [sys.executable, "deep_speech.py", "--train_data_dir=" + manifest,
       "--eval_data_dir=" + manifest, "--model_dir=" + str(tmp_path / "m"),
       "--dtype=bf16", "--rnn_hidden_size=8", "--rnn_hidden_layers=1",
       "--conv_filters=4", "--batch_size=4", "--train_epochs=1",
       "--export_dir=", "--show_samples=0"],
      cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "bfloat16 is emulated" in proc.stderr
  assert "slower than float32" in proc.stderr
  assert "Iteration 1: WER = " in proc.stderr
  assert tf.train.latest_checkpoint(str(tmp_path / "m"))


@pytest.mark.slow
def test_cli_trains_evaluates_exports_and_resumes(tmp_path):
  manifest = conftest.make_corpus(tmp_path / "data", num_utts=12)
  model_dir, export_dir = str(tmp_path / "model"), str(tmp_path / "export")
  cmd = [sys.executable, "deep_speech.py", "--train_data_dir=" + manifest,
         "--eval_data_dir=" + manifest, "--model_dir=" + model_dir,
         "--export_dir=" + export_dir, "--train_epochs=2", "--batch_size=4",
         "--rnn_hidden_size=32", "--rnn_hidden_layers=1",
         "--learning_rate=2e-3", "--conv_filters=8"]
  proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                        timeout=600)
  log = proc.stdout + proc.stderr
  assert proc.returncode == 0, log[-3000:]
  assert "Iteration 1: WER = " in log and "Iteration 2: WER = " in log
  assert tf.train.latest_checkpoint(model_dir).endswith("model.ckpt-6")
  # --conv_filters reaches the model through params.
  assert tf.train.load_variable(model_dir, "cnn_2/kernel").shape == (
      21, 11, 8, 8)

  state = read_state(model_dir)
  assert [c["global_step"] for c in state["cycles"]] == [3, 6]
  assert state["cycles"][1]["train_loss"] < state["cycles"][0]["train_loss"]
  for cycle in state["cycles"]:
    assert np.isfinite(cycle["WER"]) and np.isfinite(cycle["CER"])

  # The SavedModel serves probabilities and lengths.
  (export_path,) = [os.path.join(export_dir, d) for d in os.listdir(export_dir)]
  with open(os.path.join(export_path, "assets.extra",
                         export.EXPORT_SETTINGS_FILE)) as f:
    settings = json.load(f)
  # --export_best (default): the export is the best cycle's checkpoint.
  best = min(state["cycles"], key=lambda c: c["WER"])
  assert settings == {"sample_rate": 16000, "window_ms": 20, "stride_ms": 10,
                      "speech_labels": " abcdefghijklmnopqrstuvwxyz'-",
                      "best_step": best["global_step"],
                      "best_WER": best["WER"], "decoder": "greedy",
                      "beam_width": 100, "alpha": 0.0, "beta": 0.0,
                      "lm_path": None, "lexicon": None}
  with open(os.path.join(model_dir, "best", "best.json")) as f:
    assert json.load(f)["step"] == best["global_step"]
  loaded = tf.saved_model.load(export_path)
  serve = loaded.signatures["serving_default"]
  out = serve(features=tf.zeros([2, 60, 161, 1]),
              input_length=tf.constant([[60], [30]]))
  assert out["probabilities"].shape == (2, 15, 29)
  np.testing.assert_allclose(out["probabilities"].numpy().sum(-1), 1.0,
                             rtol=1e-5)
  np.testing.assert_array_equal(out["ctc_input_length"].numpy(), [15, 7])

  # transcribe.py serves the export on the manifest's audio.
  proc = subprocess.run(
      [sys.executable, "transcribe.py", "--saved_model=" + export_dir,
       "--manifest=" + manifest, "--num=3"], cwd=ROOT, capture_output=True,
      text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert proc.stdout.count("reference : ") == 3
  assert proc.stdout.count("prediction: ") == 3
  assert "WER " in proc.stdout and "CER " in proc.stdout

  # Running again with more epochs resumes at the saved step: the two
  # finished cycles are neither retrained nor re-evaluated.
  cycles = run_in_process(["--train_data_dir=" + manifest,
                           "--eval_data_dir=" + manifest,
                           "--model_dir=" + model_dir, "--train_epochs=3",
                           "--batch_size=4", "--rnn_hidden_size=32",
                           "--rnn_hidden_layers=1", "--conv_filters=8",
                           "--export_dir="])
  assert [c["global_step"] for c in cycles] == [3, 6, 9]
  assert cycles[:2] == state["cycles"]

  # Other model flags on the same model_dir: a clear error before training.
  with pytest.raises(ValueError, match="trained with a different model"):
    run_in_process(["--train_data_dir=" + manifest,
                    "--eval_data_dir=" + manifest,
                    "--model_dir=" + model_dir, "--train_epochs=4",
                    "--batch_size=4", "--rnn_hidden_size=32",
                    "--rnn_hidden_layers=1", "--conv_filters=4",
                    "--export_dir="])
  assert tf.train.latest_checkpoint(model_dir).endswith("model.ckpt-9")


@pytest.mark.slow
def test_seed_gives_the_same_first_cycle(tmp_path, corpus):
  losses = []
  for name, seed in (("a", 7), ("b", 7), ("c", 8)):
    cycles = run_in_process(TINY + [
        "--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
        "--model_dir=" + str(tmp_path / name), "--train_epochs=1",
        "--seed=%d" % seed])
    losses.append(cycles[0]["train_loss"])
  assert losses[0] == losses[1]
  assert losses[0] != losses[2]


def test_warp_flags_change_training_reproducibly(tmp_path, corpus):
  def first_loss(name, *extra):
    return run_in_process(TINY + [
        "--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
        "--model_dir=" + str(tmp_path / name), "--train_epochs=1",
        "--seed=3"] + list(extra))[0]["train_loss"]
  warp = ["--tempo_warp=0.2", "--freq_warp=0.2"]
  warped = first_loss("a", *warp)
  assert warped == first_loss("b", *warp)
  assert warped != first_loss("c")
  with pytest.raises(ValueError, match="--tempo_warp"):
    first_loss("d", "--tempo_warp=1.5")


@pytest.mark.slow
def test_wer_threshold_stops_when_reached(tmp_path, corpus):
  # Any WER is <= 100, so training stops after the first cycle (the seed's
  # inverted test stopped there for any threshold below the WER instead).
  cycles = run_in_process(TINY + [
      "--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
      "--model_dir=" + str(tmp_path / "m1"), "--train_epochs=3",
      "--wer_threshold=100"])
  assert len(cycles) == 1
  # A threshold no model reaches lets every cycle run.
  cycles = run_in_process(TINY + [
      "--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
      "--model_dir=" + str(tmp_path / "m2"), "--train_epochs=2",
      "--wer_threshold=-1"])
  assert len(cycles) == 2


@pytest.mark.slow
def test_epochs_between_evals_trains_that_many_passes(tmp_path, corpus):
  # 16 utterances at batch 4: 4 steps per epoch. 3 epochs, 2 per cycle:
  # cycles of 2 and 1 epochs (the seed ran 3 // 2 = 1 cycle of one epoch).
  cycles = run_in_process(TINY + [
      "--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
      "--model_dir=" + str(tmp_path / "m"), "--train_epochs=3",
      "--epochs_between_evals=2"])
  assert [c["global_step"] for c in cycles] == [8, 12]


@pytest.mark.slow
def test_predictions_decode_to_text(tmp_path, corpus):
  run_in_process(TINY + ["--train_data_dir=" + corpus,
                         "--eval_data_dir=" + corpus,
                         "--model_dir=" + str(tmp_path / "m"),
                         "--train_epochs=1"])
  speech = inputs.generate_dataset(
      corpus, 16000, 20, 10, vocabulary.VOCABULARY_FILE, True)
  estimator = tf.estimator.Estimator(deep_speech.model_fn,
                                     model_dir=str(tmp_path / "m"),
                                     params=PARAMS)
  results = evaluation.evaluate_model(
      estimator, speech.speech_labels, speech.entries,
      lambda: dataset_lib.input_fn(4, speech))
  assert len(results["decoded"]) == len(speech.entries)
  assert all(isinstance(s, str) for s in results["decoded"])
  assert set("".join(results["decoded"])) <= set(speech.speech_labels[:-1])
  assert 0.0 <= results["CER"] and np.isfinite(results["WER"])
  # Estimator.evaluate works too: EVAL mode returns the loss.
  metrics = estimator.evaluate(lambda: dataset_lib.input_fn(
      4, speech))
  assert np.isfinite(metrics["loss"]) and metrics["global_step"] == 4


_MIRRORED_SCRIPT = r"""
import json, sys
import tensorflow as tf
import deep_speech
from data import dataset
from data import sampler
from data import vocabulary
from training import inputs

manifest, model_dir = sys.argv[1], sys.argv[2]
speech = inputs.generate_dataset(manifest, 16000, 20, 10,
                                      vocabulary.VOCABULARY_FILE, True)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
config = tf.estimator.RunConfig(
    train_distribute=strategy, tf_random_seed=1,
    session_config=tf.compat.v1.ConfigProto(device_count={"CPU": 2}))
params = dict(num_classes=29, rnn_hidden_layers=1, rnn_type="gru",
              is_bidirectional=True, rnn_hidden_size=16, use_bias=True,
              learning_rate=3e-3)
estimator = tf.estimator.Estimator(deep_speech.model_fn, model_dir=model_dir,
                                   config=config, params=params)

class Probe(tf.estimator.SessionRunHook):
  def begin(self):
    graph = tf.compat.v1.get_default_graph()
    ops = [op for op in graph.get_operations()
           if op.name.endswith("replica_batch_size")]
    self.sizes = {op.name: op.outputs[0] for op in ops}
    self.losses = {op.name: op.outputs[0] for op in graph.get_operations()
                   if op.name.split("/")[-1] == "loss" and op.type == "Identity"}
    self.seen = []
  def before_run(self, ctx):
    return tf.estimator.SessionRunArgs([self.sizes, self.losses])
  def after_run(self, ctx, values):
    sizes, losses = values.results
    self.seen.append(({k: int(v) for k, v in sizes.items()},
                      {k: float(v) for k, v in losses.items()}))

probe = Probe()
# 16 utterances, per-replica batch 4: the global batch of 8 is split in two.
epochs = [sampler.epoch_entries(speech.entries, e, True, 4, 1)
          for e in range(6)]
estimator.train(lambda: dataset.input_fn(4, speech, epochs=epochs),
                hooks=[probe], max_steps=12)
print(json.dumps({"steps": len(probe.seen),
                  "sizes": [sorted(s.items()) for s, _ in probe.seen],
                  "losses": [sorted(l.items()) for _, l in probe.seen]}))
"""


@pytest.mark.slow
def test_mirrored_strategy_on_two_cpu_devices(tmp_path, corpus):
  proc = subprocess.run(
      [sys.executable, "-c", _MIRRORED_SCRIPT, corpus, str(tmp_path / "m")],
      cwd=ROOT, capture_output=True, text=True, timeout=600,
      env=dict(os.environ, PYTHONPATH=ROOT))
  assert proc.returncode == 0, proc.stderr[-3000:]
  result = json.loads(proc.stdout.strip().splitlines()[-1])
  assert result["steps"] == 12
  for sizes in result["sizes"]:
    # Two replicas, each with half of the global batch of 8.
    assert len(sizes) == 2 and [v for _, v in sizes] == [4, 4]
  losses = [np.mean([v for _, v in step]) for step in result["losses"]]
  assert len(result["losses"][0]) == 2
  assert np.mean(losses[-3:]) < np.mean(losses[:3])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_mixed_precision_trains(dtype):
  if dtype == "bfloat16" and not runtime.bfloat16_supported():
    pytest.skip("this CPU cannot run bfloat16 convolutions (no AVX512)")
  params = dict(PARAMS, dtype=dtype, loss_scale="dynamic")
  with tf.Graph().as_default():
    spec = deep_speech.model_fn(_features(), tf.constant([[3, 1, 20]] * 2),
                                "train", params)
    scale_vars = [v for v in tf.compat.v1.global_variables()
                  if "loss_scale" in v.name]
    # float16 gradients need loss scaling; bfloat16 has float32's range.
    assert bool(scale_vars) == (dtype == "float16")
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      first = sess.run(spec.loss)
      for _ in range(8):
        sess.run(spec.train_op)
      last = sess.run(spec.loss)
  assert np.isfinite(first) and np.isfinite(last) and last < first


def test_audio_unreadable_after_the_check_is_a_clear_error(corpus):
  speech = inputs.generate_dataset(
      corpus, 16000, 20, 10, vocabulary.VOCABULARY_FILE, True)
  victim = speech.entries[1].wav_filename
  with open(victim, "wb") as f:
    f.write(b"not audio any more")
  with pytest.raises(hooks.AudioReadError) as info:
    with hooks.clear_graph_errors(hooks.NON_FINITE_MARKER):
      for _ in dataset_lib.input_fn(4, speech):
        pass
  message = str(info.value)
  assert victim in message and "Format not recognised" in message
  assert "\\'" not in message and "resume" in message


def test_a_model_dir_written_before_the_restructure_resumes(tmp_path):
  # tests/fixtures/README.md says how the fixture was made.
  old = os.path.join(ROOT, "tests", "fixtures", "model_dir_2026_11")
  model_dir = str(tmp_path / "model")
  shutil.copytree(old, model_dir)
  manifest = conftest.make_corpus(tmp_path / "data", num_utts=12)
  before = read_state(model_dir)["cycles"]
  cycles = run_in_process(["--train_data_dir=" + manifest,
                           "--eval_data_dir=" + manifest,
                           "--model_dir=" + model_dir, "--train_epochs=2",
                           "--batch_size=4", "--rnn_hidden_size=16",
                           "--rnn_hidden_layers=1", "--conv_filters=4",
                           "--learning_rate=2e-3", "--export_dir="])
  # The finished cycle is kept as it was; the second starts at its step.
  assert cycles[0] == before[0]
  assert [c["global_step"] for c in cycles] == [3, 6]
  assert tf.train.latest_checkpoint(model_dir).endswith("model.ckpt-6")
  # The weights went on from the old checkpoint: its loss level, not a
  # fresh start's.
  assert cycles[1]["train_loss"] < before[0]["train_loss"]

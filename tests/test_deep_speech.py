"""Tests for deep_speech.py: model_fn per mode, the training cycles.

The CLI run as a user runs it, in subprocesses, is tested in
tests/end_to_end/test_train_cli.py.
"""

import json
import os
import shutil

from absl import flags
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

import deep_speech
from tests import conftest
from tests.helpers.events import read_events, scalar
from tests.helpers.train import parse, PARAMS, read_state, run_in_process
from tests.helpers.train import TINY
from training import hooks
from training import runtime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
  # Refused when the flags are parsed, before any data is read.
  with pytest.raises(flags.IllegalFlagValueError,
                     match="--tempo_warp must be below 1"):
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
def test_max_train_minutes_stops_before_a_cycle_that_would_overrun(
    tmp_path, corpus):
  model_dir = str(tmp_path / "m")
  args = TINY + ["--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
                 "--model_dir=" + model_dir, "--train_epochs=3"]
  # Any real cycle takes longer than this budget: one cycle, then a stop.
  cycles = run_in_process(args + ["--max_train_minutes=0.0001"])
  assert len(cycles) == 1
  assert cycles[0]["run_seconds"] >= (cycles[0]["train_seconds"] +
                                      cycles[0]["eval_seconds"])
  # The same command with room left continues the remaining cycles.
  cycles = run_in_process(args + ["--max_train_minutes=60"])
  assert [c["cycle"] for c in cycles] == [1, 2, 3]
  assert read_state(model_dir)["cycles"][2]["global_step"] == 12


@pytest.mark.slow
def test_epochs_between_evals_trains_that_many_passes(tmp_path, corpus):
  # 16 utterances at batch 4: 4 steps per epoch. 3 epochs, 2 per cycle:
  # cycles of 2 and 1 epochs (the seed ran 3 // 2 = 1 cycle of one epoch).
  cycles = run_in_process(TINY + [
      "--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
      "--model_dir=" + str(tmp_path / "m"), "--train_epochs=3",
      "--epochs_between_evals=2"])
  assert [c["global_step"] for c in cycles] == [8, 12]


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


@pytest.mark.slow
def test_a_unidirectional_model_with_lookahead_trains_by_the_cli(tmp_path,
                                                                  corpus):
  from transcription import model as model_lib  # pylint: disable=g-import-not-at-top
  model_dir = str(tmp_path / "m")
  cycles = run_in_process(TINY + [
      "--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
      "--model_dir=" + model_dir, "--train_epochs=3",
      "--epochs_between_evals=1", "--is_bidirectional=false",
      "--lookahead_context=2", "--learning_rate=5e-3"])
  losses = [c["train_loss"] for c in cycles]
  assert len(losses) == 3 and losses[-1] < losses[0]
  checkpoint = tf.train.latest_checkpoint(model_dir)
  shapes = dict(tf.train.list_variables(checkpoint))
  assert shapes["lookahead/depthwise_kernel"] == [3, 16, 1]
  params = model_lib.infer_params(checkpoint)
  assert (params["lookahead_context"], params["is_bidirectional"]) == (2,
                                                                       False)
  # The same directory with another lookahead is refused in flag terms.
  with pytest.raises(ValueError, match="--lookahead_context"):
    run_in_process(TINY + [
        "--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
        "--model_dir=" + model_dir, "--train_epochs=4",
        "--is_bidirectional=false", "--lookahead_context=1"])


# --- --extra_eval_data_dir: more sets decoded after the dev set. ---

# A cycle record's keys without extra sets, as before they existed.
RECORD_KEYS = {"WER", "CER", "corpus_WER", "corpus_CER", "cycle",
               "global_step", "train_loss", "train_seconds", "eval_seconds",
               "run_seconds"}
METRIC_KEYS = ("WER", "CER", "corpus_WER", "corpus_CER")


def _messages(caplog):
  return [r.getMessage() for r in caplog.records]


def _two_sets(tmp_path):
  """A named extra set with one bad row, and one named by its path."""
  uqm = conftest.make_corpus(tmp_path / "uqm", num_utts=3, seed=2,
                             name="uqm")
  with open(uqm, "a") as f:
    f.write("%s\t100\thello\n" % (tmp_path / "uqm" / "gone.wav"))
  other = conftest.make_corpus(tmp_path / "other", num_utts=5, seed=3,
                               name="other-dev")
  return uqm, other


@pytest.mark.slow
def test_extra_eval_sets_are_logged_recorded_reported_and_summarized(
    tmp_path, caplog):
  train = conftest.make_corpus(tmp_path / "train", num_utts=8)
  uqm, other = _two_sets(tmp_path)
  model_dir = str(tmp_path / "model")
  flags_obj = parse(TINY + [
      "--train_data_dir=" + train, "--eval_data_dir=" + train,
      "--model_dir=" + model_dir, "--train_epochs=2",
      "--extra_eval_data_dir=uqm-dev=" + uqm,
      "--extra_eval_data_dir=" + other])
  caplog.set_level("INFO", logger="absl")
  cycles = deep_speech.run_deep_speech(flags_obj)
  assert read_state(model_dir)["cycles"] == cycles
  lines = _messages(caplog)
  events = read_events(os.path.join(model_dir, "eval"))
  for record in cycles:
    assert set(record) == RECORD_KEYS | {"extra_eval"}
    assert list(record["extra_eval"]) == ["uqm-dev", "other-dev"]
    # The dev set's line stays the seed's, once per cycle.
    assert [l for l in lines if l.startswith(
        "Iteration %d: WER" % record["cycle"])] == [
            "Iteration %d: WER = %.4f, CER = %.4f" % (
                record["cycle"], record["WER"], record["CER"])]
    for name, figures in record["extra_eval"].items():
      assert set(figures) == set(METRIC_KEYS)
      assert "Iteration %d [%s]: WER = %.4f, CER = %.4f" % (
          record["cycle"], name, figures["WER"], figures["CER"]) in lines
      steps_values = [(s, scalar(v)) for s, v in events[name + "/WER"]]
      assert (record["global_step"], pytest.approx(figures["WER"])) in (
          steps_values)
    with open(os.path.join(model_dir, "eval", "report-step-%d.json"
                           % record["global_step"])) as f:
      report = json.load(f)
    assert report["utterances"] == 8
    extra = report["extra_eval"]
    assert {n: (s["eval_data"], s["utterances"]) for n, s in extra.items()} \
        == {"uqm-dev": (uqm, 3), "other-dev": (other, 5)}
    for name, section in extra.items():
      assert list(section["decoders"]) == ["greedy"]
      assert section["decoders"]["greedy"]["WER"] == pytest.approx(
          record["extra_eval"][name]["WER"])
  for name in ("uqm-dev", "other-dev"):
    for key in METRIC_KEYS + ("samples", "spectrogram"):
      assert [s for s, _ in events["%s/%s" % (name, key)]] == [
          c["global_step"] for c in cycles]
  # The dev set alone picks the best checkpoint.
  with open(os.path.join(model_dir, "best", "best.json")) as f:
    assert json.load(f)["WER"] == min(c["WER"] for c in cycles)
  # The bad row is skipped and listed like a dev set's.
  with open(os.path.join(model_dir, "skipped_uqm.tsv")) as f:
    assert "gone.wav" in f.read()
  assert sorted(n for n in os.listdir(model_dir)
                if n.startswith("skipped_")) == ["skipped_uqm.tsv"]


@pytest.mark.slow
def test_without_extra_sets_the_record_logs_and_report_are_as_before(
    tmp_path, corpus, caplog):
  model_dir = str(tmp_path / "model")
  flags_obj = parse(TINY + [
      "--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
      "--model_dir=" + model_dir, "--train_epochs=1"])
  caplog.set_level("INFO", logger="absl")
  (record,) = deep_speech.run_deep_speech(flags_obj)
  assert set(record) == RECORD_KEYS
  assert set(read_state(model_dir)) == {"fingerprint", "base_step", "cycles"}
  assert read_state(model_dir)["cycles"] == [record]
  iteration_lines = [l for l in _messages(caplog)
                     if l.startswith("Iteration")]
  assert iteration_lines == [
      "Iteration 1: WER = %.4f, CER = %.4f" % (record["WER"], record["CER"]),
      "Iteration 1: corpus WER = %.4f, corpus CER = %.4f, mean train loss "
      "= %.4f" % (record["corpus_WER"], record["corpus_CER"],
                  record["train_loss"])]
  with open(os.path.join(model_dir, "eval", "latest.json")) as f:
    assert set(json.load(f)) == {"global_step", "checkpoint", "eval_data",
                                 "cycle", "utterances", "decoders"}
  assert set(read_events(os.path.join(model_dir, "eval"))) == set(
      METRIC_KEYS) | {"samples", "spectrogram", "spectrogram_transcript"}


def test_a_bad_extra_manifest_stops_the_run_before_training(tmp_path,
                                                            corpus, caplog):
  model_dir = tmp_path / "model"
  missing = str(tmp_path / "nowhere" / "dev.csv")
  parse(TINY + ["--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
                "--model_dir=" + str(model_dir), "--train_epochs=1",
                "--extra_eval_data_dir=real=" + missing])
  caplog.set_level("INFO", logger="absl")
  with pytest.raises(SystemExit) as exit_info:
    deep_speech.main([])
  assert exit_info.value.code == 1
  errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
  assert errors == ["--extra_eval_data_dir=real=%s: manifest not found: %s"
                    % (missing, missing)]
  # Nothing trained, nothing recorded.
  assert not model_dir.exists() or not [
      n for n in os.listdir(model_dir) if n.startswith(("model.ckpt",
                                                        "train_state"))]

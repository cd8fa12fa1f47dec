"""Tests for training/summaries.py: event files read back, a real TensorBoard."""

import numpy as np
import pytest
import tensorflow as tf

import deep_speech
from tests.helpers.events import read_events, scalar
from training import summaries

PARAMS = dict(num_classes=29, rnn_hidden_layers=1, rnn_type="gru",
              is_bidirectional=False, rnn_hidden_size=16, use_bias=True,
              learning_rate=3e-3)
# Two finished cycles as train_state.json records them.
CYCLES = [
    dict(cycle=1, global_step=4, WER=0.9, CER=0.55, corpus_WER=0.92,
         corpus_CER=0.5, train_loss=80.0),
    dict(cycle=2, global_step=8, WER=0.6, CER=0.3, corpus_WER=0.625,
         corpus_CER=0.28, train_loss=40.0),
]
METRIC_KEYS = ("WER", "CER", "corpus_WER", "corpus_CER")


def write_cycles(eval_dir, rng):
  spectrogram = rng.standard_normal((120, 161))
  for record in CYCLES:
    per_decoder = {"greedy": {k: record[k] for k in METRIC_KEYS},
                   "beam": {k: record[k] - 0.05 for k in METRIC_KEYS}}
    summaries.write_eval_summaries(
        eval_dir, record["global_step"],
        summaries.decoder_metrics(per_decoder),
        samples=[("the cat", "the cat"), ("a dog | bird", "a dg")],
        spectrogram=spectrogram, transcript="the cat")


def test_eval_summaries_hold_each_cycle_at_its_step(tmp_path):
  eval_dir = str(tmp_path / "model" / "eval")
  write_cycles(eval_dir, np.random.default_rng(0))
  events = read_events(eval_dir)
  for key in METRIC_KEYS:
    for tag, offset in ((key, 0.0), ("greedy/" + key, 0.0),
                        ("beam/" + key, -0.05)):
      assert [step for step, _ in events[tag]] == [4, 8], tag
      assert [scalar(v) for _, v in events[tag]] == pytest.approx(
          [c[key] + offset for c in CYCLES]), tag
  steps = [c["global_step"] for c in CYCLES]
  assert [s for s, _ in events["samples"]] == steps
  table = tf.make_ndarray(events["samples"][0][1].tensor).item().decode()
  assert table.splitlines()[2] == "| the cat | the cat |"
  assert table.splitlines()[3] == "| a dog \\| bird | a dg |"
  transcript = events["spectrogram_transcript"][0][1]
  assert tf.make_ndarray(transcript.tensor).item() == b"the cat"
  # An image summary is [width, height, encoded PNG].
  image = events["spectrogram"][1][1]
  assert events["spectrogram"][1][0] == 8
  width, height, png = tf.make_ndarray(image.tensor)
  assert (int(width), int(height)) == (120, 161)
  pixels = tf.io.decode_png(png).numpy()
  assert pixels.shape == (161, 120, 1) and pixels.std() > 20


def test_decoder_metrics_names_decoders_only_when_several():
  assert summaries.decoder_metrics({"greedy": {"WER": 0.5}}) == {"WER": 0.5}
  assert summaries.decoder_metrics(
      {"greedy": {"WER": 0.5}, "beam": {"WER": 0.4}}) == {
          "WER": 0.5, "greedy/WER": 0.5, "beam/WER": 0.4}
  with pytest.raises(ValueError, match="frames, bins"):
    summaries.spectrogram_image(np.zeros(5))


def test_eval_summaries_work_without_eager_execution(tmp_path):
  """A multi-worker run disables eager execution before evaluating."""
  with tf.Graph().as_default():
    assert not tf.executing_eagerly()
    summaries.write_eval_summaries(
        str(tmp_path), 7, {"WER": 0.25}, samples=[("a", "b")],
        spectrogram=np.random.default_rng(0).standard_normal((30, 161)),
        transcript="a")
  events = read_events(str(tmp_path))
  assert [(s, scalar(v)) for s, v in events["WER"]] == [(7, 0.25)]
  assert [s for s, _ in events["spectrogram"]] == [7]
  assert [s for s, _ in events["samples"]] == [7]


def _input_fn():
  rng = np.random.default_rng(0)
  features = {
      "features": rng.standard_normal((4, 60, 161, 1)).astype(np.float32),
      "input_length": np.array([[60]] * 4, np.int32),
      "label_length": np.array([[3]] * 4, np.int32),
  }
  labels = np.array([[3, 1, 20], [4, 15, 7], [3, 1, 20], [2, 9, 18]],
                    np.int32)
  return tf.data.Dataset.from_tensors((features, labels)).repeat()


def test_training_writes_learning_rate_gradient_norm_and_throughput(
    tmp_path):
  model_dir = str(tmp_path / "model")
  estimator = tf.estimator.Estimator(
      deep_speech.model_fn, model_dir=model_dir, params=PARAMS,
      config=tf.estimator.RunConfig(save_summary_steps=1, tf_random_seed=1,
                                    log_step_count_steps=1))
  hook = summaries.ExamplesPerSecondSummaryHook(4, model_dir,
                                                every_n_steps=2)
  estimator.train(_input_fn, hooks=[hook], max_steps=8)
  events = read_events(model_dir)
  # The Estimator tags its loss "loss_1": model_fn's loss tensor is "loss".
  loss_steps = [step for step, _ in events["loss_1"]]
  assert len(loss_steps) >= 7

  def values(tag):
    assert [step for step, _ in events[tag]] == loss_steps, tag
    return [v for _, v in events[tag]]

  assert values("learning_rate") == pytest.approx([3e-3] * len(loss_steps))
  norms = values("gradient_norm")
  assert all(np.isfinite(norms)) and min(norms) > 0
  losses = values("loss_1")
  assert losses[-1] < losses[0]
  throughput = events["examples/sec"]
  assert [step for step, _ in throughput] == [3, 5, 7]
  assert all(v > 0 for _, v in throughput)


def test_an_extra_sets_summaries_carry_its_name(tmp_path):
  eval_dir = str(tmp_path / "eval")
  summaries.write_eval_summaries(eval_dir, 4, {"WER": 0.5, "CER": 0.2},
                                 samples=[("a", "b")])
  summaries.write_eval_summaries(
      eval_dir, 4, summaries.decoder_metrics(
          {"greedy": {"WER": 0.9}, "beam": {"WER": 0.8}}),
      samples=[("c", "d")],
      spectrogram=np.random.default_rng(0).standard_normal((30, 161)),
      transcript="c", tag_prefix="uqm-dev")
  events = read_events(eval_dir)
  assert set(events) == {
      "WER", "CER", "samples", "uqm-dev/WER", "uqm-dev/greedy/WER",
      "uqm-dev/beam/WER", "uqm-dev/samples", "uqm-dev/spectrogram",
      "uqm-dev/spectrogram_transcript"}
  assert [(s, scalar(v)) for s, v in events["uqm-dev/beam/WER"]] == [
      (4, pytest.approx(0.8))]
  assert [(s, scalar(v)) for s, v in events["WER"]] == [(4, 0.5)]

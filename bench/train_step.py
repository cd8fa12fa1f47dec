"""Benchmark: one training step, the Estimator vs a Keras custom loop.

Trains the same DeepSpeech2 network two ways, in one process, on one fixed
in-memory batch (so no input pipeline is timed):
  * the Estimator: deep_speech.model_fn under tf.estimator.Estimator.train,
    in its own graph, with a hook recording each session.run;
  * a Keras custom training loop in eager TF2: the same layers and sizes
    written with tf.keras (zero padding + Conv2D + BatchNormalization twice,
    (bidirectional) RNNs with batch norm on all but the first layer's inputs,
    a final batch norm, Dense), CTC loss via tf.nn.ctc_loss, Adam, and a
    tf.function train step.
Both use the same learning rate, batch-norm settings, CTC input lengths
(deep_speech.compute_length_after_conv) and the C++ CTC kernel (sparse
labels, blank last), and the parameter counts are checked to be equal.

The two ways take turns step by step (a hook runs one Keras step after each
Estimator step), so load from other processes on a shared machine falls on
both alike. The first --warmup steps of each (graph optimization, tracing,
first allocations) are not timed; figures are medians over the timed steps,
and the ratio (Estimator steps/s over Keras steps/s) the median of the
per-step ratios. Audio seconds per second count the real audio in the batch
(padding excluded).

Each result also counts the step's useful FLOPs (convolutions, RNN and dense
matrix products, forward + backward; see step_flops) and divides their rate by
a float32 matrix product of the RNN's size timed in the same run
("fraction_of_sgemm"): how far the step is from this machine's limit.

Run from the repository root:

  .venv/bin/python bench/train_step.py           # default + small (minutes)
  .venv/bin/python bench/train_step.py --quick   # small only, quicker
  .venv/bin/python bench/train_step.py --configs small --steps 20
  .venv/bin/python bench/train_step.py --configs demo --batch_size 32 \
      --utt_sec 2.4 --num_bins 81                  # demo.sh's step

Each configuration prints a JSON line; the last line printed is one JSON
object with all of them under "results".
"""

import argparse
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings

import numpy as np
import tensorflow as tf
# Private, but the only way back to eager mode from inside an Estimator hook.
from tensorflow.python.eager import context  # pylint: disable=g-direct-tensorflow-import

# Runs as `python bench/train_step.py`: the project root holds deep_speech.py.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import cpu  # pylint: disable=g-import-not-at-top,wrong-import-position
from data import featurizer  # pylint: disable=g-import-not-at-top,wrong-import-position
import deep_speech  # pylint: disable=g-import-not-at-top,wrong-import-position
import deep_speech_model  # pylint: disable=g-import-not-at-top,wrong-import-position
import flops  # pylint: disable=g-import-not-at-top,wrong-import-position
import keras_twin  # pylint: disable=g-import-not-at-top,wrong-import-position

SAMPLE_RATE = 16000
NUM_BINS = 161
# " ", a-z, "'" and the CTC blank, last (data/vocabulary.txt).
NUM_CLASSES = 29
LEARNING_RATE = 5e-4
# LibriSpeech reads at about 14-15 characters per second.
CHARS_PER_SEC = 14

# Network sizes. "default" is deep_speech.py's flag defaults (62.7 M
# parameters), "small" the 3 x 256 model of the first convergence runs, and
# "tiny" exists for the smoke test.
CONFIGS = {
    "default": dict(rnn_hidden_layers=5, rnn_hidden_size=800),
    "small": dict(rnn_hidden_layers=3, rnn_hidden_size=256),
    "tiny": dict(rnn_hidden_layers=1, rnn_hidden_size=32),
    # demo.sh's network; time it with --batch_size 32 --utt_sec 2.4
    # --num_bins 81 (10 ms windows).
    "demo": dict(rnn_hidden_layers=3, rnn_hidden_size=256, conv_filters=16),
}




def model_params(config):
  """deep_speech.model_fn's params for a CONFIGS entry."""
  return dict(num_classes=NUM_CLASSES, rnn_type="gru", is_bidirectional=True,
              use_bias=True, learning_rate=LEARNING_RATE, **CONFIGS[config])


def make_batch(batch_size, utt_sec, seed, num_bins=NUM_BINS):
  """A padded batch like input_fn's, of utterances near `utt_sec` seconds.

  Features are random (timing does not depend on their values); lengths,
  padding and label lengths are realistic.

  Returns:
    (features dict, labels, audio seconds in the batch).
  """
  rng = np.random.RandomState(seed)
  seconds = rng.uniform(0.96 * utt_sec, utt_sec, size=batch_size)
  frames = [featurizer.num_frames(int(s * SAMPLE_RATE), SAMPLE_RATE)
            for s in seconds]
  max_frames = max(frames)
  features = np.zeros([batch_size, max_frames, num_bins, 1], np.float32)
  label_length = rng.randint(int(0.85 * CHARS_PER_SEC * utt_sec),
                             int(CHARS_PER_SEC * utt_sec) + 1, size=batch_size)
  labels = np.zeros([batch_size, label_length.max()], np.int32)
  for i, (n, k) in enumerate(zip(frames, label_length)):
    features[i, :n] = rng.standard_normal([n, num_bins, 1])
    # Any class but the blank (the last).
    labels[i, :k] = rng.randint(0, NUM_CLASSES - 1, size=k)
  batch = {
      "features": features,
      "input_length": np.array(frames, np.int32).reshape(-1, 1),
      "label_length": label_length.astype(np.int32).reshape(-1, 1),
  }
  return batch, labels, float(np.sum(seconds))


# The Estimator.


class _StepTimer(tf.estimator.SessionRunHook):
  """Records the wall time of each training session.run.

  After each step it calls `between_steps` (the Keras loop's step), so the
  two ways take turns step by step.
  """

  def __init__(self, between_steps):
    self.step_s = []
    self.setup_s = None
    self.params = None
    self._between_steps = between_steps
    # Until the first before_run: from train() to a ready session.
    self._start = time.perf_counter()

  def begin(self):
    self.params = int(sum(np.prod(v.shape.as_list())
                          for v in tf.compat.v1.trainable_variables()))

  def after_create_session(self, session, coord):
    self.setup_s = time.perf_counter() - self._start

  def before_run(self, run_context):
    self._start = time.perf_counter()

  def after_run(self, run_context, run_values):
    self.step_s.append(time.perf_counter() - self._start)
    # The hook runs inside the Estimator's graph; the Keras step is eager,
    # and reuses the function traced before the Estimator started.
    with context.eager_mode():
      self._between_steps()


def time_estimator(params, batch, labels, warmup, steps, model_dir,
                   between_steps):
  """Trains warmup + steps steps with the Estimator.

  Returns:
    (step seconds, seconds from train() to the session, parameters).
  """
  def input_fn():
    return tf.data.Dataset.from_tensors((batch, labels)).repeat()

  # No checkpoints, summaries or step logging: only the training step runs.
  config = tf.estimator.RunConfig(
      tf_random_seed=0, save_checkpoints_steps=None,
      save_checkpoints_secs=None, save_summary_steps=0,
      log_step_count_steps=None)
  estimator = tf.estimator.Estimator(
      model_fn=deep_speech.model_fn, model_dir=model_dir, config=config,
      params=params)
  timer = _StepTimer(between_steps)
  estimator.train(input_fn, steps=warmup + steps, hooks=[timer])
  return timer.step_s, timer.setup_s, timer.params


def bench_config(config, args, tmp):
  """Times one configuration both ways; returns its result dict.

  Each Estimator step is followed by one Keras step, so a burst of load from
  other processes on a shared machine hits both ways alike; the first
  `warmup` of each (and one Keras step before) are not timed. The ratio is the median of the per-pair
  ratios.
  """
  params = model_params(config)
  batch, labels, audio_s = make_batch(args.batch_size, args.utt_sec, args.seed,
                                      args.num_bins)

  # The RNN's input projection: [batch x output frames, 2 x hidden] times
  # [2 x hidden, 3 x hidden], the step's largest matrix product. Timed before
  # and after the steps; the better one stands for the machine's limit (on a
  # shared machine, load from other processes only lowers it).
  hidden = params["rnn_hidden_size"]
  sgemm_shape = (args.batch_size * deep_speech_model.conv_output_frames(
      batch["features"].shape[1]), 2 * hidden, 3 * hidden)
  sgemm_before = flops.sgemm_gflops(*sgemm_shape)
  tf.keras.utils.set_random_seed(args.seed)
  keras = keras_twin.KerasLoop(params, batch, labels)
  # Trace the Keras step before the Estimator makes Keras layers in its v1
  # graph: after that, Keras refuses to call a model it has not traced yet.
  keras.step()
  tf.keras.utils.set_random_seed(args.seed)
  est_steps, est_setup_s, est_params = time_estimator(
      params, batch, labels, args.warmup, args.steps,
      os.path.join(tmp, config), keras.step)

  est_timed = est_steps[args.warmup:]
  keras_timed = keras.step_s[1 + args.warmup:]
  est_step = statistics.median(est_timed)
  keras_step = statistics.median(keras_timed)
  ratio = statistics.median(k / e for k, e in zip(keras_timed, est_timed))
  frames = int(batch["features"].shape[1])
  step_flop = flops.step_flops(params, args.batch_size, frames,
                               args.num_bins)
  sgemm = max(sgemm_before, flops.sgemm_gflops(*sgemm_shape))
  return {
      "config": config,
      "rnn": "%dx%d bigru" % (params["rnn_hidden_layers"],
                              params["rnn_hidden_size"]),
      "params": est_params,
      "params_match": est_params == keras.params,
      "batch_size": args.batch_size,
      "frames": int(batch["features"].shape[1]),
      "batch_audio_s": round(audio_s, 2),
      "timed_steps": len(est_timed),
      "keras_traces": keras.train_step.experimental_get_tracing_count(),
      "estimator_steps_per_s": round(1.0 / est_step, 4),
      "keras_loop_steps_per_s": round(1.0 / keras_step, 4),
      "ratio": round(ratio, 3),
      "estimator_audio_s_per_s": round(audio_s / est_step, 2),
      "keras_loop_audio_s_per_s": round(audio_s / keras_step, 2),
      "estimator_step_s": round(est_step, 4),
      "keras_loop_step_s": round(keras_step, 4),
      "useful_gflop_per_step": round(step_flop / 1e9, 2),
      "estimator_useful_gflops": round(step_flop / est_step / 1e9, 2),
      "sgemm_gflops": round(sgemm, 2),
      "fraction_of_sgemm": round(step_flop / est_step / 1e9 / sgemm, 3),
      "onednn_custom_ops": cpu.onednn_enabled(),
      "estimator_step_s_range": [round(min(est_timed), 4),
                                 round(max(est_timed), 4)],
      "keras_loop_step_s_range": [round(min(keras_timed), 4),
                                  round(max(keras_timed), 4)],
      "estimator_setup_s": round(est_setup_s, 2),
      "estimator_first_step_s": round(est_steps[0], 2),
      "keras_build_s": round(keras.build_s, 2),
      "keras_first_step_s": round(keras.step_s[0], 2),
  }


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--configs", default=None,
                      help="Comma-separated names from %s (default: "
                      "default,small; small with --quick)." % sorted(CONFIGS))
  parser.add_argument("--steps", type=int, default=None,
                      help="Timed steps per configuration and way (default "
                      "10; 5 with --quick).")
  parser.add_argument("--warmup", type=int, default=None,
                      help="Untimed steps first (default 2; 1 with --quick).")
  parser.add_argument("--quick", action="store_true",
                      help="About a minute: the small configuration only, "
                      "fewer steps.")
  parser.add_argument("--batch_size", type=int, default=8)
  parser.add_argument("--utt_sec", type=float, default=5.0,
                      help="Utterance length: the batch holds utterances of "
                      "0.96-1.0 times this many seconds.")
  parser.add_argument("--num_bins", type=int, default=NUM_BINS,
                      help="Spectrogram bins: 161 (20 ms windows) or 81 "
                      "(the demo's 10 ms).")
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args(argv)
  if args.configs is None:
    args.configs = "small" if args.quick else "default,small"
  if args.steps is None:
    args.steps = 5 if args.quick else 10
  if args.warmup is None:
    args.warmup = 1 if args.quick else 2
  args.configs = args.configs.split(",")
  unknown = [c for c in args.configs if c not in CONFIGS]
  if unknown:
    parser.error("unknown config(s) %s; choose from %s" % (
        unknown, sorted(CONFIGS)))
  if args.steps < 1 or args.warmup < 1:
    parser.error("--steps and --warmup must be at least 1")
  return args


def main(argv=None):
  args = parse_args(argv)
  cpu.enable_onednn_if_unset()
  # The Estimator and tf.compat.v1.layers log deprecation notices per layer.
  tf.get_logger().setLevel(logging.ERROR)
  warnings.filterwarnings("ignore", category=UserWarning)
  print("%d CPUs, TensorFlow %s, GPUs: %d; batch %d x ~%.1f s; %d warm-up + "
        "%d timed steps each" % (
            os.cpu_count(), tf.__version__,
            len(tf.config.list_physical_devices("GPU")), args.batch_size,
            args.utt_sec, args.warmup, args.steps))
  tmp = tempfile.mkdtemp(prefix="bench_train_step_")
  results = []
  try:
    for config in args.configs:
      start = time.perf_counter()
      result = bench_config(config, args, tmp)
      results.append(result)
      print("%s (%s, %.1f M params): Estimator %.3f s/step, Keras loop %.3f "
            "s/step, ratio %.2f; %.1f useful GFLOP/s = %.0f%% of a %.1f "
            "GFLOP/s sgemm; %.1f s in all" % (
                config, result["rnn"], result["params"] / 1e6,
                result["estimator_step_s"], result["keras_loop_step_s"],
                result["ratio"], result["estimator_useful_gflops"],
                100 * result["fraction_of_sgemm"], result["sgemm_gflops"],
                time.perf_counter() - start))
      print(json.dumps(result))
  finally:
    shutil.rmtree(tmp, ignore_errors=True)
  print(json.dumps({"cpus": os.cpu_count(), "results": results}))
  return 0 if all(r["params_match"] for r in results) else 1


if __name__ == "__main__":
  raise SystemExit(main())

"""Fits `make demo` into its time budget on this machine.

The demo was tuned on a fast CPU (2 cores with AVX512_BF16); a 2-core AVX2
CPU takes several times as long per training step, even with oneDNN's
custom operations on, and synthesizes several times slower
(docs/benchmarks.md). So demo.sh asks this
script first: it times a few training steps of the demo's network on a
synthetic batch (as deep_speech.py would run them: same dtype, oneDNN on
unless TF_ENABLE_ONEDNN_OPTS is set) and a few utterances of every voice
synthesized with the corpus's code (their CPU time), predicts the
demo's minutes, and keeps the tuned corpus size and epochs where they fit,
adding epochs (up to 12) where time is left over; elsewhere it trades
epochs first (down to 3), then training utterances.

  python scripts/demo_plan.py --dtype=fp32 --minutes=23

Prints what it measured and chose, and why, on stderr; its last stdout line
is `NUM_TRAIN=<n> EPOCHS=<e> PLAN_<STAGE>_S=<seconds>...` for demo.sh to
evaluate: the stages' planned seconds, which demo.sh prints beside the actual
ones at the end, and whose after-training part it keeps free of training
(deep_speech.py --max_train_minutes), so that the epoch count is corrected
from the real epochs while the demo runs.
"""

import functools
import math
import os
import statistics
import sys
import tempfile
import time

from absl import app
from absl import flags
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The demo's tuned settings (docs/benchmarks.md: the 20-minute convergence
# runs).
TUNED_NUM_TRAIN = 12000
TUNED_EPOCHS = {"fp32": 6, "bf16": 7}
MIN_EPOCHS = 3
# Every curve of docs/benchmarks.md's 20-minute runs was still falling at
# its last epoch, so time left over goes to more passes over the tuned
# corpus, up to this many.
MAX_EPOCHS = 12
MIN_NUM_TRAIN = 2000
# The demo's configuration, shared with demo.sh and the benchmarks.
DEMO_FLAGS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "demo.flags")
# A synthesized utterance: ~2.4 s of audio, ~34 characters.
UTT_SEC = 2.4
# Seconds of 2-core synthesis per utterance when the engines are missing (the
# demo then installs them or stops): bench/synthesis.py's CPU time per
# utterance on the AVX512_BF16/AMX kind (docs/benchmarks.md), over 2 cores.
# Otherwise it is measured.
DEFAULT_SYNTHESIS_S = 0.03
# Costs besides synthesis and the bare step, estimated from the demo's own
# runs where it was tuned (docs/benchmarks.md has the figures):
# conversion and the feature cache per utterance, data/download.py and the
# LM build, the trainer's start (graph builds), evaluating the dev set with
# both decoders after each epoch, and after training the export, the LM
# tuning, the evaluation with the tuned LM and the transcriptions. A real
# step costs more than the timed one, which leaves out the input pipeline
# (augmentation, batching) and checkpoint writes: EPOCH_OVERHEAD scales it.
PREPARE_S_PER_UTT = 0.005
PREPARE_S = 15.0
TRAIN_START_S = 15.0
EVAL_S_PER_EPOCH = 8.0
EPOCH_OVERHEAD = 1.3
AFTER_TRAINING_S = 60.0
# The real-speech corpus (REAL_SPEECH=1): its rows, their mean length, and
# its fetch and conversion (estimated where the demo was tuned).
REAL_ROWS = 6690
REAL_UTT_SEC = 4.7
REAL_PREPARE_S = 150.0
STAGES = ("synthesis", "real_speech", "preparation", "training",
          "after_training")


def predict_stages(num_train, epochs, step_s, synth_s_per_utt, real_rows=0):
  """The demo's predicted seconds per stage (a dict keyed by STAGES).

  `real_rows` real-speech training rows add their fetch and conversion and,
  longer than synthesized ones, steps in proportion to their length.
  """
  batch_size = int(read_flagfile(DEMO_FLAGS)["batch_size"])
  steps = epochs * (math.ceil(num_train / batch_size) +
                    math.ceil(real_rows / batch_size) * REAL_UTT_SEC / UTT_SEC)
  return {
      "synthesis": num_train * synth_s_per_utt,
      "real_speech": REAL_PREPARE_S if real_rows else 0.0,
      "preparation": PREPARE_S + num_train * PREPARE_S_PER_UTT,
      "training": (TRAIN_START_S + steps * step_s * EPOCH_OVERHEAD +
                   epochs * EVAL_S_PER_EPOCH),
      "after_training": AFTER_TRAINING_S,
  }


def predict_minutes(num_train, epochs, step_s, synth_s_per_utt, real_rows=0):
  """The demo's predicted wall minutes for a corpus size and epoch count."""
  return sum(predict_stages(num_train, epochs, step_s, synth_s_per_utt,
                            real_rows).values()) / 60.0


def choose(step_s, synth_s_per_utt, minutes, dtype, real_rows=0):
  """Corpus size and epochs that fit `minutes`, and the reason.

  Keeps the tuned settings where they fit, with more epochs (up to
  MAX_EPOCHS) where those fit too; otherwise lowers the epochs to
  MIN_EPOCHS (more distinct sentences generalize better than more passes
  over fewer; docs/benchmarks.md), then the corpus, in
  steps of 500 utterances, to MIN_NUM_TRAIN.

  Returns:
    (num_train, epochs, reason).
  """
  num_train, epochs = TUNED_NUM_TRAIN, TUNED_EPOCHS[dtype]
  fits = lambda n, e: predict_minutes(n, e, step_s, synth_s_per_utt,
                                      real_rows) <= minutes
  if fits(num_train, epochs):
    tuned_epochs = epochs
    while epochs < MAX_EPOCHS and fits(num_train, epochs + 1):
      epochs += 1
    if epochs == tuned_epochs:
      return num_train, epochs, "the tuned settings fit"
    return num_train, epochs, ("the tuned corpus fits with time for %d more "
                               "epochs" % (epochs - tuned_epochs))
  while epochs > MIN_EPOCHS and not fits(num_train, epochs):
    epochs -= 1
  if fits(num_train, epochs):
    return num_train, epochs, "fewer epochs fit the tuned corpus"
  while num_train > MIN_NUM_TRAIN and not fits(num_train, epochs):
    num_train -= 500
  reason = "%d epochs of a smaller corpus fit" % epochs
  if not fits(num_train, epochs):
    reason = ("even the smallest plan takes %.0f minutes here: this machine "
              "is too slow for the demo's budget" % predict_minutes(
                  num_train, epochs, step_s, synth_s_per_utt, real_rows))
  return num_train, epochs, reason


@functools.lru_cache(maxsize=None)
def read_flagfile(path):
  """{flag name: value string} of an absl flagfile (comments skipped)."""
  values = {}
  with open(path, encoding="utf-8") as f:
    for line in f:
      line = line.strip()
      if line.startswith("--") and "=" in line:
        name, value = line[2:].split("=", 1)
        values[name] = value
  return values


def time_step(dtype, steps=3):
  """Median seconds of the demo network's training step (batch 32 x 2.4 s).

  Imports TensorFlow here, after oneDNN's switch is set, as deep_speech.py's
  main would.
  """
  from common import cpu  # pylint: disable=g-import-not-at-top
  cpu.enable_onednn_if_unset()
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import deep_speech  # pylint: disable=g-import-not-at-top
  from official_utils.flags import core as flags_core  # pylint: disable=g-import-not-at-top
  tf.get_logger().setLevel("ERROR")
  rng = np.random.RandomState(0)
  config = read_flagfile(DEMO_FLAGS)
  batch = int(config["batch_size"])
  # The seed's framing: a 10 ms stride (100 frames per second), and
  # window * rate / 2 + 1 frequency bins.
  frames, chars = int(UTT_SEC * 100), int(UTT_SEC * 14)
  bins = int(float(config["window_ms"]) * 16000 / 1000) // 2 + 1
  params = dict(num_classes=29, rnn_type="gru", is_bidirectional=True,
                use_bias=True,
                rnn_hidden_layers=int(config["rnn_hidden_layers"]),
                rnn_hidden_size=int(config["rnn_hidden_size"]),
                conv_filters=int(config["conv_filters"]),
                learning_rate=float(config["learning_rate"]),
                dtype=flags_core.DTYPE_MAP[dtype], loss_scale="dynamic")
  with tf.Graph().as_default():
    features = {
        "features": tf.constant(rng.standard_normal(
            [batch, frames, bins, 1]).astype(np.float32)),
        "input_length": tf.fill([batch, 1], frames),
        "label_length": tf.fill([batch, 1], chars),
    }
    labels = tf.constant(rng.randint(0, 28, [batch, chars]), tf.int32)
    spec = deep_speech.model_fn(features, labels, tf.estimator.ModeKeys.TRAIN,
                                params)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      session.run(spec.train_op)
      times = []
      for _ in range(steps):
        start = time.perf_counter()
        session.run(spec.train_op)
        times.append(time.perf_counter() - start)
  return statistics.median(times)


def time_synthesis(per_voice=4):
  """Seconds of 2-core synthesis per corpus utterance, or None without tools.

  Synthesizes, for every voice, one utterance and then `per_voice` (>= 2)
  more with the corpus's own code (one batch each, as data/sample_corpus.py
  runs them) and charges them the CPU time of this process and of the
  engines and sox it ran. The first batch loads the voice (a one-time cost
  for the corpus); festival also starts once per batch (as costly as several
  of its utterances), which the corpus pays once per
  `runner.FESTIVAL_BATCH` utterances, so its
  per-utterance cost is the difference between the two batches. The costs
  are weighted by the voices' shares of the corpus and spread over the
  cores. Charging 4 utterances per voice their start-up and first loads
  instead overestimated the corpus's time by more than half
  (docs/benchmarks.md).
  """
  if per_voice < 2:
    raise ValueError("per_voice must be at least 2, not %d" % per_voice)
  import random  # pylint: disable=g-import-not-at-top
  import resource  # pylint: disable=g-import-not-at-top
  from data.synthesis import runner  # pylint: disable=g-import-not-at-top
  from data.synthesis import voices  # pylint: disable=g-import-not-at-top
  try:
    tools = voices.find_tools()
  except voices.MissingDependencyError:
    return None
  rng = random.Random(0)
  # The demo's sentences average ~34 characters (~2.4 s of speech).
  text = "she was able to program her computer"
  shares = voices.corpus_shares()
  cpu = lambda: sum(getattr(resource.getrusage(who), field)
                    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                    for field in ("ru_utime", "ru_stime"))
  seconds = 0.0
  with tempfile.TemporaryDirectory() as tmp:
    for i, voice in enumerate(voices.VOICES):
      speaker = voices.make_speaker(9000 + i, voice, rng)
      costs = []
      for count in (1, per_voice):
        items = [(os.path.join(tmp, "%d-%d-%d.flac" % (i, count, j)), text,
                  voices.make_style(rng)) for j in range(count)]
        start = cpu()
        runner.synthesize_batch([(speaker, items)], tools)
        costs.append(cpu() - start)
      if voice.engine == "festival":
        # Both batches paid a start; the difference is per_voice - 1
        # utterances.
        per_utterance = max(0.0, costs[1] - costs[0]) / (per_voice - 1)
        start_up = max(0.0, costs[0] - per_utterance)
        per_utterance += start_up / runner.FESTIVAL_BATCH
      else:  # One process per utterance, started warm the second time.
        per_utterance = costs[1] / per_voice
      seconds += per_utterance * shares[voice.key]
  return seconds / max(1, len(os.sched_getaffinity(0)))


def define_flags():
  flags.DEFINE_enum("dtype", "fp32", sorted(TUNED_EPOCHS), "The demo's "
                    "--dtype.")
  flags.DEFINE_float("minutes", 23.0, "demo.sh's budget (make demo's 25 "
                     "minutes less the virtual environment and Debian "
                     "packages).", lower_bound=1.0)
  flags.DEFINE_integer("steps", 3, "Training steps timed (their median "
                       "counts).", lower_bound=1)
  flags.DEFINE_bool("real_speech", False, "Plan for the real-speech corpus "
                    "too (demo.sh's REAL_SPEECH=1).")
  flags.DEFINE_integer("real_rows", 0, "Its training rows (0: all).",
                       lower_bound=0)


def main(argv):
  if len(argv) > 1:
    sys.exit("demo_plan.py: error: unexpected arguments %s"
             % " ".join(argv[1:]))
  flags_obj = flags.FLAGS
  start = time.perf_counter()
  step_s = time_step(flags_obj.dtype, flags_obj.steps)
  measured_synth_s = time_synthesis()
  synth_s = (measured_synth_s if measured_synth_s is not None
             else DEFAULT_SYNTHESIS_S)
  # The plan's own minute or so comes out of the budget.
  minutes = flags_obj.minutes - (time.perf_counter() - start) / 60
  real_rows = 0
  if flags_obj.real_speech:
    real_rows = flags_obj.real_rows or REAL_ROWS
  num_train, epochs, reason = choose(step_s, synth_s, minutes,
                                     flags_obj.dtype, real_rows)
  tuned = predict_minutes(TUNED_NUM_TRAIN, TUNED_EPOCHS[flags_obj.dtype],
                          step_s, synth_s, real_rows)
  stages = predict_stages(num_train, epochs, step_s, synth_s, real_rows)
  print("demo plan: training step %.2f s (--dtype=%s, batch %d x %.1f s, "
        "measured), synthesis ~%.3f s per utterance (%s); tuned "
        "settings (%d utterances, %d epochs) would take ~%.0f min; chose %d "
        "utterances, %d epochs (~%.0f of %.0f min): %s. [plan took %.0f s]" % (
            step_s, flags_obj.dtype, int(read_flagfile(DEMO_FLAGS)[
                "batch_size"]), UTT_SEC, synth_s,
            "measured" if measured_synth_s is not None else
            "engines missing, assumed",
            TUNED_NUM_TRAIN, TUNED_EPOCHS[flags_obj.dtype], tuned, num_train,
            epochs, sum(stages.values()) / 60, minutes, reason,
            time.perf_counter() - start), file=sys.stderr)
  print("NUM_TRAIN=%d EPOCHS=%d %s" % (num_train, epochs, " ".join(
      "PLAN_%s_S=%d" % (stage.upper(), round(stages[stage]))
      for stage in STAGES)))


if __name__ == "__main__":
  define_flags()
  app.run(main)

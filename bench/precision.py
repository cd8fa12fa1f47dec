"""Benchmark: the training step in float32 vs mixed precision (--dtype).

Builds deep_speech.model_fn's training graph once per compute dtype, on one
fixed in-memory batch (no input pipeline), in one process, and times the
session.run of each train_op. The dtypes take turns step by step, so load
from other processes falls on all alike; the first --warmup steps of each are
not timed and figures are medians. Also reports each dtype's loss after the
timed steps, so a precision that trains badly shows.

bfloat16 is fast only where the hardware has it (CPUs with AVX512_BF16 or
AMX, recent GPUs); elsewhere oneDNN emulates it and it is slower than
float32. float16 is meant for GPUs.

Run from the repository root:

  .venv/bin/python bench/precision.py                  # the demo's model
  .venv/bin/python bench/precision.py --dtypes float32,bfloat16 --batch_size 64

The last line printed is one JSON object with every figure.
"""

import argparse
import json
import os
import statistics
import sys
import time

import tensorflow as tf

# Runs as `python bench/precision.py`: the project root holds deep_speech.py.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import cpu  # pylint: disable=g-import-not-at-top,wrong-import-position
import deep_speech  # pylint: disable=g-import-not-at-top,wrong-import-position
import train_step  # pylint: disable=g-import-not-at-top,wrong-import-position
from training import runtime  # pylint: disable=g-import-not-at-top,wrong-import-position

# demo.sh's network (its MODEL_FLAGS).
DEMO_PARAMS = dict(num_classes=train_step.NUM_CLASSES, rnn_type="gru",
                   is_bidirectional=True, use_bias=True, rnn_hidden_layers=3,
                   rnn_hidden_size=256, conv_filters=16, learning_rate=1.5e-3)


class _Trainer(object):
  """model_fn's train_op for one dtype, in its own graph and session."""

  def __init__(self, dtype, batch, labels, num_bins):
    self.graph = tf.Graph()
    with self.graph.as_default():
      tf.compat.v1.set_random_seed(0)
      features = {k: tf.constant(v) for k, v in batch.items()}
      features["features"] = features["features"][:, :, :num_bins]
      spec = deep_speech.model_fn(
          features, tf.constant(labels), tf.estimator.ModeKeys.TRAIN,
          dict(DEMO_PARAMS, dtype=dtype, loss_scale="dynamic"))
      self.train_op, self.loss = spec.train_op, spec.loss
      self.session = tf.compat.v1.Session(graph=self.graph)
      self.session.run(tf.compat.v1.global_variables_initializer())
    self.step_s = []

  def step(self):
    start = time.perf_counter()
    self.session.run(self.train_op)
    self.step_s.append(time.perf_counter() - start)

  def final_loss(self):
    return float(self.session.run(self.loss))


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--dtypes", default="float32,bfloat16",
                      help="comma-separated: float32, bfloat16, float16")
  parser.add_argument("--batch_size", type=int, default=32)
  parser.add_argument("--utt_sec", type=float, default=2.5,
                      help="utterance length (the sample corpus: 2.4 s)")
  parser.add_argument("--num_bins", type=int, default=81,
                      help="81: the demo's 10 ms windows; 161: 20 ms")
  parser.add_argument("--steps", type=int, default=15)
  parser.add_argument("--warmup", type=int, default=3)
  args = parser.parse_args()

  cpu.enable_onednn_if_unset()
  tf.compat.v1.disable_eager_execution()
  batch, labels, audio_s = train_step.make_batch(args.batch_size,
                                                 args.utt_sec, seed=0)
  dtypes = args.dtypes.split(",")
  skipped = {}
  if ("bfloat16" in dtypes and
      not runtime.bfloat16_supported()):
    dtypes.remove("bfloat16")
    skipped["bfloat16"] = "TensorFlow cannot run it on this machine"
    print("bfloat16 left out: TensorFlow cannot run bfloat16 convolutions "
          "here (oneDNN's custom operations need AVX512 for them; "
          "TF_ENABLE_ONEDNN_OPTS=0 emulates them)", flush=True)
  bfloat16_native = "bfloat16" in dtypes and cpu.bfloat16_native()
  if "bfloat16" in dtypes and not bfloat16_native:
    print(cpu.bfloat16_emulation_warning(), flush=True)
  trainers = {d: _Trainer(d, batch, labels, args.num_bins) for d in dtypes}
  for _ in range(args.warmup + args.steps):
    for trainer in trainers.values():
      trainer.step()
  results = {}
  for dtype, trainer in trainers.items():
    step_s = statistics.median(trainer.step_s[args.warmup:])
    results[dtype] = {"step_s": round(step_s, 4),
                      "ms_per_utterance": round(1000 * step_s /
                                                args.batch_size, 2),
                      "audio_s_per_s": round(audio_s / step_s, 1),
                      "loss_after": round(trainer.final_loss(), 3)}
    print(json.dumps(dict(results[dtype], dtype=dtype)), flush=True)
  base = results.get("float32")
  if base:
    for figures in results.values():
      figures["speedup_vs_float32"] = round(
          base["step_s"] / figures["step_s"], 2)
  print(json.dumps({"batch_size": args.batch_size, "utt_sec": args.utt_sec,
                    "num_bins": args.num_bins, "steps": args.steps,
                    "cpu_count": os.cpu_count(),
                    "onednn_custom_ops": cpu.onednn_enabled(),
                    "bfloat16_native": bfloat16_native, "results": results,
                    "skipped": skipped}))


if __name__ == "__main__":
  main()

"""Benchmark: where one training step's time goes, per TensorFlow op type.

Builds deep_speech.model_fn's float32 training graph for demo.sh's network on
one fixed in-memory batch (no input pipeline), runs --warmup steps, then
traces --traced steps with TensorFlow's full trace (RunMetadata step stats)
and sums each op's compute time by op type (Conv2DBackpropFilter, MatMul,
the GRU's While loop body ops, ...). On a CPU, ops of one step run on
several threads at once, so the shares are of summed op time, not of wall
time. Run it with and without oneDNN's custom operations to see what they
change:

  .venv/bin/python bench/profile_step.py
  TF_ENABLE_ONEDNN_OPTS=0 .venv/bin/python bench/profile_step.py
  ONEDNN_MAX_CPU_ISA=AVX2 .venv/bin/python bench/profile_step.py  # AVX2 code

The last line printed is one JSON object with every figure.
"""

import argparse
import collections
import json
import os
import statistics
import sys
import time

import tensorflow as tf

# Runs as `python bench/profile_step.py`: the project root holds deep_speech.py.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import cpu  # pylint: disable=g-import-not-at-top,wrong-import-position
import deep_speech  # pylint: disable=g-import-not-at-top,wrong-import-position
import train_step  # pylint: disable=g-import-not-at-top,wrong-import-position


def op_times(step_stats, op_types):
  """Sums op compute time in step stats by op type.

  Args:
    step_stats: a StepStats proto from RunMetadata.
    op_types: {node name: op type} of the graph (ops inside functions and
      loops keep their own names; unknown ones count under their name's
      last part).

  Returns:
    {op type: microseconds}.
  """
  totals = collections.Counter()
  for device in step_stats.dev_stats:
    if "/host:CPU" in device.device or "stream" in device.device:
      continue
    for node in device.node_stats:
      name = node.node_name.split(":")[0]
      kind = op_types.get(name) or node.timeline_label.split("=")[-1].split(
          "(")[0].strip() or name.split("/")[-1]
      totals[kind] += node.op_end_rel_micros - node.op_start_rel_micros
  return totals


def _parse_args():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--config", default="demo",
                      choices=sorted(train_step.CONFIGS))
  parser.add_argument("--batch_size", type=int, default=32)
  parser.add_argument("--utt_sec", type=float, default=2.4)
  parser.add_argument("--num_bins", type=int, default=81)
  parser.add_argument("--warmup", type=int, default=2)
  parser.add_argument("--steps", type=int, default=5,
                      help="untraced timed steps (for the step time)")
  parser.add_argument("--traced", type=int, default=2)
  parser.add_argument("--top", type=int, default=12)
  return parser.parse_args()


def profile(batch, labels, params, warmup, steps, traced):
  """Runs model_fn's training step on one fixed batch in a graph session.

  Returns:
    (the untraced steps' seconds, a Counter {op type: microseconds} summed
    over the `traced` steps).
  """
  with tf.Graph().as_default() as graph:
    tf.compat.v1.set_random_seed(0)
    features = {k: tf.constant(v) for k, v in batch.items()}
    spec = deep_speech.model_fn(features, tf.constant(labels),
                                tf.estimator.ModeKeys.TRAIN, params)
    op_types = {op.name: op.type for op in graph.get_operations()}
    for function in graph.as_graph_def().library.function:
      op_types.update({n.name: n.op for n in function.node_def})
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      for _ in range(warmup):
        session.run(spec.train_op)
      step_s = []
      for _ in range(steps):
        start = time.perf_counter()
        session.run(spec.train_op)
        step_s.append(time.perf_counter() - start)
      totals = collections.Counter()
      options = tf.compat.v1.RunOptions(
          trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
      for _ in range(traced):
        metadata = tf.compat.v1.RunMetadata()
        session.run(spec.train_op, options=options, run_metadata=metadata)
        totals.update(op_times(metadata.step_stats, op_types))
  return step_s, totals


def main():
  args = _parse_args()
  cpu.enable_onednn_if_unset()
  tf.compat.v1.disable_eager_execution()
  batch, labels, _ = train_step.make_batch(args.batch_size, args.utt_sec, 0,
                                           args.num_bins)
  params = dict(train_step.model_params(args.config), dtype="float32")
  step_s, totals = profile(batch, labels, params, args.warmup, args.steps,
                           args.traced)
  all_us = sum(totals.values())
  top = [[kind, round(us / args.traced / 1e6, 4), round(us / all_us, 3)]
         for kind, us in totals.most_common(args.top)]
  step = statistics.median(step_s)
  print("%s, batch %d x %.1f s, %d bins; oneDNN custom ops %s; ONEDNN_MAX_"
        "CPU_ISA=%s: %.3f s/step (median of %d)" % (
            args.config, args.batch_size, args.utt_sec, args.num_bins,
            "on" if cpu.onednn_enabled() else "off",
            os.environ.get("ONEDNN_MAX_CPU_ISA", "(unset)"), step,
            len(step_s)))
  for kind, seconds, share in top:
    print("  %-32s %7.3f s of op time per step  %5.1f%%" % (
        kind, seconds, 100 * share))
  print(json.dumps({
      "config": args.config, "batch_size": args.batch_size,
      "utt_sec": args.utt_sec, "num_bins": args.num_bins,
      "onednn_custom_ops": cpu.onednn_enabled(),
      "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"),
      "cpu_count": os.cpu_count(), "step_s": round(step, 4),
      "step_s_all": [round(s, 4) for s in step_s],
      "op_seconds_per_step": round(all_us / args.traced / 1e6, 4),
      "top_ops": top}))


if __name__ == "__main__":
  main()

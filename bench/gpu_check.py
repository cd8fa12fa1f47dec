"""Checks a GPU machine end to end: devices, cuDNN RNNs, precisions, training.

Run it first on a new GPU machine (through bench/gpu_check.sh). In one
process it reports:
  1. TensorFlow's view of the GPUs (names, compute capability, the CUDA and
     cuDNN versions TensorFlow was built with);
  2. whether the GRU layers ran on cuDNN's kernels: a fully traced training
     step of deep_speech.model_fn, searched for CudnnRNN ops;
  3. step time and loss of the seed's 5 x 800 network at batch 64 in
     float32, float16 (dynamic loss scaling) and bfloat16;
  4. a few hundred steps of a small network through deep_speech.py on a
     corpus of synthesized "syllables" (bench/speech_like.make_corpus: no text
     to speech needed), checking that the loss fell, then an export that
     transcribe.py reads and transcribes.
Meant to take minutes on one GPU (never measured there). Without a GPU it
runs a reduced CPU mode (tiny network and corpus) and says so in its output
("mode": "cpu").

  bench/gpu_check.sh                # what users run
  .venv/bin/python bench/gpu_check.py --mode=cpu --tiny   # the test's mode

The last line printed is one JSON object with every finding.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import tensorflow as tf

# Runs as `python bench/gpu_check.py`: the project root holds deep_speech.py.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import deep_speech  # pylint: disable=g-import-not-at-top,wrong-import-position
import train_step  # pylint: disable=g-import-not-at-top,wrong-import-position
import speech_like  # pylint: disable=g-import-not-at-top,wrong-import-position
from training import runtime  # pylint: disable=g-import-not-at-top,wrong-import-position

DTYPES = runtime.DTYPES


def devices():
  """TensorFlow's view of the GPUs and of its own CUDA build."""
  build = tf.sysconfig.get_build_info()
  gpus = []
  for gpu in tf.config.list_physical_devices("GPU"):
    details = tf.config.experimental.get_device_details(gpu)
    gpus.append({"name": gpu.name, "device_name": details.get("device_name"),
                 "compute_capability": details.get("compute_capability")})
  return {"tensorflow": tf.__version__,
          "built_with_cuda": tf.test.is_built_with_cuda(),
          "cuda_version": build.get("cuda_version"),
          "cudnn_version": build.get("cudnn_version"), "gpus": gpus}


def traced_kernels(session, fetch):
  """Runs `fetch` once fully traced; returns the kernels that ran, per device.

  Returns:
    {device: sorted op/kernel labels} from the RunMetadata step stats.
  """
  options = tf.compat.v1.RunOptions(
      trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
  metadata = tf.compat.v1.RunMetadata()
  session.run(fetch, options=options, run_metadata=metadata)
  kernels = {}
  for device in metadata.step_stats.dev_stats:
    labels = kernels.setdefault(device.device, set())
    for node in device.node_stats:
      labels.add(node.node_name)
      labels.add(node.timeline_label)
  return kernels


def time_dtype(dtype, config, batch, labels, warmup, steps, trace):
  """Times model_fn's train_op in `dtype`; returns a result dict."""
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(0)
    features = {k: tf.constant(v) for k, v in batch.items()}
    params = dict(train_step.model_params(config), dtype=dtype,
                  loss_scale="dynamic")
    spec = deep_speech.model_fn(features, tf.constant(labels),
                                tf.estimator.ModeKeys.TRAIN, params)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      result = {}
      if trace:
        kernels = traced_kernels(session, spec.train_op)
        cudnn = sorted({label.split("=")[-1].split("(")[0].strip()
                        for labels in kernels.values() for label in labels
                        if re.search(r"cudnnrnn", label, re.I)})
        result["cudnn_rnn_ops"] = cudnn[:8]
        result["gpu_ops"] = sum(len(v) for d, v in kernels.items()
                                if "gpu" in d.lower())
      for _ in range(warmup):
        session.run(spec.train_op)
      step_s, losses = [], []
      for _ in range(steps):
        start = time.perf_counter()
        _, loss = session.run([spec.train_op, spec.loss])
        step_s.append(time.perf_counter() - start)
        losses.append(float(loss))
  result.update(step_s=round(statistics.median(step_s), 4),
                loss_first=round(losses[0], 3), loss_last=round(losses[-1], 3))
  return result


def precisions(args, mode):
  """Step time and loss per dtype; the float32 run is traced for cuDNN."""
  batch, labels, _ = train_step.make_batch(args.batch_size, args.utt_sec, 0)
  results, skipped = {}, {}
  for dtype in DTYPES:
    if dtype == "bfloat16" and not runtime.bfloat16_supported():
      skipped[dtype] = "TensorFlow cannot run bfloat16 here"
      continue
    if dtype == "float16" and mode == "cpu":
      skipped[dtype] = "float16 is for GPUs"
      continue
    if dtype != "float32" and args.tiny:
      skipped[dtype] = "left out with --tiny"
      continue
    print("gpu_check: %s step of the %s network, batch %d..." % (
        dtype, args.config, args.batch_size), flush=True)
    results[dtype] = time_dtype(dtype, args.config, batch, labels,
                                args.warmup, args.steps,
                                trace=dtype == "float32")
  return results, skipped


def train_small(args, tmp, mode):
  """Trains a small network with deep_speech.py, exports and transcribes."""
  train = speech_like.make_corpus(os.path.join(tmp, "data"), args.train_utts,
                               seed=0, max_words=2)
  dev = speech_like.make_corpus(os.path.join(tmp, "data"), 8, seed=1,
                             max_words=2, name="dev")
  model_dir, export_dir = os.path.join(tmp, "model"), os.path.join(tmp, "exp")
  cmd = [sys.executable, "deep_speech.py", "--train_data_dir=" + train,
         "--eval_data_dir=" + dev, "--model_dir=" + model_dir,
         "--export_dir=" + export_dir, "--train_epochs=%d" % args.train_epochs,
         # Two cycles: their mean training losses show the fall.
         "--epochs_between_evals=%d" % (args.train_epochs // 2),
         "--batch_size=%d" % args.train_batch_size, "--rnn_hidden_layers=2",
         "--rnn_hidden_size=%d" % args.train_hidden, "--conv_filters=16",
         "--learning_rate=2e-3", "--show_samples=0",
         "--num_gpus=%d" % (1 if mode == "gpu" else 0)]
  print("gpu_check: training %d utterances for %d epochs..." % (
      args.train_utts, args.train_epochs), flush=True)
  start = time.perf_counter()
  proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
  result = {"train_s": round(time.perf_counter() - start, 1),
            "train_ok": proc.returncode == 0}
  if proc.returncode:
    result["train_error"] = proc.stderr[-1500:]
    return result
  with open(os.path.join(model_dir, "train_state.json")) as f:
    cycles = json.load(f)["cycles"]
  losses = [c.get("train_loss") for c in cycles]
  result.update(train_losses=[round(x, 3) for x in losses if x is not None],
                global_step=cycles[-1]["global_step"])
  result["loss_fell"] = bool(losses[-1] < losses[0])
  exports = sorted(os.listdir(export_dir))
  proc = subprocess.run(
      [sys.executable, "transcribe.py",
       "--saved_model=" + os.path.join(export_dir, exports[-1]),
       "--manifest=" + dev, "--num=8"], cwd=ROOT, capture_output=True,
      text=True)
  rates = re.search(r"WER ([\d.]+), CER ([\d.]+)", proc.stdout)
  result["transcribe_ok"] = proc.returncode == 0 and rates is not None
  if rates:
    result.update(dev_wer=float(rates.group(1)), dev_cer=float(rates.group(2)))
  else:
    result["transcribe_error"] = (proc.stdout + proc.stderr)[-1500:]
  return result


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--mode", choices=("auto", "gpu", "cpu"), default="auto")
  parser.add_argument("--tiny", action="store_true",
                      help="the smallest settings (the test's CPU mode)")
  args = parser.parse_args(argv)
  has_gpu = bool(tf.config.list_physical_devices("GPU"))
  mode = args.mode if args.mode != "auto" else ("gpu" if has_gpu else "cpu")
  if mode == "gpu":
    settings = dict(config="default", batch_size=64, utt_sec=5.0, warmup=3,
                    steps=10, train_utts=512, train_epochs=10,
                    train_batch_size=16, train_hidden=128)
  elif not args.tiny:
    settings = dict(config="small", batch_size=8, utt_sec=2.0, warmup=1,
                    steps=3, train_utts=64, train_epochs=6,
                    train_batch_size=8, train_hidden=64)
  else:
    settings = dict(config="tiny", batch_size=2, utt_sec=1.0, warmup=1,
                    steps=2, train_utts=16, train_epochs=2,
                    train_batch_size=4, train_hidden=32)
  for key, value in settings.items():
    setattr(args, key, value)
  return args, mode, has_gpu


def main(argv=None):
  args, mode, has_gpu = parse_args(argv)
  tf.get_logger().setLevel("ERROR")
  tf.compat.v1.disable_eager_execution()
  start = time.perf_counter()
  report = {"mode": mode, "devices": devices()}
  if mode == "cpu":
    report["note"] = ("no GPU used: a reduced CPU mode (%s network); the "
                      "figures say nothing about GPUs" % args.config)
    print("gpu_check: " + report["note"], flush=True)
  elif not has_gpu:
    raise SystemExit("gpu_check: --mode=gpu, but TensorFlow sees no GPU "
                     "(devices: %s)" % json.dumps(report["devices"]))
  results, skipped = precisions(args, mode)
  report["precision"] = {"config": args.config, "batch_size": args.batch_size,
                         "utt_sec": args.utt_sec, "results": results,
                         "skipped": skipped}
  traced = results.get("float32", {})
  report["cudnn_rnn_used"] = bool(traced.get("cudnn_rnn_ops"))
  tmp = tempfile.mkdtemp(prefix="gpu_check_")
  try:
    report["training"] = train_small(args, tmp, mode)
  finally:
    shutil.rmtree(tmp, ignore_errors=True)
  training = report["training"]
  report["ok"] = bool(training.get("loss_fell") and
                      training.get("transcribe_ok") and
                      (mode == "cpu" or report["cudnn_rnn_used"]))
  report["seconds"] = round(time.perf_counter() - start, 1)
  print(json.dumps(report))
  return 0 if report["ok"] else 1


if __name__ == "__main__":
  raise SystemExit(main())

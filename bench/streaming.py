"""Speed of streaming transcription on one core: real-time factor, latency.

    python bench/streaming.py [--audio_sec=60 --chunk_ms=20,100,500]
                              [--model_dir=DIR] [--lm_path=ARPA]

Builds a checkpoint of the demo's network (scripts/demo.flags: its RNN
layers, units, conv filters and window; unidirectional, with
--lookahead_context) from one training step on random input, since the
speed does not depend on the weights (or measures --model_dir), records
running normalization, pins the process to one CPU and TensorFlow to one
intra- and one inter-op thread, and streams speech-like audio
(bench/speech_like.py) through transcription/streaming.py in chunks of each
--chunk_ms, on a simulated clock: chunk k arrives at (k + 1) x chunk, and is
fed once it has arrived and the one before is done; the stream's end is
`finish()` right after the last chunk. Per chunk size it reports:

  rtf               compute seconds per second of audio (feed and finish)
  final_latency_ms  from the audio's end to the final transcript
  first_partial_ms  from the stream's start to the first partial: the first
                    output frame's text (the network's own lookahead,
                    latency_ms, included; an untrained network's text is
                    empty, its timing the same)

With --endpoint_silence_sec the streams are endpointed (the network then
takes 40 ms at a time). With --lm_path the stream decodes with the LM beam
search (--beam_width, --alpha, --beta); an untrained model gives it little
to weigh, so give a trained --model_dir for that figure. The last line is one JSON object.
"""

import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

DEMO_FLAGS = os.path.join(ROOT, "scripts", "demo.flags")
# The demo's network flags, and deep_speech.py's defaults for those the
# flagfile leaves out.
NETWORK_FLAGS = {"rnn_hidden_layers": "5", "rnn_hidden_size": "800",
                 "rnn_type": "gru", "conv_filters": "32", "window_ms": "20"}


def demo_network(lookahead_context):
  """(params, window_ms): the demo's network, unidirectional."""
  sys.path.insert(0, os.path.dirname(DEMO_FLAGS))
  import demo_plan  # pylint: disable=g-import-not-at-top
  flags = dict(NETWORK_FLAGS, **{
      k: v for k, v in demo_plan.read_flagfile(DEMO_FLAGS).items()
      if k in NETWORK_FLAGS})
  params = {"num_classes": 29, "rnn_hidden_layers":
            int(flags["rnn_hidden_layers"]), "rnn_type": flags["rnn_type"],
            "is_bidirectional": False,
            "rnn_hidden_size": int(flags["rnn_hidden_size"]),
            "conv_filters": int(flags["conv_filters"]), "use_bias": True,
            "learning_rate": 1e-3, "dtype": "float32",
            "lookahead_context": lookahead_context}
  return params, int(flags["window_ms"])


def build_model(directory, params, window_ms):
  """A training directory of `params` after one step on random input."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import deep_speech  # pylint: disable=g-import-not-at-top
  from data import vocabulary  # pylint: disable=g-import-not-at-top
  from training import export  # pylint: disable=g-import-not-at-top
  bins = window_ms * 16 // 2 + 1  # FFT bins of a window at 16 kHz
  rng = np.random.default_rng(0)

  def input_fn():
    return tf.data.Dataset.from_tensors((
        {"features": rng.standard_normal((2, 100, bins, 1)).astype("f4"),
         "input_length": np.array([[100], [100]], np.int32),
         "label_length": np.array([[5], [5]], np.int32)},
        np.ones((2, 5), np.int32))).repeat()

  model_dir = os.path.join(directory, "model")
  tf.estimator.Estimator(deep_speech.model_fn, model_dir=model_dir,
                         params=params).train(input_fn, steps=1)
  labels = "".join(vocabulary.read_tokens(vocabulary.VOCABULARY_FILE))
  with open(os.path.join(model_dir, export.EXPORT_SETTINGS_FILE), "w") as f:
    json.dump({"sample_rate": 16000, "window_ms": window_ms, "stride_ms": 10,
               "speech_labels": labels,
               "feature_normalization": "running"}, f)
  return model_dir


def speech(seconds):
  """int16 [n] speech-like audio at 16 kHz, `seconds` long."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  from bench import speech_like  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(0)
  pieces, total = [], 0
  while total < seconds * 16000:
    words = " ".join(rng.choice(speech_like.WORDS, 6))
    pieces += [speech_like.synthesize(words, rng), np.zeros(4000, np.float32)]
    total += pieces[-2].shape[0] + 4000
  samples = np.concatenate(pieces)[:int(seconds * 16000)]
  return (np.clip(samples, -1, 1) * 32767).astype(np.int16)


def run_stream(transcriber, samples, chunk_ms, endpoint_silence_sec=None):
  """One stream on the simulated clock; its figures (see the docstring)."""
  chunk = 16 * chunk_ms
  clock = 0.0  # when the stream is done with what arrived so far
  compute = 0.0
  first_partial = None
  for start in range(0, samples.shape[0], chunk):
    piece = samples[start:start + chunk]
    arrived = (start + piece.shape[0]) / 16000.0
    began = time.perf_counter()
    if start == 0:
      stream = transcriber.start(endpoint_silence_sec=endpoint_silence_sec)
    stream.feed(piece)
    spent = time.perf_counter() - began
    compute += spent
    clock = max(clock, arrived) + spent
    if first_partial is None and stream.probabilities().shape[0]:
      first_partial = clock
  began = time.perf_counter()
  final = stream.finish()
  spent = time.perf_counter() - began
  compute += spent
  audio_sec = samples.shape[0] / 16000.0
  clock = max(clock, audio_sec) + spent
  return {"chunk_ms": chunk_ms, "audio_sec": round(audio_sec, 2),
          "rtf": round(compute / audio_sec, 4),
          "final_latency_ms": round(1000 * (clock - audio_sec), 1),
          "first_partial_ms": (None if first_partial is None else
                               round(1000 * first_partial, 1)),
          "final_words": len(final.text.split())}


def pin_to_one_cpu():
  """Pins this process to one CPU it may run on; returns that CPU or None."""
  if not hasattr(os, "sched_setaffinity"):
    return None
  cpu = min(os.sched_getaffinity(0))
  os.sched_setaffinity(0, {cpu})
  return cpu


def parse_args():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--audio_sec", type=float, default=60.0)
  parser.add_argument("--chunk_ms", default="20,100,500",
                      help="comma-separated chunk sizes, in ms")
  parser.add_argument("--lookahead_context", type=int, default=2,
                      help="the built network's lookahead, in output frames")
  parser.add_argument("--rnn_hidden_size", type=int,
                      help="instead of the demo's (the smoke test's tiny "
                      "network)")
  parser.add_argument("--model_dir", help="a unidirectional training "
                      "directory to measure instead of random weights")
  parser.add_argument("--lm_path", help="decode with this n-gram's beam "
                      "search (else greedy)")
  parser.add_argument("--endpoint_silence_sec", type=float,
                      help="stream with endpointing (fed 40 ms at a time)")
  parser.add_argument("--beam_width", type=int, default=100)
  parser.add_argument("--alpha", type=float, default=0.5)
  parser.add_argument("--beta", type=float, default=1.0)
  return parser.parse_args()


def main():
  args = parse_args()
  # One core: the CPU mask first, so that every thread pool sized from it
  # (OpenMP, oneDNN) is one thread wide too.
  cpu = pin_to_one_cpu()
  os.environ.setdefault("OMP_NUM_THREADS", "1")
  from common import cpu as cpu_lib  # pylint: disable=g-import-not-at-top
  cpu_lib.enable_onednn_if_unset()
  import decoder  # pylint: disable=g-import-not-at-top
  from transcription import streaming  # pylint: disable=g-import-not-at-top
  params, window_ms = demo_network(args.lookahead_context)
  if args.rnn_hidden_size:
    params["rnn_hidden_size"] = args.rnn_hidden_size
  figures = {"cpu": cpu_lib.cpu_kind(), "pinned_cpu": cpu, "threads": 1,
             "machine": "shared with other jobs",
             "model": args.model_dir or (
                 "random %d x %d uni%s, %d conv filters, window_ms %d, "
                 "lookahead %d" % (params["rnn_hidden_layers"],
                                   params["rnn_hidden_size"],
                                   params["rnn_type"].upper(),
                                   params["conv_filters"], window_ms,
                                   params["lookahead_context"])),
             "decoder": "beam, LM %s" % args.lm_path if args.lm_path
                        else "greedy",
             "endpoint_silence_sec": args.endpoint_silence_sec, "runs": []}
  with tempfile.TemporaryDirectory() as directory:
    model_dir = args.model_dir or build_model(directory, params, window_ms)
    transcriber = streaming.StreamingTranscriber(model_dir, tf_threads=1)
    if args.lm_path:
      transcriber.decoder = decoder.make_decoder(
          "beam", transcriber.settings.labels, beam_width=args.beam_width,
          lm_path=args.lm_path, alpha=args.alpha, beta=args.beta)
    figures["latency_ms"] = round(1000 * transcriber.latency_sec, 1)
    samples = speech(args.audio_sec)
    # Warm-up: the graph's first runs, oneDNN's kernels.
    run_stream(transcriber, samples[:16000], 100, args.endpoint_silence_sec)
    for chunk_ms in [int(c) for c in args.chunk_ms.split(",")]:
      run = run_stream(transcriber, samples, chunk_ms,
                       args.endpoint_silence_sec)
      figures["runs"].append(run)
      print("chunk %4d ms: RTF %.4f, final %6.1f ms after the audio's end, "
            "first partial at %s ms" % (
                chunk_ms, run["rtf"], run["final_latency_ms"],
                run["first_partial_ms"]), flush=True)
  print("CPU: %s, pinned to CPU %s, one TensorFlow thread; the network sees "
        "%.0f ms ahead; the machine was shared with other jobs."
        % (figures["cpu"], cpu, figures["latency_ms"]))
  print(json.dumps(figures))


if __name__ == "__main__":
  main()

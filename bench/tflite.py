"""Speed and memory of a SavedModel against its TFLite exports.

    python bench/tflite.py [--audio_sec=60] [--threads=1,2]
                           [--variants=savedmodel,float32,float16,int8]
                           [--modes=offline,stream]
                           [--rnn_hidden_layers=3 --rnn_hidden_size=256
                            --conv_filters=16]

Exports an untrained unidirectional model (one training step on random
input: the speed does not depend on the weights; by default the demo's
network made unidirectional: 3 x 256 GRU, 16 conv filters, a lookahead of
2, 10 ms windows) as a SavedModel and, with transcription/tflite_export.py,
as float32, float16 and int8 .tflite files; writes speech-like audio
(bench/speech_like.py) of --audio_sec seconds; then runs each variant, mode
and thread count in a fresh process pinned to that many CPUs:

  offline: transcribe.py's pipeline over the file (greedy; chunks of at
    most 20 s, batches of 16 for the SavedModel: a .tflite runs one chunk
    at a time);
  stream: streaming.StreamingTranscriber fed 100 ms pieces as fast as it
    takes them (the SavedModel's variables in the TensorFlow streaming
    network).

Reports the real-time factor (seconds of audio per second, after loading
and a 2 s warm-up), the load time, and the process's peak RSS (VmHWM: what
ru_maxrss would say of the process alone; Linux carries ru_maxrss across
exec, and the parent trained and converted the model), beside that of a
process that only imports the modules (TensorFlow among them:
tf.lite.Interpreter comes with it). Last line: one JSON object.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench import transcribe as transcribe_bench  # pylint: disable=g-import-not-at-top,wrong-import-position

VARIANTS = ("savedmodel", "float32", "float16", "int8")
MODES = ("offline", "stream")
# 100 ms of 16 kHz audio: a live source's usual piece.
STREAM_PIECE = 1600


def export_models(directory, args, variants):
  """An untrained unidirectional export and the .tflite files `variants`
  name.

  Returns:
    {variant: the export directory or the .tflite file}.
  """
  from transcription import tflite_export  # pylint: disable=g-import-not-at-top
  params = dict(transcribe_bench.PARAMS, is_bidirectional=False,
                lookahead_context=args.lookahead_context,
                rnn_hidden_layers=args.rnn_hidden_layers,
                rnn_hidden_size=args.rnn_hidden_size,
                conv_filters=args.conv_filters)
  models = {"savedmodel": transcribe_bench.export_model(
      directory, params, dict(transcribe_bench.SETTINGS,
                              feature_normalization="running"))}
  for quantize in [v for v in variants if v != "savedmodel"]:
    models[quantize] = os.path.join(directory, quantize + ".tflite")
    tflite_export.export_tflite(models["savedmodel"], models[quantize],
                                quantize)
  return models


def write_audio(path, seconds):
  """`seconds` of speech-like 16 kHz audio (sentences with pauses)."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  from bench import speech_like  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(0)
  words = ("the quick brown fox jumps over a lazy dog while seven silver "
           "swans swim").split()
  pieces, total = [], 0
  while total < seconds * speech_like.SAMPLE_RATE:
    text = " ".join(rng.choice(words, 6))
    pieces.append(speech_like.synthesize(text, rng))
    pieces.append(np.zeros(speech_like.SAMPLE_RATE // 2))
    total += pieces[-2].shape[0] + pieces[-1].shape[0]
  audio = np.concatenate(pieces)[:int(seconds * speech_like.SAMPLE_RATE)]
  speech_like.write_wav(path, 0.3 * audio / np.abs(audio).max())
  return path


def _load(variant, mode, threads, model):
  """The loaded model or streaming transcriber of a case."""
  from transcription import model as model_lib  # pylint: disable=g-import-not-at-top
  from transcription import streaming  # pylint: disable=g-import-not-at-top
  from transcription import tflite_model  # pylint: disable=g-import-not-at-top
  if mode == "stream":
    return streaming.StreamingTranscriber(model, num_threads=threads)
  if variant == "savedmodel":
    return model_lib.ExportedModel(model, None)
  return tflite_model.TFLiteModel(model, threads)


def _transcribe(loaded, mode, path):
  """The text of `path` (offline: the pipeline; stream: 100 ms pieces)."""
  import soundfile  # pylint: disable=g-import-not-at-top
  import decoder  # pylint: disable=g-import-not-at-top
  from transcription import pipeline  # pylint: disable=g-import-not-at-top
  if mode == "stream":
    samples, _ = soundfile.read(path, dtype="float32")
    stream = loaded.start()
    for begin in range(0, samples.shape[0], STREAM_PIECE):
      stream.feed(samples[begin:begin + STREAM_PIECE])
    return stream.finish().text
  transcriber = pipeline.Transcriber(
      loaded, decoder.make_decoder("greedy", loaded.settings.labels),
      time_reduction=4, max_chunk_sec=20.0, batch_size=16)
  (result,) = list(transcriber.transcribe([path]))
  assert result.error is None, result.error
  return result.transcript.text


def run_case(variant, mode, threads, model, audio, warmup):
  """One case in this process (pinned to `threads` CPUs); its figures.

  `warmup` is transcribed first, untimed: TensorFlow optimizes a graph on
  its first run. Variant "baseline" loads nothing: the memory of the
  imports alone.
  """
  if hasattr(os, "sched_setaffinity"):
    cpus = sorted(os.sched_getaffinity(0))[:threads]
    os.sched_setaffinity(0, cpus)
  import soundfile  # pylint: disable=g-import-not-at-top
  import tensorflow  # pylint: disable=g-import-not-at-top,unused-import
  from transcription import streaming  # pylint: disable=g-import-not-at-top,unused-import
  from transcription import pipeline  # pylint: disable=g-import-not-at-top,unused-import
  figures = {"variant": variant, "mode": mode, "threads": threads}
  if variant != "baseline":
    start = time.perf_counter()
    loaded = _load(variant, mode, threads, model)
    figures["load_sec"] = round(time.perf_counter() - start, 2)
    _transcribe(loaded, mode, warmup)
    start = time.perf_counter()
    text = _transcribe(loaded, mode, audio)
    seconds = time.perf_counter() - start
    audio_sec = soundfile.info(audio).duration
    figures.update(audio_sec=round(audio_sec, 1), seconds=round(seconds, 3),
                   rtf=round(audio_sec / seconds, 1), chars=len(text))
  figures["peak_rss_mb"] = round(transcribe_bench.peak_rss_kb() / 1024.0, 1)
  return figures


def _child(case):
  """Runs `case` in a fresh process; its figures."""
  child = subprocess.run(
      [sys.executable, os.path.abspath(__file__), "--case=" +
       json.dumps(case)], capture_output=True, text=True, check=False)
  if child.returncode:
    sys.exit("bench/tflite.py: the case %s failed:\n%s"
             % (case[:3], child.stderr[-3000:]))
  return json.loads(child.stdout.strip().splitlines()[-1])


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--audio_sec", type=float, default=60.0)
  parser.add_argument("--threads", default="1,2")
  parser.add_argument("--variants", default=",".join(VARIANTS))
  parser.add_argument("--modes", default=",".join(MODES))
  parser.add_argument("--rnn_hidden_layers", type=int, default=3)
  parser.add_argument("--rnn_hidden_size", type=int, default=256)
  parser.add_argument("--conv_filters", type=int, default=16)
  parser.add_argument("--lookahead_context", type=int, default=2)
  parser.add_argument("--case", help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.case:  # a child: one case, one JSON line
    print(json.dumps(run_case(*json.loads(args.case))))
    return
  variants = args.variants.split(",")
  modes = args.modes.split(",")
  unknown = sorted(set(variants) - set(VARIANTS)) + sorted(
      set(modes) - set(MODES))
  if unknown:
    sys.exit("bench/tflite.py: unknown variant or mode %s" % unknown[0])
  threads = [int(n) for n in args.threads.split(",")]
  figures = {"cpu": transcribe_bench.cpu_kind(),
             "machine": "shared with other jobs",
             "model": "untrained %d x %d unidirectional GRU, lookahead %d, "
                      "%d conv filters, window_ms 10" % (
                          args.rnn_hidden_layers, args.rnn_hidden_size,
                          args.lookahead_context, args.conv_filters),
             "audio": "speech-like, %g s" % args.audio_sec, "cases": []}
  with tempfile.TemporaryDirectory() as directory:
    models = export_models(directory, args, variants)
    figures["file_mb"] = {q: round(os.path.getsize(models[q]) / 1e6, 2)
                          for q in variants if q != "savedmodel"}
    audio = write_audio(os.path.join(directory, "audio.wav"), args.audio_sec)
    warmup = write_audio(os.path.join(directory, "warmup.wav"), 2.0)
    figures["baseline"] = _child(["baseline", "offline", 1, None, None,
                                  None])
    print("imports alone: peak RSS %.0f MB"
          % figures["baseline"]["peak_rss_mb"])
    for mode in modes:
      for variant in variants:
        for n in threads:
          result = _child([variant, mode, n, models[variant], audio, warmup])
          figures["cases"].append(result)
          print("%-7s %-10s %d thread%s: %6.1fx real time, load %5.2f s, "
                "peak RSS %4.0f MB" % (
                    mode, variant, n, " " if n == 1 else "s", result["rtf"],
                    result["load_sec"], result["peak_rss_mb"]))
  print("files (MB): %s" % ", ".join(
      "%s %.2f" % item for item in figures["file_mb"].items()))
  print("CPU: %s; the machine was shared with other jobs." % figures["cpu"])
  print(json.dumps(figures))


if __name__ == "__main__":
  main()

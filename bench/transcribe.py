"""Speed of transcribe.py's pipeline: real-time factor and peak memory.

    python bench/transcribe.py [--short_files=20 --short_sec=5 --long_min=10]
                               [--lm_path=4gram.arpa --beam_width=100]
                               [--model_dir=DEMO_MODEL --audio_dir=DEV_AUDIO]

Exports an untrained model of the demo's configuration (3 x 256 BiGRU, 16
conv filters, 10 ms windows: the speed does not depend on the weights) into
a temporary directory, writes speech-like test audio (44.1 kHz stereo for
the long file, so resampling is included), and transcribes it with
transcription.pipeline in a fresh process per case: short files, and one
long file whose peak RSS is the process's. Reports seconds of audio per
second (real-time factor) for the greedy decoder and for the beam search
with a word 4-gram (--lm_path, or one built here by decoding/lm.py from the
sample corpus's sentences, data/synthesis/text.py). Last line: one JSON
object.

An untrained model's outputs cost a beam search little (few competing
words), so for the LM figure give a trained one: --model_dir (a training
directory of deep_speech.py, e.g. the demo's, read-only) and --audio_dir
(real speech, e.g. the demo's dev utterances: the short files are its first
--short_files files, the long file their concatenation up to --long_min).
"""

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

PARAMS = {"num_classes": 29, "rnn_hidden_layers": 3, "rnn_type": "gru",
          "is_bidirectional": True, "rnn_hidden_size": 256,
          "conv_filters": 16, "use_bias": True, "learning_rate": 1e-3,
          "dtype": "float32"}
SETTINGS = {"sample_rate": 16000, "window_ms": 10, "stride_ms": 10}


def export_model(directory, params=None, settings=None):
  """An untrained export (one step on random input): the demo's configuration
  unless `params` (model_fn's) and `settings` (the recorded featurizer
  settings, 10 ms windows) say otherwise."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import deep_speech  # pylint: disable=g-import-not-at-top
  from data import vocabulary  # pylint: disable=g-import-not-at-top
  from training import export  # pylint: disable=g-import-not-at-top
  bins = 81  # 10 ms at 16 kHz
  rng = np.random.default_rng(0)

  def input_fn():
    return tf.data.Dataset.from_tensors((
        {"features": rng.standard_normal((2, 200, bins, 1)).astype("f4"),
         "input_length": np.array([[200], [200]], np.int32),
         "label_length": np.array([[5], [5]], np.int32)},
        np.ones((2, 5), np.int32))).repeat()

  estimator = tf.estimator.Estimator(
      deep_speech.model_fn, model_dir=os.path.join(directory, "model"),
      params=params or PARAMS)
  estimator.train(input_fn, steps=1)
  labels = "".join(vocabulary.read_tokens(vocabulary.VOCABULARY_FILE))
  settings_path = os.path.join(directory, export.EXPORT_SETTINGS_FILE)
  with open(settings_path, "w") as f:
    json.dump(dict(settings or SETTINGS, speech_labels=labels), f)
  return estimator.export_saved_model(
      os.path.join(directory, "export"),
      functools.partial(export.serving_input_receiver_fn, bins),
      assets_extra={export.EXPORT_SETTINGS_FILE: settings_path}).decode()


def build_lm(directory, num_sentences):
  """A word 4-gram of the sample corpus's sentences (decoding/lm.py)."""
  from decoding import lm  # pylint: disable=g-import-not-at-top
  from data.synthesis import text  # pylint: disable=g-import-not-at-top
  missing = text.missing_text_packages()
  if missing:
    sys.exit("bench/transcribe.py: building the LM needs the Debian text "
             "packages %s (apt-get install); or give --lm_path"
             % " ".join(missing))
  sentences = text.load_sentences()[:num_sentences]
  path = os.path.join(directory, "4gram.arpa")
  lm.build_arpa(sentences, 4, path)
  return path


def write_audio(directory, short_files, short_sec, long_min):
  """Short 16 kHz mono WAVs and one long 44.1 kHz stereo FLAC."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import soundfile  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(0)

  def speech_like(seconds, rate):
    t = np.arange(int(seconds * rate)) / rate
    envelope = (np.sin(2 * np.pi * 0.7 * t) > -0.3).astype(np.float32)
    tone = np.sin(2 * np.pi * (150 + 50 * np.sin(t)) * t)
    return (0.2 * envelope * tone +
            0.005 * rng.standard_normal(t.shape[0])).astype(np.float32)

  short = []
  for i in range(short_files):
    short.append(os.path.join(directory, "short_%03d.wav" % i))
    soundfile.write(short[-1], speech_like(short_sec, 16000), 16000)
  long_path = os.path.join(directory, "long.flac")
  with soundfile.SoundFile(long_path, "w", 44100, 2) as f:
    # 10 s at a time, at least once: a shorter --long_min wrote an empty
    # file that no reader accepts.
    for _ in range(max(1, int(round(long_min * 6)))):
      block = speech_like(10, 44100)
      f.write(np.stack([block, block], axis=1))
  return short, long_path


def write_real_audio(directory, audio_dir, short_files, long_min):
  """The first audio files of `audio_dir` and a 44.1 kHz stereo FLAC of
  them all, repeated up to `long_min` minutes (with 0.5 s pauses)."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  import soundfile  # pylint: disable=g-import-not-at-top
  import soxr  # pylint: disable=g-import-not-at-top
  from transcription import inputs  # pylint: disable=g-import-not-at-top
  files = sorted(inputs.find_audio(audio_dir))
  if not files:
    sys.exit("bench/transcribe.py: no audio file in %s" % audio_dir)
  long_path = os.path.join(directory, "long.flac")
  seconds = 0.0
  with soundfile.SoundFile(long_path, "w", 44100, 2) as f:
    while seconds < long_min * 60:
      for path in files:
        samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
        block = soxr.resample(samples.mean(axis=1), rate, 44100)
        block = np.concatenate([block, np.zeros(22050, np.float32)])
        f.write(np.stack([block, block], axis=1))
        seconds += len(block) / 44100.0
        if seconds >= long_min * 60:
          break
  return files[:short_files], long_path


def run_case(model, paths, options):
  """Transcribes `paths` in this process; returns its figures.

  Args:
    model: ["export", directory] or ["model_dir", directory].
    paths: audio files.
    options: decoder.make_decoder's arguments after the labels ("kind",
      and for the beam "beam_width", "lm_path", "alpha", "beta").
  """
  import decoder  # pylint: disable=g-import-not-at-top
  import deep_speech_model  # pylint: disable=g-import-not-at-top
  from data import featurizer  # pylint: disable=g-import-not-at-top
  from transcription import model as model_lib  # pylint: disable=g-import-not-at-top
  from transcription import pipeline  # pylint: disable=g-import-not-at-top
  from data import vocabulary  # pylint: disable=g-import-not-at-top
  kind, directory = model
  if kind == "export":
    model = model_lib.ExportedModel(directory, None)
  else:  # the demo's settings; the checkpoint is checked against them
    labels = "".join(vocabulary.read_tokens(vocabulary.VOCABULARY_FILE))
    model = model_lib.CheckpointModel(directory, model_lib.Settings(
        featurizer.AudioFeaturizer.from_record(SETTINGS), labels))
  options = dict(options)
  dec = decoder.make_decoder(options.pop("kind"), model.settings.labels,
                             **options)
  transcriber = pipeline.Transcriber(
      model, dec, time_reduction=deep_speech_model.TIME_REDUCTION,
      max_chunk_sec=20.0, batch_size=16)
  start = time.perf_counter()
  audio_sec = 0.0
  for result in transcriber.transcribe(paths):
    assert result.error is None, result.error
    audio_sec += result.transcript.duration
  seconds = time.perf_counter() - start
  return {"audio_sec": round(audio_sec, 1), "seconds": round(seconds, 2),
          "rtf": round(audio_sec / seconds, 1),
          "peak_rss_mb": round(peak_rss_kb() / 1024.0, 1)}


def peak_rss_kb():
  """This process's peak RSS since it started (VmHWM).

  Not getrusage's ru_maxrss: Linux carries that across exec, so a child
  would report its parent's peak (here the LM build and the export).
  """
  with open("/proc/self/status") as f:
    for line in f:
      if line.startswith("VmHWM:"):
        return int(line.split()[1])
  return 0


def cpu_kind():
  """common/cpu.py's CPU kind, with the core count."""
  from common import cpu  # pylint: disable=g-import-not-at-top
  return "%s, %d cores" % (cpu.cpu_kind(), os.cpu_count())


def _parse_args():
  import decoder  # pylint: disable=g-import-not-at-top
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--short_files", type=int, default=20)
  parser.add_argument("--short_sec", type=float, default=5.0)
  parser.add_argument("--long_min", type=float, default=10.0)
  parser.add_argument("--lm_path", help="an ARPA or KenLM binary n-gram "
                      "(default: a 4-gram built here)")
  parser.add_argument("--lm_sentences", type=int, default=20000,
                      help="sentences of the 4-gram built without --lm_path")
  parser.add_argument("--beam_width", type=int,
                      default=decoder.DEFAULT_BEAM_WIDTH)
  parser.add_argument("--alpha", type=float, default=0.5)
  parser.add_argument("--beta", type=float, default=1.0)
  parser.add_argument("--model_dir", help="a training directory to measure "
                      "(its latest checkpoint; demo settings: 16 kHz, "
                      "10 ms windows) instead of an untrained export")
  parser.add_argument("--audio_dir", help="real speech to transcribe "
                      "instead of synthetic tones")
  parser.add_argument("--case", help=argparse.SUPPRESS)
  return parser.parse_args()


def run_cases(model, cases, short, long_path, figures):
  """Runs each decoder case on the short files and on the long one.

  Each in a fresh process, so that its peak RSS is its own; prints a line
  per case and adds its figures to `figures` ("<kind>_<short|long>").
  """
  for kind, options in cases:
    for name, paths in (("short", short), ("long", [long_path])):
      child = subprocess.run(
          [sys.executable, os.path.abspath(__file__),
           "--case=" + json.dumps([model, options, paths])],
          capture_output=True, text=True)
      if child.returncode:
        sys.exit("bench/transcribe.py: the %s %s case failed:\n%s"
                 % (kind, name, child.stderr[-3000:]))
      out = child.stdout
      result = json.loads(out.strip().splitlines()[-1])
      figures["%s_%s" % (kind, name)] = result
      print("%-7s %-5s: %7.1f s of audio in %6.2f s = %5.1fx real time, "
            "peak RSS %.0f MB" % (kind, name, result["audio_sec"],
                                  result["seconds"], result["rtf"],
                                  result["peak_rss_mb"]))


def main():
  args = _parse_args()
  if args.case:  # a child: one case, one JSON line
    model, options, paths = json.loads(args.case)
    print(json.dumps(run_case(model, paths, options)))
    return
  figures = {"cpu": cpu_kind(), "machine": "shared with other jobs",
             "model": args.model_dir or
                      "untrained 3 x 256 BiGRU, 16 conv filters, window_ms 10",
             "audio": args.audio_dir or "synthetic tones",
             "beam_width": args.beam_width, "alpha": args.alpha,
             "beta": args.beta}
  with tempfile.TemporaryDirectory() as directory:
    model = (["model_dir", os.path.abspath(args.model_dir)] if args.model_dir
             else ["export", export_model(directory)])
    lm_path = args.lm_path or build_lm(directory, args.lm_sentences)
    figures["lm"] = args.lm_path or (
        "4-gram of %d sample-corpus sentences" % args.lm_sentences)
    if args.audio_dir:
      short, long_path = write_real_audio(directory, args.audio_dir,
                                          args.short_files, args.long_min)
    else:
      short, long_path = write_audio(directory, args.short_files,
                                     args.short_sec, args.long_min)
    cases = (("greedy", {"kind": "greedy"}),
             ("beam_lm", {"kind": "beam", "beam_width": args.beam_width,
                          "lm_path": os.path.abspath(lm_path),
                          "alpha": args.alpha, "beta": args.beta}))
    run_cases(model, cases, short, long_path, figures)
  print("CPU: %s; the machine was shared with other jobs." % figures["cpu"])
  print(json.dumps(figures))


if __name__ == "__main__":
  main()

r"""Checks manifests the way training does, without training.

Run from the repository root, with the audio flags training will use:

  python data/validate.py /tmp/librispeech_data/train.csv --max_audio_sec=30 \
      --skipped_file=/tmp/skipped.tsv

Each row goes through `data/manifest.py`'s text and audio checks (audio
headers only, so 280k files take minutes, not hours). The report is the one
training logs: bad rows per reason and the first few as `manifest:line`, then
the usable rows and their hours of audio. --skipped_file gets every bad row
as TSV (manifest, line, reason, detail).

Exit status, so the command can gate a pipeline:
  0  every row of every manifest is usable
  1  some rows are bad (training would skip them; --strict_data would fail)
  2  a manifest cannot be used at all: missing, no header, or no usable row

Stands alone like data/download.py: the checks import no TensorFlow. Only
when --time_reduction is not given does it import the model (and TensorFlow,
a few seconds) to read `deep_speech_model.TIME_REDUCTION`, the one home of
that number.
"""

import argparse
import concurrent.futures
import os
import sys

if __name__ == "__main__" and not __package__:
  # Run as `python data/validate.py`, Python puts data/ on the path, not the
  # repository root that holds the `data` package.
  sys.path.insert(0, os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))))

# pylint: disable=g-import-not-at-top,wrong-import-position
from absl import logging
import soundfile

from data import atomic_file
from data import featurizer
from data import manifest
from data import safe_path
from data import vocabulary

EXIT_OK, EXIT_BAD_ROWS, EXIT_UNUSABLE = 0, 1, 2


def parse_args(argv):
  parser = argparse.ArgumentParser(
      description="Check DeepSpeech manifests as training would; exit 0 if "
      "every row is usable, 1 if some are bad, 2 if a manifest is unusable.")
  parser.add_argument("manifests", nargs="+", metavar="MANIFEST")
  parser.add_argument("--sample_rate", type=int, default=16000,
                      help="Required sample rate, in Hz.")
  parser.add_argument("--window_ms", type=int, default=20,
                      help="Spectrogram window, in ms.")
  parser.add_argument("--stride_ms", type=int, default=10,
                      help="Spectrogram stride, in ms.")
  parser.add_argument("--max_audio_sec", type=float, default=None,
                      help="Longest clip accepted, in seconds (default: any).")
  parser.add_argument("--time_reduction", type=int, default=None,
                      help="Spectrogram frames per model output frame "
                      "(default: the model's, deep_speech_model."
                      "TIME_REDUCTION).")
  parser.add_argument("--vocabulary_file",
                      default=vocabulary.VOCABULARY_FILE)
  parser.add_argument("--skipped_file", default=None,
                      help="Write every bad row here as TSV.")
  parser.add_argument("--num_threads", type=int, default=16,
                      help="Threads reading audio headers.")
  args = parser.parse_args(argv)
  if not 0 < args.stride_ms <= args.window_ms:
    parser.error("need 0 < --stride_ms <= --window_ms")
  if min(args.sample_rate, args.num_threads) < 1 or (
      args.time_reduction is not None and args.time_reduction < 1):
    parser.error("--sample_rate, --time_reduction and --num_threads must be "
                 "positive")
  return args


def audio_hours(entries, num_threads):
  """Total duration of the entries' audio, in hours (headers only)."""
  def seconds(entry):
    try:
      info = soundfile.info(safe_path.for_tools(entry.wav_filename))
    except (RuntimeError, OSError):  # changed since its check: not counted
      return 0.0
    return info.frames / float(info.samplerate)
  with concurrent.futures.ThreadPoolExecutor(num_threads) as pool:
    return sum(pool.map(seconds, entries, chunksize=64)) / 3600.0


def validate(path, token_to_index, check, num_threads):
  """Checks one manifest and prints its report.

  Returns:
    (exit status for this manifest, its skipped rows).
  """
  try:
    entries, skipped = manifest.read_manifest(path, token_to_index, check,
                                              num_threads)
  except (manifest.ManifestError, OSError) as e:
    print("%s: unusable manifest: %s" % (path, e))
    return EXIT_UNUSABLE, []
  if skipped:
    print("%s: %s" % (path, manifest.summarize_skipped(skipped, len(entries))))
  if not entries:
    print("%s: no usable rows (%d skipped): nothing to train on"
          % (path, len(skipped)))
    return EXIT_UNUSABLE, skipped
  hours = audio_hours(entries, num_threads)
  print("%s: %d usable rows, %.2f hours of audio (%.0f s)" % (
      path, len(entries), hours, hours * 3600))
  return (EXIT_BAD_ROWS if skipped else EXIT_OK), skipped


def model_time_reduction():
  """The model's time reduction (imports TensorFlow: only when needed)."""
  import deep_speech_model  # pylint: disable=g-import-not-at-top
  return deep_speech_model.TIME_REDUCTION


def main(argv):
  args = parse_args(argv)
  time_reduction = args.time_reduction or model_time_reduction()
  # read_manifest logs its progress on long manifests; show it.
  logging.set_verbosity(logging.INFO)
  try:
    token_to_index = featurizer.TextFeaturizer(
        args.vocabulary_file).token_to_index
  except (OSError, ValueError) as e:
    print("vocabulary file %s cannot be used: %s" % (args.vocabulary_file, e))
    return EXIT_UNUSABLE
  check = manifest.AudioCheck(
      sample_rate=args.sample_rate, window_ms=args.window_ms,
      stride_ms=args.stride_ms, max_audio_sec=args.max_audio_sec,
      time_reduction=time_reduction)
  status, all_skipped = EXIT_OK, []
  for path in args.manifests:
    manifest_status, skipped = validate(path, token_to_index, check,
                                        args.num_threads)
    status = max(status, manifest_status)
    all_skipped.extend(skipped)
  if args.skipped_file:
    try:
      manifest.write_skipped(all_skipped, args.skipped_file)
    except atomic_file.WriteError as e:
      print(e)
      return EXIT_UNUSABLE
    print("%d bad row(s) listed in %s" % (len(all_skipped), args.skipped_file))
  return status


if __name__ == "__main__":
  try:
    sys.exit(main(sys.argv[1:]))
  except KeyboardInterrupt:
    sys.exit(130)

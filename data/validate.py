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

import concurrent.futures
import os
import sys

if __name__ == "__main__" and not __package__:
  # Run as `python data/validate.py`, Python puts data/ on the path, not the
  # repository root that holds the `data` package.
  sys.path.insert(0, os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))))

# pylint: disable=g-import-not-at-top,wrong-import-position
from absl import app
from absl import flags
from absl import logging
import soundfile

from common import atomic_file
from common import safe_path
from data import featurizer
from data import manifest
from data import text_flags
from data import text_normalization
from data import vocabulary
from official_utils.flags import core as flags_core

EXIT_OK, EXIT_BAD_ROWS, EXIT_UNUSABLE = 0, 1, 2


_PROGRAM = "validate.py"


def define_validate_flags():
  """The flags; called from `__main__` only. Manifests are the arguments."""
  flags.DEFINE_integer("sample_rate", 16000, "Required sample rate, in Hz.",
                       lower_bound=1)
  flags.DEFINE_integer("window_ms", 20, "Spectrogram window, in ms.",
                       lower_bound=1)
  flags.DEFINE_integer("stride_ms", 10, "Spectrogram stride, in ms.",
                       lower_bound=1)
  flags.register_multi_flags_validator(
      ["stride_ms", "window_ms"],
      lambda values: values["stride_ms"] <= values["window_ms"],
      message="need 0 < --stride_ms <= --window_ms")
  flags.DEFINE_float("max_audio_sec", None,
                     "Longest clip accepted, in seconds (default: any).")
  flags.register_validator("max_audio_sec",
                           lambda value: value is None or value > 0,
                           message="--max_audio_sec must be > 0")
  flags.DEFINE_integer(
      "time_reduction", None, "Spectrogram frames per model output frame "
      "(default: the model's, deep_speech_model.TIME_REDUCTION).",
      lower_bound=1)
  flags.DEFINE_string("vocabulary_file", vocabulary.VOCABULARY_FILE,
                      "The vocabulary file.")
  flags.DEFINE_string("skipped_file", None,
                      "Write every bad row here as TSV.")
  # Transcripts are judged as training will read them.
  text_flags.define_text_policy_flags()
  flags.DEFINE_integer("num_threads", 16, "Threads reading audio headers.",
                       lower_bound=1)


def parse_command_line(argv):
  """Flags into flags.FLAGS; returns the manifests. Usage errors exit 2."""
  manifests = flags_core.parse_flags(argv, program=_PROGRAM,
                                     usage_status=EXIT_UNUSABLE)[1:]
  if not manifests:
    sys.stderr.write("%s: error: give one or more manifests\n" % _PROGRAM)
    sys.exit(EXIT_UNUSABLE)
  return manifests


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


def validate(path, token_to_index, check, num_threads,
             text_policy=text_normalization.DEFAULT):
  """Checks one manifest and prints its report.

  Transcripts go through `text_policy` first, as training reads them.

  Returns:
    (exit status for this manifest, its skipped rows).
  """
  try:
    entries, skipped = manifest.read_manifest(path, token_to_index, check,
                                              num_threads, text_policy)
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


def main(manifests):
  """Checks `manifests` (paths) with the flags' settings; the exit status."""
  flags_obj = flags.FLAGS
  time_reduction = flags_obj.time_reduction or model_time_reduction()
  # read_manifest logs its progress on long manifests; show it.
  logging.set_verbosity(logging.INFO)
  try:
    token_to_index = featurizer.TextFeaturizer(
        flags_obj.vocabulary_file).token_to_index
  except (OSError, ValueError) as e:
    print("vocabulary file %s cannot be used: %s" % (
        flags_obj.vocabulary_file, e))
    return EXIT_UNUSABLE
  check = manifest.AudioCheck(
      featurizer.AudioFeaturizer(flags_obj.sample_rate,
                                 window_ms=flags_obj.window_ms,
                                 stride_ms=flags_obj.stride_ms),
      max_audio_sec=flags_obj.max_audio_sec, time_reduction=time_reduction)
  status, all_skipped = EXIT_OK, []
  for path in manifests:
    manifest_status, skipped = validate(path, token_to_index, check,
                                        flags_obj.num_threads,
                                        text_flags.text_policy(flags_obj))
    status = max(status, manifest_status)
    all_skipped.extend(skipped)
  if flags_obj.skipped_file:
    try:
      manifest.write_skipped(all_skipped, flags_obj.skipped_file)
    except atomic_file.WriteError as e:
      print(e)
      return EXIT_UNUSABLE
    print("%d bad row(s) listed in %s" % (len(all_skipped),
                                          flags_obj.skipped_file))
  return status


def _main_or_interrupted(manifests):
  try:
    return main(manifests)
  except KeyboardInterrupt:
    return 130


if __name__ == "__main__":
  define_validate_flags()
  app.run(_main_or_interrupted, flags_parser=parse_command_line)

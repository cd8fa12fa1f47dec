r"""Concatenates, filters, splits and counts manifests.

Run from the repository root; each command reads one or more manifests (their
rows in order, as if concatenated) and writes atomically:

  python data/manifest_tool.py concat A.csv B.csv --output=all.csv
  python data/manifest_tool.py filter all.csv --max_audio_sec=27 \
      --output=final.csv
  python data/manifest_tool.py split all.csv --train_output=train.csv \
      --dev_output=dev.csv --dev_fraction=0.1 --seed=1
  python data/manifest_tool.py stats A.csv B.csv

  concat  one header, then every row of every input.
  filter  only the rows whose audio (the wav header's duration, as the
          original's `soxi -D`) is at most --max_audio_sec seconds.
  split   by speaker: no speaker in both outputs. The speaker is the first
          field of a LibriSpeech `speaker-chapter-utt` file name, or group 1
          of --speaker_regex searched in the wav path.
  stats   utterances, hours, speakers and characters outside --vocabulary,
          per input and in total.

An output that is one of the inputs is refused. Exit status: 0 done, 1 bad
data (one line naming the file and line; nothing written), 2 bad usage.
"""

import os
import sys

if __name__ == "__main__" and not __package__:
  # Run as `python data/manifest_tool.py`, Python puts data/ on the path, not
  # the repository root that holds the `data` package.
  sys.path.insert(0, os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))))

# pylint: disable=g-import-not-at-top,wrong-import-position
from absl import app
from absl import flags

from common import atomic_file
from data import manifest
from data import manifest_ops
from data import vocabulary
# pylint: enable=g-import-not-at-top,wrong-import-position

COMMANDS = ("concat", "filter", "split", "stats")
EXIT_BAD_DATA, EXIT_USAGE = 1, 2


class UsageError(Exception):
  """The command line itself is wrong."""


def define_manifest_tool_flags():
  """Declares the flags; called from `__main__` only, never on import."""
  flags.DEFINE_string("output", None, "concat, filter: the manifest to write.")
  flags.DEFINE_float(
      "max_audio_sec", None,
      "filter: keep clips of at most this many seconds (the original recipe "
      "used 27).")
  flags.DEFINE_string("train_output", None, "split: the training manifest.")
  flags.DEFINE_string("dev_output", None, "split: the dev manifest.")
  flags.DEFINE_float(
      "dev_fraction", 0.1,
      "split: fraction of the speakers that go to dev (at least one).")
  flags.DEFINE_integer("seed", 1, "split: seed of the speaker draw.")
  flags.DEFINE_string(
      "speaker_regex", manifest_ops.DEFAULT_SPEAKER_REGEX,
      "split, stats: regular expression searched in each wav path; group 1 "
      "(or the whole match) is the speaker. Default: the first field of a "
      "LibriSpeech speaker-chapter-utt file name.")
  flags.DEFINE_string(
      "vocabulary", vocabulary.VOCABULARY_FILE,
      "stats: vocabulary file whose characters transcripts may use.")
  flags.DEFINE_integer("num_threads", 16, "Threads reading wav headers.",
                       lower_bound=1)


def _need(flags_obj, command, *names):
  for name in names:
    if getattr(flags_obj, name) is None:
      raise UsageError("%s needs --%s" % (command, name))


def _stats(inputs, flags_obj):
  manifest_ops.compile_speaker_regex(flags_obj.speaker_regex)  # fail early
  try:
    characters = vocabulary.characters(flags_obj.vocabulary)
  except (OSError, ValueError) as e:
    raise manifest.ManifestError("vocabulary file %s cannot be used: %s"
                                 % (flags_obj.vocabulary, e)) from e
  rows = manifest_ops.read_rows(inputs)
  durations = manifest_ops.audio_seconds(rows, flags_obj.num_threads)
  groups = [(path, [i for i, r in enumerate(rows) if r.manifest == path])
            for path in dict.fromkeys(inputs)]
  if len(groups) > 1:
    groups.append(("total", range(len(rows))))
  for name, indices in groups:
    print(manifest_ops.format_stats(name, manifest_ops.statistics(
        [rows[i] for i in indices], [durations[i] for i in indices],
        characters, flags_obj.speaker_regex)))


def run_manifest_tool(command, inputs, flags_obj):
  """Runs one command for the parsed flags; the only reader of flags."""
  if command not in COMMANDS:
    raise UsageError("unknown command %r; expected one of %s"
                     % (command, ", ".join(COMMANDS)))
  if not inputs:
    raise UsageError("%s needs at least one input manifest" % command)
  if command == "concat":
    _need(flags_obj, command, "output")
    count = manifest_ops.concatenate(inputs, flags_obj.output)
    print("%s: %d rows from %d manifests" % (flags_obj.output, count,
                                             len(inputs)))
  elif command == "filter":
    _need(flags_obj, command, "output", "max_audio_sec")
    kept, dropped, hours = manifest_ops.filter_by_duration(
        inputs, flags_obj.output, flags_obj.max_audio_sec,
        flags_obj.num_threads)
    print("%s: kept %d rows (%.2f hours, %.0f s), dropped %d longer than "
          "%g s" % (flags_obj.output, kept, hours, hours * 3600, dropped,
                    flags_obj.max_audio_sec))
  elif command == "split":
    _need(flags_obj, command, "train_output", "dev_output")
    train, dev, train_speakers, dev_speakers = manifest_ops.split_by_speaker(
        inputs, flags_obj.train_output, flags_obj.dev_output,
        flags_obj.dev_fraction, flags_obj.seed, flags_obj.speaker_regex)
    print("%s: %d rows, %d speakers; %s: %d rows, %d speakers" % (
        flags_obj.train_output, train, train_speakers, flags_obj.dev_output,
        dev, dev_speakers))
  else:
    _stats(inputs, flags_obj)


def _fail(message, code):
  sys.stderr.write("manifest_tool.py: error: %s\n" % message)
  sys.exit(code)


def main(argv):
  if len(argv) < 2:
    _fail("give a command (%s) and input manifests" % ", ".join(COMMANDS),
          EXIT_USAGE)
  try:
    run_manifest_tool(argv[1], argv[2:], flags.FLAGS)
  except (UsageError, ValueError) as e:
    # ManifestError is a ValueError too: bad data, not bad usage.
    code = (EXIT_BAD_DATA if isinstance(e, manifest.ManifestError)
            else EXIT_USAGE)
    _fail(e, code)
  except atomic_file.WriteError as e:
    _fail(e, EXIT_BAD_DATA)
  except OSError as e:
    _fail("%s%s" % (e.strerror or e, ": %s" % e.filename if e.filename
                    else ""), EXIT_BAD_DATA)


if __name__ == "__main__":
  define_manifest_tool_flags()
  app.run(main)

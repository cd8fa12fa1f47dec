"""Refusing an output file that is one of a program's inputs.

`--lm_out=train.csv` next to `--manifest=train.csv` would replace the
manifest with the model built from it. Every CLI that reads files and writes
others checks its outputs against its inputs first, by file identity (so a
symbolic link or a hard link to an input counts as that input), and refuses
before reading anything.
"""

import os


class OutputIsInputError(ValueError):
  """An output names the same file as an input; the message names both."""


def _identity(path):
  """What makes two paths one file: (device, inode), or where a new one goes."""
  try:
    info = os.stat(path)
  except OSError:  # not there yet: compare where it leads
    return os.path.realpath(path)
  return (info.st_dev, info.st_ino)


def same_file(a, b):
  """Whether two paths name one file (links followed; a new path by where it
  leads)."""
  return _identity(a) == _identity(b)


def check_outputs(outputs, inputs):
  """Refuses an output that is an input, or another output.

  One stat per path, so checking every transcript against every audio file
  of a large folder stays cheap.

  Args:
    outputs: (label, path) pairs of the files to be written, e.g.
      ("--lm_out", "4gram.arpa"); None paths are skipped.
    inputs: (label, path) pairs of the files read.

  Raises:
    OutputIsInputError: naming the two labels and paths.
  """
  seen = {}
  for label, path in inputs:
    if path:
      seen.setdefault(_identity(path), (label, path, "that input"))
  for label, path in outputs:
    if not path:
      continue
    key = _identity(path)
    if key in seen:
      other_label, other, what = seen[key]
      raise OutputIsInputError(
          "%s %s is the same file as %s %s; writing it would destroy %s. "
          "Choose another %s." % (label, path, other_label, other, what,
                                  label))
    seen[key] = (label, path, "the other output")

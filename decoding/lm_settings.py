"""The LM settings file: what the tuning command writes and the CLIs read.

A JSON object with "lm_path", "alpha", "beta" and optionally "beam_width"
and "lexicon": the keyword arguments of decoder.make_decoder for a tuned
beam search with a language model.
"""

import json
import os

from common import atomic_file

KEYS = ("lm_path", "alpha", "beta", "beam_width", "lexicon")


def write(path, lm_path, alpha, beta, beam_width=None, lexicon=None):
  """Writes an LM settings file (JSON, atomically).

  Paths are stored as given; relative ones are read back relative to the
  settings file's folder, so a folder holding the LM and its settings can be
  moved as a whole.
  """
  settings = {"lm_path": lm_path, "alpha": float(alpha), "beta": float(beta)}
  if beam_width is not None:
    settings["beam_width"] = int(beam_width)
  if lexicon is not None:
    settings["lexicon"] = lexicon
  atomic_file.write_json(path, settings)


def read(path):
  """Reads an LM settings file.

  Returns:
    A dict with "lm_path" (absolute), "alpha", "beta" (floats) and, when
    present, "beam_width" (int) and "lexicon" (absolute path); the keys match
    `decoder.make_decoder`'s arguments.

  Raises:
    ValueError: not JSON, unknown or missing keys, wrong types (naming the
      file).
  """
  try:
    with open(path, encoding="utf-8") as f:
      settings = json.load(f)
  except (OSError, ValueError) as e:
    raise ValueError("cannot read the LM settings file %s: %s" % (path, e))
  if not isinstance(settings, dict):
    raise ValueError("%s: LM settings must be a JSON object" % path)
  unknown = sorted(set(settings) - set(KEYS))
  missing = [k for k in ("lm_path", "alpha", "beta") if k not in settings]
  if unknown or missing:
    raise ValueError("%s: %s" % (path, "; ".join(
        ["unknown keys " + ", ".join(unknown)] * bool(unknown) +
        ["missing keys " + ", ".join(missing)] * bool(missing))))
  folder = os.path.dirname(os.path.abspath(path))
  result = {}
  for key, value in settings.items():
    if key in ("lm_path", "lexicon"):
      if not isinstance(value, str) or not value:
        raise ValueError("%s: %s must be a path" % (path, key))
      result[key] = os.path.join(folder, value)  # absolute paths stay.
    elif key == "beam_width":
      if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError("%s: beam_width must be a positive integer" % path)
      result[key] = value
    else:
      if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError("%s: %s must be a number" % (path, key))
      result[key] = float(value)
  return result



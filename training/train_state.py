"""Reads `<model_dir>/train_state.json`, the record of finished cycles.

One reader for the trainer (training/cycles.py), the checkpoint roll-back
(training/checkpoints.py) and plot.py, so that each treats a file that is
not a record the same way: a damaged or hand-edited file, or valid JSON of
another shape, is an error naming the file, never an AttributeError.
Imports nothing of the project, so every one of them may import it.
"""

import json


class RecordError(ValueError):
  """A train_state.json that holds no cycle record; names the file."""


def read_record(path):
  """The cycle record in `path`, a dict with a "cycles" list.

  Raises:
    OSError: the file cannot be read (e.g. not written yet).
    RecordError: not JSON, or JSON of another shape (a list, cycles that
      are not objects with an integer "global_step", ...).
  """
  with open(path, "rb") as f:
    raw = f.read()
  try:
    data = json.loads(raw)
  except ValueError:
    raise RecordError("%s is not valid JSON" % path) from None
  problem = _record_problem(data)
  if problem:
    raise RecordError("%s is not a training record (%s)" % (path, problem))
  return data


def _record_problem(data):
  """What makes parsed JSON something other than a cycle record, or None."""
  def integer(value):
    return isinstance(value, int) and not isinstance(value, bool)

  if not isinstance(data, dict):
    return "a JSON %s, not an object" % type(data).__name__
  if not isinstance(data.get("cycles"), list):
    return "no \"cycles\" list"
  if not integer(data.get("base_step", 0)):
    return "\"base_step\" is not an integer"
  if not isinstance(data.get("history", []), list):
    return "\"history\" is not a list"
  for number, cycle in enumerate(data["cycles"], start=1):
    if not isinstance(cycle, dict) or not integer(cycle.get("global_step")):
      return "cycle %d has no integer \"global_step\"" % number
    # Extra evaluation sets' figures, by set name (newer records only).
    extra = cycle.get("extra_eval", {})
    if not isinstance(extra, dict) or not all(
        isinstance(figures, dict) for figures in extra.values()):
      return "cycle %d's \"extra_eval\" is not an object of sets" % number
    for owner, figures in [("", cycle)] + [
        ("[%s] " % name, figures) for name, figures in extra.items()]:
      for key in ("WER", "CER"):
        if key in figures and (isinstance(figures[key], bool) or
                               not isinstance(figures[key], (int, float))):
          return "cycle %d's %s%s is not a number" % (number, owner, key)
  return None

"""Checkpoints that can be trusted: damage found, rolled back, the best kept.

A checkpoint is the prefix `<model_dir>/model.ckpt-N` of an `.index` file
(which tensors, at which offset and length, with a CRC32C each) and its
`.data-0000i-of-0000n` shards. A crash while copying a model directory, a
full disk in an earlier life of it or a failing drive can leave the newest
one truncated, missing a shard, or named in the `checkpoint` file after its
files were deleted. TensorFlow then fails the restore with a long traceback
(a damaged file), or silently starts again from step 0 (a `checkpoint` file
naming a deleted step).

  * `scan` reads every tensor of each checkpoint, newest first (the reads
    check each tensor's length and CRC against the index), and returns the
    newest intact one and what was damaged, naming the files.
  * `roll_back` moves the damaged files into `<model_dir>/damaged/` and
    points the `checkpoint` file at the intact one; `roll_back_train_state`
    drops the finished cycles the lost steps had recorded.
  * `remove_partial_saves` deletes what saves that failed on a full disk
    left behind (training/hooks.py words the failure).
"""

import collections
import contextlib
import glob
import json
import math
import os
import re
import shutil

from absl import logging
import tensorflow as tf

from common import atomic_file
from training import train_state

DAMAGED_DIR = "damaged"

# The newest intact checkpoint (prefix and step, or None and None) and a list
# of (path, description) of what was found damaged, newest first.
CheckpointScan = collections.namedtuple("CheckpointScan",
                                        ["latest", "step", "damaged"])


def checkpoint_step(prefix):
  """The global step in a checkpoint prefix ("model.ckpt-12" -> 12), or -1."""
  match = re.search(r"-(\d+)$", prefix)
  return int(match.group(1)) if match else -1


def checkpoint_files(prefix):
  """The files of one checkpoint: .index, .data-* shards and .meta."""
  return sorted(glob.glob(glob.escape(prefix) + ".index") +
                glob.glob(glob.escape(prefix) + ".data-*") +
                glob.glob(glob.escape(prefix) + ".meta"))


def _shards(prefix):
  """(expected shard paths, or None when no shard names a count)."""
  found = glob.glob(glob.escape(prefix) + ".data-?????-of-?????")
  if not found:
    return None
  count = int(found[0].rsplit("-of-", 1)[1])
  return ["%s.data-%05d-of-%05d" % (prefix, i, count) for i in range(count)]


def checkpoint_problem(prefix):
  """What is wrong with one checkpoint, naming the file; None when intact.

  Reads every tensor: the bundle reader compares each one's length and
  CRC32C with the index, so a truncated or corrupt shard is found. This
  reads the whole checkpoint, so its time grows with the checkpoint's size
  (docs/benchmarks.md).
  """
  index = prefix + ".index"
  if not os.path.exists(index):
    if not checkpoint_files(prefix):
      return "its files are missing (%s.index and its data)" % prefix
    return "%s is missing" % index
  shards = _shards(prefix) or []
  for shard in shards:
    if not os.path.exists(shard):
      return "%s is missing" % shard
  try:
    reader = tf.train.load_checkpoint(prefix)
    for name in sorted(reader.get_variable_to_shape_map()):
      try:
        reader.get_tensor(name)
      except (tf.errors.OpError, IndexError, ValueError) as e:
        return "%s is truncated or corrupt (variable %s: %s)" % (
            " / ".join(shards), name, _first_line(e))
  except (tf.errors.OpError, ValueError) as e:
    # With every shard gone, only the index knows their names; the
    # reader's error names the first one.
    missing = re.search(r"(\S+\.data-\d{5}-of-\d{5}); No such file",
                        str(e))
    if missing:
      return "%s is missing" % missing.group(1)
    return "%s is damaged (%s)" % (index, _first_line(e))
  return None


def _first_line(error):
  text = getattr(error, "message", None) or str(error)
  return text.strip().split("\n")[0]


def _listed(model_dir):
  """(checkpoint prefixes the `checkpoint` file lists, a problem or None)."""
  if not os.path.exists(os.path.join(model_dir, "checkpoint")):
    return [], None
  try:
    state = tf.train.get_checkpoint_state(model_dir)
  except (tf.errors.OpError, ValueError) as e:
    return [], "%s is unreadable (%s)" % (
        os.path.join(model_dir, "checkpoint"), _first_line(e))
  if state is None:
    return [], "%s is unreadable" % os.path.join(model_dir, "checkpoint")
  paths = list(state.all_model_checkpoint_paths)
  if state.model_checkpoint_path and state.model_checkpoint_path not in paths:
    paths.append(state.model_checkpoint_path)
  return [p if os.path.isabs(p) else os.path.join(model_dir, p)
          for p in paths], None


def scan(model_dir):
  """Finds the newest intact checkpoint of model_dir.

  Candidates are the checkpoints the `checkpoint` file lists and any other
  `model.ckpt-N` files in the directory, tried newest first.

  Returns:
    A `CheckpointScan`: latest (prefix or None), step (or None) and damaged,
    a list of (path, description) for every newer checkpoint that is not
    usable and for an unreadable `checkpoint` file.
  """
  listed, state_problem = _listed(model_dir)
  damaged = []
  if state_problem:
    damaged.append((os.path.join(model_dir, "checkpoint"), state_problem))
  found = set(os.path.normpath(p) for p in listed)
  for path in glob.glob(os.path.join(glob.escape(model_dir), "*.index")):
    found.add(os.path.normpath(path[:-len(".index")]))
  for path in glob.glob(os.path.join(glob.escape(model_dir), "*.data-*")):
    found.add(os.path.normpath(path.rsplit(".data-", 1)[0]))
  for prefix in sorted(found, key=checkpoint_step, reverse=True):
    problem = checkpoint_problem(prefix)
    if problem is None:
      return CheckpointScan(prefix, checkpoint_step(prefix), damaged)
    damaged.append((prefix, problem))
  return CheckpointScan(None, None, damaged)


def describe(checkpoint_scan):
  """One paragraph for the log: what is damaged and where training resumes."""
  lines = ["Damaged checkpoint: %s: %s" % item
           for item in checkpoint_scan.damaged]
  if checkpoint_scan.latest:
    lines.append("Using the newest intact checkpoint, %s (step %d)." % (
        checkpoint_scan.latest, checkpoint_scan.step))
  else:
    lines.append("No intact checkpoint is left: training starts at step 0.")
  return "\n".join(lines)


def roll_back(model_dir, checkpoint_scan):
  """Sets the damaged checkpoints aside and points `checkpoint` past them.

  The damaged files move to `<model_dir>/damaged/` (kept for a post-mortem,
  never read again); the `checkpoint` file then names the intact checkpoint
  and the older ones it listed, so the Estimator restores that one. Only
  the chief of a cluster (or a single run) may call this.

  Returns:
    The paths moved, in `<model_dir>/damaged/`.
  """
  moved = []
  if not checkpoint_scan.damaged:
    return moved
  aside = os.path.join(model_dir, DAMAGED_DIR)
  os.makedirs(aside, exist_ok=True)
  state_file = os.path.join(model_dir, "checkpoint")
  for path, _ in checkpoint_scan.damaged:
    files = [path] if path == state_file else checkpoint_files(path)
    for name in files:
      target = os.path.join(aside, os.path.basename(name))
      atomic_file.move(name, target)
      moved.append(target)
  if checkpoint_scan.latest is None:
    if os.path.exists(state_file):
      target = os.path.join(aside, "checkpoint")
      atomic_file.move(state_file, target)
      moved.append(target)
    return moved
  listed, _ = _listed(model_dir)
  older = sorted((p for p in listed
                  if checkpoint_step(p) <= checkpoint_scan.step and
                  os.path.exists(p + ".index")), key=checkpoint_step)
  if checkpoint_scan.latest not in older:
    older.append(checkpoint_scan.latest)
  tf.compat.v1.train.update_checkpoint_state(
      model_dir, checkpoint_scan.latest, all_model_checkpoint_paths=older)
  return moved


def roll_back_train_state(state_path, step):
  """Drops the cycles of a train_state.json that ended after `step`.

  Args:
    state_path: the record (`<model_dir>/train_state.json`).
    step: the global step of the checkpoint training resumes from (0 when
      none is left).

  Returns:
    The dropped cycle records (an empty list when the file is missing).
  """
  try:
    data = train_state.read_record(state_path)
  except (OSError, train_state.RecordError):
    return []  # training starts a new record
  cycles = data["cycles"]
  kept = [c for c in cycles if c.get("global_step", 0) <= step]
  if len(kept) == len(cycles) and data.get("base_step", 0) <= step:
    return []
  data["cycles"] = kept
  # Cycle counting started at base_step; a checkpoint older than that
  # starts the count again where training resumes.
  data["base_step"] = min(data.get("base_step", 0), step)
  atomic_file.write_json(state_path, data)
  return cycles[len(kept):]


def recover(model_dir, state_path):
  """Scans model_dir; rolls a damaged latest checkpoint back, and its cycles.

  For the chief (or a single run) at start-up, before the Estimator exists.

  Args:
    model_dir: the model directory.
    state_path: its train_state.json.

  Returns:
    The `CheckpointScan`.
  """
  found = scan(model_dir)
  if found.damaged:
    logging.warning("%s", describe(found))
    roll_back(model_dir, found)
    dropped = roll_back_train_state(state_path, found.step or 0)
    if dropped:
      logging.warning(
          "Cycles %s ended after step %d and will be trained again.",
          ", ".join(str(c.get("cycle")) for c in dropped), found.step or 0)
  return found


def remove_partial_saves(model_dir):
  """Deletes the `*_temp` directories that failed saves leave behind."""
  removed = []
  for path in glob.glob(os.path.join(glob.escape(model_dir), "*_temp")):
    if os.path.isdir(path):
      shutil.rmtree(path, ignore_errors=True)
      removed.append(path)
  return removed


BEST_DIR = "best"
BEST_RECORD = "best.json"


def best_checkpoint(model_dir):
  """The kept best checkpoint: (prefix, record) or (None, None).

  The record is a dict with "step", "WER", "decoder" (the label of the
  decoder that scored it; records written before it existed were greedy's)
  and "checkpoint" (the prefix's base name in `<model_dir>/best/`).
  """
  best_dir = os.path.join(model_dir, BEST_DIR)
  try:
    with open(os.path.join(best_dir, BEST_RECORD)) as f:
      record = json.load(f)
    prefix = os.path.join(best_dir, record["checkpoint"])
    record.setdefault("decoder", "greedy")
  except (OSError, ValueError, KeyError, TypeError, AttributeError):
    return None, None
  if not os.path.exists(prefix + ".index"):
    return None, None
  return prefix, record


def keep_if_best(model_dir, prefix, wer, decoder="greedy"):
  """Copies a checkpoint into `<model_dir>/best/` when its WER is the best.

  `best/` is outside the Estimator's keep_checkpoint_max rotation. Each file
  is copied under a temporary name and renamed; the record (`best.json`,
  written atomically) then names the new checkpoint, and only after that
  the previous best's files are removed. A crash at any point leaves a
  record that names complete files.

  Args:
    model_dir: the model directory.
    prefix: the checkpoint just evaluated (`<model_dir>/model.ckpt-N`).
    wer: its word error rate.
    decoder: the label of the decoder that gave `wer` ("greedy",
      "beam+LM", ...). WERs of different decoders are not comparable, so a
      kept checkpoint scored by another decoder (a run resumed with other
      decoding flags) is replaced.

  Returns:
    The new record, or None when the kept one is as good or better.
  """
  _, record = best_checkpoint(model_dir)
  if not math.isfinite(wer) or (record is not None and
                                record["decoder"] == decoder and
                                not wer < record["WER"]):
    return None
  best_dir = os.path.join(model_dir, BEST_DIR)
  os.makedirs(best_dir, exist_ok=True)
  name = os.path.basename(prefix)
  for path in checkpoint_files(prefix):
    with open(path, "rb") as source, atomic_file.atomic_write(
        os.path.join(best_dir, os.path.basename(path)), "wb") as target:
      shutil.copyfileobj(source, target, 1 << 20)
  new_record = {"step": checkpoint_step(prefix), "WER": float(wer),
                "decoder": decoder, "checkpoint": name}
  atomic_file.write_json(os.path.join(best_dir, BEST_RECORD), new_record)
  # A `checkpoint` file makes best/ loadable like any model directory.
  tf.compat.v1.train.update_checkpoint_state(best_dir, name,
                                   all_model_checkpoint_paths=[name])
  for path in glob.glob(os.path.join(glob.escape(best_dir), "*")):
    base = os.path.basename(path)
    if base not in (BEST_RECORD, "checkpoint") and not base.startswith(
        name + "."):
      with contextlib.suppress(OSError):
        os.remove(path)
  return new_record


class NoCheckpointError(ValueError):
  """No intact checkpoint where one was asked for; the message says where."""


def global_step_of(prefix):
  """The global step a checkpoint holds (its name's step if it has none)."""
  try:
    return int(tf.train.load_variable(
        prefix, tf.compat.v1.GraphKeys.GLOBAL_STEP))
  except (tf.errors.OpError, ValueError):
    return checkpoint_step(prefix)


def choose_for_reading(path):
  """The checkpoint a reader (an evaluation) should use; changes nothing.

  Unlike `recover`, damaged ones are only reported (a run may own the dir).

  Args:
    path: a model directory (its newest intact checkpoint is chosen, as by
      `scan`) or a checkpoint prefix (used when intact).

  Returns:
    A `CheckpointScan` whose `latest` is the chosen prefix.

  Raises:
    NoCheckpointError: no intact checkpoint there (naming what is damaged).
  """
  if os.path.isdir(path):
    found = scan(path)
    if found.latest is None:
      raise NoCheckpointError("no intact checkpoint in %s%s" % (
          path, "".join("; %s: %s" % item for item in found.damaged)))
    return found
  problem = checkpoint_problem(path)
  if problem:
    raise NoCheckpointError("checkpoint %s is not usable: %s" % (path,
                                                                problem))
  return CheckpointScan(path, checkpoint_step(path), [])

"""Tests for training/checkpoints.py on real Estimator checkpoints."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from training import checkpoints
from training import export as export_lib
from tests.helpers import durability
from tests.helpers import tiny_estimator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DATA = "model.ckpt-3.data-00000-of-00001"
INDEX = "model.ckpt-3.index"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  """A model directory with checkpoints at steps 0 to 3."""
  model_dir = str(tmp_path_factory.mktemp("trained") / "model")
  tiny_estimator.train(model_dir, 3)
  assert tf.train.latest_checkpoint(model_dir).endswith("model.ckpt-3")
  return model_dir


@pytest.fixture
def model_dir(trained, tmp_path):
  path = str(tmp_path / "model")
  shutil.copytree(trained, path)
  return path


def _truncate(name, size):
  def damage(model_dir):
    with open(os.path.join(model_dir, name), "r+b") as f:
      f.truncate(size)
    return name
  return damage


def _remove(*names):
  def damage(model_dir):
    for name in names:
      os.remove(os.path.join(model_dir, name))
    return names[0]
  return damage


def _flip_a_byte(model_dir):
  with open(os.path.join(model_dir, DATA), "r+b") as f:
    f.seek(2000)
    byte = f.read(1)[0]
    f.seek(2000)
    f.write(bytes([byte ^ 0xFF]))
  return DATA


DAMAGES = {
    "truncated_data": _truncate(DATA, 5000),
    "empty_data": _truncate(DATA, 0),
    "truncated_index": _truncate(INDEX, 300),
    "missing_shard": _remove(DATA),
    "missing_index": _remove(INDEX),
    "corrupt_data": _flip_a_byte,
    # The `checkpoint` file names step 3, whose files were deleted.
    "deleted_step": _remove(INDEX, DATA, "model.ckpt-3.meta"),
}


@pytest.mark.parametrize("kind", sorted(DAMAGES))
def test_damage_is_named_and_rolled_back(model_dir, kind):
  named = DAMAGES[kind](model_dir)
  found = checkpoints.scan(model_dir)
  assert found.latest == os.path.join(model_dir, "model.ckpt-2")
  assert found.step == 2
  ((path, description),) = found.damaged
  assert path == os.path.join(model_dir, "model.ckpt-3")
  expected = "model.ckpt-3.index" if kind == "deleted_step" else named
  assert os.path.join(model_dir, expected) in description, description
  assert "model.ckpt-2 (step 2)" in checkpoints.describe(found)

  moved = checkpoints.roll_back(model_dir, found)
  assert tf.train.latest_checkpoint(model_dir) == found.latest
  assert all(os.path.dirname(p) == os.path.join(model_dir, "damaged")
             for p in moved)
  assert not [n for n in os.listdir(model_dir) if "ckpt-3" in n]
  state = tf.train.get_checkpoint_state(model_dir)
  assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == [
      "model.ckpt-0", "model.ckpt-1", "model.ckpt-2"]
  assert checkpoints.scan(model_dir).damaged == []


def test_an_intact_directory_is_left_alone(model_dir):
  found = checkpoints.scan(model_dir)
  assert found == (os.path.join(model_dir, "model.ckpt-3"), 3, [])
  assert checkpoints.roll_back(model_dir, found) == []
  assert tf.train.latest_checkpoint(model_dir).endswith("model.ckpt-3")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["truncated_data", "deleted_step"])
def test_training_resumes_from_the_intact_step(model_dir, kind):
  DAMAGES[kind](model_dir)
  if kind == "deleted_step":
    # What TensorFlow alone makes of it: no checkpoint, back to step 0.
    assert tf.train.latest_checkpoint(model_dir) is None
  checkpoints.roll_back(model_dir, checkpoints.scan(model_dir))
  estimator = tiny_estimator.train(model_dir, 2)
  assert estimator.get_variable_value("global_step") == 4
  assert tf.train.latest_checkpoint(model_dir).endswith("model.ckpt-4")


def test_unreadable_checkpoint_file_and_no_intact_checkpoint(model_dir):
  for name in os.listdir(model_dir):
    if ".data-" in name:
      _truncate(name, 10)(model_dir)
  with open(os.path.join(model_dir, "checkpoint"), "w") as f:
    f.write("model_checkpoint_path: {{{ not a proto\n")
  found = checkpoints.scan(model_dir)
  assert found.latest is None and found.step is None
  assert "checkpoint is unreadable" in found.damaged[0][1]
  assert [checkpoints.checkpoint_step(p) for p, _ in found.damaged[1:]] == [
      3, 2, 1, 0]
  assert "training starts at step 0" in checkpoints.describe(found)
  checkpoints.roll_back(model_dir, found)
  assert not os.path.exists(os.path.join(model_dir, "checkpoint"))
  assert checkpoints.scan(model_dir) == (None, None, [])


def test_train_state_drops_the_cycles_after_the_intact_step(tmp_path):
  path = str(tmp_path / "train_state.json")
  cycles = [{"cycle": 1, "global_step": 2, "WER": 0.9},
            {"cycle": 2, "global_step": 4, "WER": 0.8},
            {"cycle": 3, "global_step": 6, "WER": 0.7}]
  with open(path, "w") as f:
    json.dump({"fingerprint": "f", "base_step": 0, "cycles": cycles}, f)
  dropped = checkpoints.roll_back_train_state(path, 5)
  assert [c["cycle"] for c in dropped] == [3]
  with open(path) as f:
    data = json.load(f)
  assert data == {"fingerprint": "f", "base_step": 0, "cycles": cycles[:2]}
  assert checkpoints.roll_back_train_state(path, 5) == []
  # A checkpoint older than the record's start restarts the count there.
  data["base_step"] = 3
  data["cycles"] = []
  with open(path, "w") as f:
    json.dump(data, f)
  assert checkpoints.roll_back_train_state(path, 1) == []
  with open(path) as f:
    assert json.load(f)["base_step"] == 1
  assert checkpoints.roll_back_train_state(str(tmp_path / "none.json"), 1) == []


# Trains under a file size limit that a checkpoint's data exceeds, but not
# the graph and event files; prints the worded error (argv: model_dir).
_FULL_DISK_TRAINING = textwrap.dedent("""
    import resource, signal, sys
    from training import hooks
    from tests.helpers import tiny_estimator
    params = dict(tiny_estimator.PARAMS, conv_filters=32)
    estimator = tiny_estimator.estimator(sys.argv[1], params)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (3000000, 3000000))
    try:
      estimator.train(tiny_estimator.input_fn, steps=2)
    except Exception as e:
      print(type(e).__name__)
      print(hooks.write_error_message(e))
      sys.exit(3)
""")


@pytest.mark.slow
def test_a_full_disk_during_a_save_names_the_checkpoint(tmp_path):
  # About 4.5 MB of checkpoint data (32 filters, Adam slots); the graph
  # and event files stay under the 3 MB limit.
  model_dir = str(tmp_path / "model")
  tiny_estimator.train(model_dir, 1, params=dict(tiny_estimator.PARAMS,
                                                 conv_filters=32))
  result = subprocess.run(
      [sys.executable, "-c", _FULL_DISK_TRAINING, model_dir], cwd=ROOT,
      capture_output=True, text=True, timeout=300)
  assert result.returncode == 3, result.stderr[-3000:]
  error_name, message = result.stdout.strip().split("\n")
  # EFBIG here; ENOSPC is a ResourceExhaustedError with the same shape.
  assert error_name == "OutOfRangeError"
  assert message.startswith("disk full while writing %s (File too large)"
                            % os.path.join(model_dir, "model.ckpt-1"))
  # The failed save left a temporary directory and the previous checkpoint.
  assert checkpoints.scan(model_dir) == (
      os.path.join(model_dir, "model.ckpt-1"), 1, [])
  assert checkpoints.remove_partial_saves(model_dir) == [
      os.path.join(model_dir, "model.ckpt-1_temp")]


@pytest.mark.slow
def test_keep_the_best_outside_the_rotation_and_export_it(model_dir, tmp_path):
  prefix = os.path.join(model_dir, "model.ckpt-%d")
  assert checkpoints.best_checkpoint(model_dir) == (None, None)
  assert checkpoints.keep_if_best(model_dir, prefix % 1, 0.5)["step"] == 1
  assert checkpoints.keep_if_best(model_dir, prefix % 2, 0.5) is None
  assert checkpoints.keep_if_best(model_dir, prefix % 2, float("nan")) is None
  record = checkpoints.keep_if_best(model_dir, prefix % 3, 0.25)
  assert record == {"step": 3, "WER": 0.25, "decoder": "greedy",
                    "checkpoint": "model.ckpt-3"}
  best_dir = os.path.join(model_dir, "best")
  best, found = checkpoints.best_checkpoint(model_dir)
  assert (best, found) == (os.path.join(best_dir, "model.ckpt-3"), record)
  assert sorted(os.listdir(best_dir)) == [
      "best.json", "checkpoint", "model.ckpt-3.data-00000-of-00001",
      "model.ckpt-3.index", "model.ckpt-3.meta"]
  assert checkpoints.checkpoint_problem(best) is None
  assert tf.train.latest_checkpoint(best_dir) == best

  # Training on with a rotation of 2 deletes model.ckpt-3; the best stays.
  estimator = tiny_estimator.train(model_dir, 3, keep_checkpoint_max=2)
  assert not os.path.exists(prefix % 3 + ".index")
  assert checkpoints.best_checkpoint(model_dir) == (best, record)
  kernel = tf.train.load_variable(best, "dense/kernel")
  assert not np.array_equal(kernel, estimator.get_variable_value(
      "dense/kernel"))
  # The export is made from it.
  export = estimator.export_saved_model(
      str(tmp_path / "export"), export_lib.serving_input_receiver_fn,
      checkpoint_path=best)
  exported = os.path.join(export.decode(), "variables", "variables")
  np.testing.assert_array_equal(
      tf.train.load_variable(exported, "dense/kernel"), kernel)


def test_the_best_is_judged_by_one_decoder(model_dir):
  prefix = os.path.join(model_dir, "model.ckpt-%d")
  checkpoints.keep_if_best(model_dir, prefix % 1, 0.5)
  # Resumed with the LM: its 0.6 does not compare with greedy's 0.5.
  record = checkpoints.keep_if_best(model_dir, prefix % 2, 0.6, "beam+LM")
  assert record == {"step": 2, "WER": 0.6, "decoder": "beam+LM",
                    "checkpoint": "model.ckpt-2"}
  assert checkpoints.keep_if_best(model_dir, prefix % 3, 0.7,
                                  "beam+LM") is None
  assert checkpoints.best_checkpoint(model_dir)[1] == record
  # A record from before the decoder was recorded was greedy's.
  best_json = os.path.join(model_dir, "best", "best.json")
  with open(best_json, "w") as f:
    json.dump({"step": 2, "WER": 0.6, "checkpoint": "model.ckpt-2"}, f)
  assert checkpoints.best_checkpoint(model_dir)[1]["decoder"] == "greedy"
  assert checkpoints.keep_if_best(model_dir, prefix % 3, 0.7) is None


def test_keep_the_best_on_a_full_disk_keeps_the_old_best(model_dir):
  prefix = os.path.join(model_dir, "model.ckpt-%d")
  old = checkpoints.keep_if_best(model_dir, prefix % 1, 0.5)
  code = textwrap.dedent("""
      import resource, signal, sys
      from common import atomic_file
      from training import checkpoints
      signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
      resource.setrlimit(resource.RLIMIT_FSIZE, (100000, 100000))
      try:
        checkpoints.keep_if_best(sys.argv[1], sys.argv[2], 0.1)
      except atomic_file.WriteError as e:
        print(e)
        sys.exit(3)
  """)
  result = subprocess.run(
      [sys.executable, "-c", code, model_dir, prefix % 2], cwd=ROOT,
      capture_output=True, text=True, timeout=120)
  assert result.returncode == 3, result.stderr[-3000:]
  target = os.path.join(model_dir, "best", "model.ckpt-2.data-00000-of-00001")
  assert result.stdout.strip() == "cannot write %s: the disk is full" % target
  best, record = checkpoints.best_checkpoint(model_dir)
  assert record == old and checkpoints.checkpoint_problem(best) is None
  assert not [n for n in os.listdir(os.path.join(model_dir, "best"))
              if n.endswith(".tmp")]


def test_rolled_back_files_are_moved_durably(model_dir, monkeypatch):
  _truncate(DATA, 10)(model_dir)
  synced = durability.record_fsyncs(monkeypatch)
  moved = checkpoints.roll_back(model_dir, checkpoints.scan(model_dir))
  assert moved
  folders = {os.stat(d).st_ino for d in (model_dir,
                                         os.path.join(model_dir, "damaged"))}
  assert folders <= {inode for inode, is_dir in synced if is_dir}

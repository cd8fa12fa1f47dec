"""Tests for common/holder_lock.py, with a second process as the rival."""

import json
import os
import subprocess
import sys

import pytest

from common import atomic_file
from common import holder_lock

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _try_in_another_process(path):
  """(exit code, stderr) of a process that tries to take the lock."""
  script = ("import sys\nfrom common import holder_lock\n"
            "try:\n  holder_lock.HolderLock(sys.argv[1]).acquire()\n"
            "except holder_lock.HeldError as e:\n"
            "  sys.stderr.write(str(e)); sys.exit(3)\n")
  result = subprocess.run([sys.executable, "-c", script, path], cwd=_ROOT,
                          capture_output=True, text=True, timeout=60)
  return result.returncode, result.stderr


def test_a_second_process_refuses_naming_the_holder(tmp_path):
  path = str(tmp_path / "run.lock")
  with holder_lock.HolderLock(path):
    holder = holder_lock.read_holder(path)
    assert holder["pid"] == os.getpid()
    code, message = _try_in_another_process(path)
    assert code == 3
    assert "pid %d" % os.getpid() in message
  # Released: the file names nobody and the other process gets the lock.
  assert holder_lock.read_holder(path) is None
  assert _try_in_another_process(path)[0] == 0


def test_a_killed_holder_leaves_its_name_but_no_lock(tmp_path):
  path = str(tmp_path / "run.lock")
  with open(path, "w") as f:
    json.dump({"host": "h", "pid": 1, "started": "then"}, f)
  with holder_lock.HolderLock(path, remove_on_release=True):
    assert holder_lock.read_holder(path)["pid"] == os.getpid()
  assert not os.path.exists(path)


def test_a_symbolic_link_at_the_lock_is_refused(tmp_path):
  target = tmp_path / "precious.txt"
  target.write_text("keep me")
  os.symlink(target, tmp_path / "run.lock")
  with pytest.raises(atomic_file.LinkError):
    holder_lock.HolderLock(str(tmp_path / "run.lock")).acquire()
  assert target.read_text() == "keep me"


def test_describe_holder_of_an_empty_file():
  assert "not written" in holder_lock.describe_holder(None)

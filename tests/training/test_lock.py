"""Tests for training/lock.py with real processes holding the lock."""

import os
import signal
import socket
import subprocess
import sys
import textwrap

import pytest

from common import atomic_file
from training import lock

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# Takes the lock (argv: model_dir, worker index or ""), says so, then waits.
_HOLDER = textwrap.dedent("""
    import sys, time
    from training import lock
    index = int(sys.argv[2]) if sys.argv[2] else None
    try:
      lock.RunLock(sys.argv[1], index).acquire()
    except lock.LockedError as e:
      print(e, flush=True)
      sys.exit(3)
    print("locked", flush=True)
    time.sleep(120)
""")


def _start(model_dir, worker_index=""):
  proc = subprocess.Popen(
      [sys.executable, "-c", _HOLDER, str(model_dir), str(worker_index)],
      cwd=ROOT, stdout=subprocess.PIPE, text=True)
  return proc, proc.stdout.readline().strip()


@pytest.fixture
def holder(tmp_path):
  proc, line = _start(tmp_path / "model")
  assert line == "locked"
  yield proc
  if proc.poll() is None:
    proc.kill()
  proc.wait()
  proc.stdout.close()


def test_a_second_run_is_refused_naming_the_holder(tmp_path, holder):
  model_dir = str(tmp_path / "model")
  with pytest.raises(lock.LockedError) as info:
    lock.RunLock(model_dir).acquire()
  message = str(info.value)
  assert "in use by another training run" in message
  assert "host %s, pid %d, started " % (socket.gethostname(),
                                        holder.pid) in message
  # A second process too (the resubmitted batch job).
  proc, line = _start(tmp_path / "model")
  assert proc.wait(timeout=60) == 3
  proc.stdout.close()
  assert "pid %d" % holder.pid in line


def test_a_killed_holder_never_blocks_the_next_run(tmp_path, holder):
  model_dir = str(tmp_path / "model")
  holder.send_signal(signal.SIGKILL)
  holder.wait()
  # The file still names the dead process; the kernel released its lock.
  assert lock.read_holder(lock.lock_path(model_dir))["pid"] == holder.pid
  with lock.RunLock(model_dir):
    assert lock.read_holder(lock.lock_path(model_dir))["pid"] == os.getpid()
  assert lock.read_holder(lock.lock_path(model_dir)) is None


def test_workers_of_one_cluster_do_not_refuse_each_other(tmp_path, holder):
  # The holder is the chief; worker 1 locks its own file, a second worker 1
  # is refused.
  model_dir = str(tmp_path / "model")
  with lock.RunLock(model_dir, worker_index=1):
    with pytest.raises(lock.LockedError):
      lock.RunLock(model_dir, worker_index=1).acquire()
    with pytest.raises(lock.LockedError):
      lock.RunLock(model_dir, worker_index=0).acquire()
  assert os.path.basename(lock.lock_path(model_dir, 1)) == ".lock.worker-1"


def test_release_lets_the_same_process_lock_again(tmp_path):
  run_lock = lock.RunLock(str(tmp_path))
  run_lock.acquire()
  run_lock.release()
  run_lock.release()  # twice is harmless
  with lock.RunLock(str(tmp_path)):
    pass


def test_a_lock_file_that_is_a_symlink_is_refused_not_truncated(tmp_path):
  # A planted `.lock -> precious` must not make training empty `precious`.
  model_dir = tmp_path / "model"
  model_dir.mkdir()
  precious = tmp_path / "precious.txt"
  precious.write_bytes(b"keep me\n")
  os.symlink(str(precious), str(model_dir / lock.LOCK_FILE))
  with pytest.raises(atomic_file.LinkError) as info:
    lock.RunLock(str(model_dir)).acquire()
  assert str(info.value) == (
      "%s is a symbolic link (to %s); refusing to follow it. Remove the link "
      "and re-run." % (model_dir / lock.LOCK_FILE, precious))
  assert precious.read_bytes() == b"keep me\n"
  assert os.path.islink(str(model_dir / lock.LOCK_FILE))

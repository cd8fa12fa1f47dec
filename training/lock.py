"""One training run per model directory: an OS-level lock on a file in it.

A resubmitted batch job that starts while the first one still trains would
interleave checkpoints and `train_state.json` with it. `RunLock` takes an
exclusive `flock` on `<model_dir>/.lock` and writes the holder (host, pid,
start time) into the file, so a second run refuses at start with a message
naming the first. The kernel releases the lock when the holder's process
ends, however it ends: a run killed with `kill -9` leaves a file with its
old holder in it, but no lock, and never blocks the next run.

The workers of one TF_CONFIG cluster share the model directory. Each task
locks its own file: the chief (and a run without a cluster) `.lock`, worker
N `.lock.worker-N`. The tasks of one cluster never refuse each other, while a
second copy of any task is refused. Readers (`transcribe.py`, an evaluation
of a directory being trained) take no lock.

`flock` is local to one machine unless the file system forwards it (NFSv4
and Lustre with `flock` mounts do; some do not): on a shared directory where
it is not forwarded, two runs on two machines are not detected.
"""

import datetime
import errno
import fcntl
import json
import os
import socket

LOCK_FILE = ".lock"


class LockedError(RuntimeError):
  """Another run holds the model directory; the message names it."""


def lock_path(model_dir, worker_index=None):
  """The lock file of the chief (worker_index None or 0) or of a worker."""
  if not worker_index:
    return os.path.join(model_dir, LOCK_FILE)
  return os.path.join(model_dir, "%s.worker-%d" % (LOCK_FILE, worker_index))


def read_holder(path):
  """The holder a lock file names: a dict (host, pid, started), or None."""
  try:
    with open(path) as f:
      return json.loads(f.read() or "null")
  except (OSError, ValueError):
    return None


def describe_holder(holder):
  """'host H, pid P, started T' (or a note that the file names nobody)."""
  if not isinstance(holder, dict):
    return "a run that has not written its name yet"
  return "host %s, pid %s, started %s" % (
      holder.get("host", "?"), holder.get("pid", "?"),
      holder.get("started", "?"))


class RunLock(object):
  """An exclusive lock on a model directory for the life of a run.

  Use as a context manager, or call `acquire` and `release`.
  """

  def __init__(self, model_dir, worker_index=None):
    """Args: model_dir; worker_index: the TF_CONFIG task index (None: none)."""
    self.model_dir = model_dir
    self.path = lock_path(model_dir, worker_index)
    self._fd = None

  def acquire(self):
    """Takes the lock and writes this process as its holder.

    Raises:
      LockedError: another process holds it (named in the message).
    """
    os.makedirs(self.model_dir, exist_ok=True)
    fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
      os.close(fd)
      if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
        raise
      raise LockedError(
          "%s is in use by another training run (%s; lock file %s). Wait "
          "for it to finish or stop it, or use another model directory." % (
              self.model_dir, describe_holder(read_holder(self.path)),
              self.path)) from None
    holder = {"host": socket.gethostname(), "pid": os.getpid(),
              "started": datetime.datetime.now().astimezone().isoformat(
                  timespec="seconds")}
    # Rewritten in place (not renamed): the lock belongs to this inode.
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(holder) + "\n").encode("utf-8"), 0)
    self._fd = fd
    return self

  def release(self):
    """Empties the file (it names nobody then) and drops the lock."""
    if self._fd is None:
      return
    try:
      os.ftruncate(self._fd, 0)
    except OSError:  # a full or read-only disk; the lock goes anyway
      pass
    fcntl.flock(self._fd, fcntl.LOCK_UN)
    os.close(self._fd)
    self._fd = None

  def __enter__(self):
    return self.acquire()

  def __exit__(self, *exc_info):
    self.release()

"""An exclusive lock on a file that names its holder (host, pid, start time).

`HolderLock` takes an exclusive `flock` on a lock file and writes the holder
into it, so a second process that wants the same thing refuses at once with
a message naming the first. The kernel releases the lock when the holder's
process ends, however it ends: a process killed with `kill -9` leaves a file
with its old holder in it, but no lock, and never blocks the next one.

The lock file is opened without following symbolic links: a link planted at
its name would otherwise have us truncate the file it points to.

`flock` is local to one machine unless the file system forwards it (NFSv4
and Lustre with `flock` mounts do; some do not).

Used for a training run's model directory (`training/lock.py`) and for each
download's destination (`data/downloading/fetch.py`).
"""

import datetime
import errno
import fcntl
import json
import os
import socket

from common import atomic_file


class HeldError(RuntimeError):
  """Another process holds the lock; `holder` names it (a dict, or None)."""

  def __init__(self, path, holder):
    super().__init__("%s is held by %s" % (path, describe_holder(holder)))
    self.path = path
    self.holder = holder


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
    return "a process that has not written its name yet"
  return "host %s, pid %s, started %s" % (
      holder.get("host", "?"), holder.get("pid", "?"),
      holder.get("started", "?"))


class HolderLock(object):
  """An exclusive lock on `path` for as long as it is held.

  Use as a context manager, or call `acquire` and `release`.
  """

  def __init__(self, path, remove_on_release=False):
    """Args: path; remove_on_release: delete the file when done (True) or
    leave it, empty, as a record of where the lock lives (False)."""
    self.path = path
    self._remove = remove_on_release
    self._fd = None

  def acquire(self):
    """Takes the lock and writes this process as its holder.

    Raises:
      HeldError: another process holds it.
      atomic_file.LinkError: the lock file is a symbolic link.
    """
    fd = self._lock_current_file()
    holder = {"host": socket.gethostname(), "pid": os.getpid(),
              "started": datetime.datetime.now().astimezone().isoformat(
                  timespec="seconds")}
    # Rewritten in place (not renamed): the lock belongs to this inode.
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(holder) + "\n").encode("utf-8"), 0)
    self._fd = fd
    return self

  def _lock_current_file(self):
    """The fd of the file at `path`, locked.

    A holder that removes the file on release may do so after we opened it:
    a lock on that unlinked file would guard nothing, so lock again until
    the locked file is the one at `path`.
    """
    while True:
      fd = atomic_file.open_nofollow(self.path, os.O_RDWR | os.O_CREAT)
      try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
      except OSError as e:
        os.close(fd)
        if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
          raise
        raise HeldError(self.path, read_holder(self.path)) from None
      locked = os.fstat(fd)
      try:
        current = os.stat(self.path, follow_symlinks=False)
      except FileNotFoundError:
        current = None
      if current is not None and (current.st_dev, current.st_ino) == (
          locked.st_dev, locked.st_ino):
        return fd
      os.close(fd)

  def release(self):
    """Empties (or removes) the file, so it names nobody, and unlocks."""
    if self._fd is None:
      return
    try:
      if self._remove:
        os.remove(self.path)  # while locked: see _lock_current_file
      else:
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

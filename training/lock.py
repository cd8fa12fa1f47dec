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
it is not forwarded, two runs on two machines are not detected. The locking
itself (`common/holder_lock.py`) is shared with the downloads; a `.lock` that
is a symbolic link is refused rather than followed.
"""

import os

from common import holder_lock

LOCK_FILE = ".lock"

# The holder's record, shared with the download locks.
read_holder = holder_lock.read_holder
describe_holder = holder_lock.describe_holder


class LockedError(RuntimeError):
  """Another run holds the model directory; the message names it."""


def lock_path(model_dir, worker_index=None):
  """The lock file of the chief (worker_index None or 0) or of a worker."""
  if not worker_index:
    return os.path.join(model_dir, LOCK_FILE)
  return os.path.join(model_dir, "%s.worker-%d" % (LOCK_FILE, worker_index))


class RunLock(holder_lock.HolderLock):
  """An exclusive lock on a model directory for the life of a run.

  Use as a context manager, or call `acquire` and `release`.
  """

  def __init__(self, model_dir, worker_index=None):
    """Args: model_dir; worker_index: the TF_CONFIG task index (None: none)."""
    super().__init__(lock_path(model_dir, worker_index))
    self.model_dir = model_dir

  def acquire(self):
    """Takes the lock and writes this process as its holder.

    Raises:
      LockedError: another process holds it (named in the message).
      atomic_file.LinkError: the lock file is a symbolic link (not followed).
    """
    os.makedirs(self.model_dir, exist_ok=True)
    try:
      return super().acquire()
    except holder_lock.HeldError as e:
      raise LockedError(
          "%s is in use by another training run (%s; lock file %s). Wait "
          "for it to finish or stop it, or use another model directory." % (
              self.model_dir, describe_holder(e.holder), self.path)) from None

"""Atomic file writes: a reader sees the old file or the whole new one.

A kill, a crash or a full disk in the middle of a write leaves at most a
temporary file (removed when the error is seen), never a half-written file
under the final name.
"""

import contextlib
import errno
import json
import os


# A full disk, a full quota, or a file size limit (RLIMIT_FSIZE).
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class WriteError(OSError):
  """A file could not be written (a full disk, no permission): names it."""

  def __str__(self):
    return self.strerror


@contextlib.contextmanager
def atomic_write(path, mode="w", encoding="utf-8"):
  """Opens a temporary file beside `path`; renames it over `path` on success.

  Args:
    path: the destination.
    mode: "w" (text, with `encoding` and "\\n" newlines) or "wb".
    encoding: for text mode.

  Yields:
    The open temporary file.

  Raises:
    WriteError: the write failed; no file is left behind.
  """
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  tmp = "%s.%d.tmp" % (path, os.getpid())
  text = "b" not in mode
  try:
    with open(tmp, mode, encoding=encoding if text else None,
              newline="\n" if text else None) as f:
      yield f
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  except OSError as e:
    with contextlib.suppress(OSError):
      os.remove(tmp)
    if isinstance(e, WriteError):
      raise
    reason = ("the disk is full" if e.errno in _DISK_FULL
              else e.strerror or str(e))
    raise WriteError(e.errno, "cannot write %s: %s" % (path, reason),
                     path) from e
  except BaseException:
    with contextlib.suppress(OSError):
      os.remove(tmp)
    raise


def write_text(path, text):
  """Writes `text` (UTF-8) to `path` atomically."""
  with atomic_write(path) as f:
    f.write(text)


def write_bytes(path, data):
  """Writes `data` to `path` atomically."""
  with atomic_write(path, "wb") as f:
    f.write(data)


def write_json(path, value, indent=1):
  """Writes `value` as JSON to `path` atomically."""
  with atomic_write(path) as f:
    json.dump(value, f, indent=indent)

"""Atomic, durable file writes: a reader sees the old file or the whole new one.

A kill, a crash or a full disk in the middle of a write leaves at most a
temporary file (removed when the error is seen), never a half-written file
under the final name. Every file is complete and fsync'ed before it takes its
name, and the folder is fsync'ed after the rename, so a power loss cannot
bring back the old file, or an empty one, under the new name.

Temporaries get unique names created with O_EXCL (two processes or threads
writing the same destination never share one, and a symbolic link planted at
a temporary's name is refused, not followed); `open_nofollow` opens lock
files, part files and caches the same way.
"""

import contextlib
import errno
import json
import os
import secrets


# A full disk, a full quota, or a file size limit (RLIMIT_FSIZE).
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class WriteError(OSError):
  """A file could not be written (a full disk, no permission): names it."""

  def __str__(self):
    return self.strerror


class LinkError(WriteError):
  """A path that must be a plain file is a symbolic link; it is not followed."""


def _write_error(error, path):
  """`error` (an OSError) as a WriteError naming `path`."""
  reason = ("the disk is full" if error.errno in _DISK_FULL
            else error.strerror or str(error))
  return WriteError(error.errno, "cannot write %s: %s" % (path, reason), path)


def open_nofollow(path, flags, mode=0o644):
  """`os.open` that refuses a symbolic link at `path` instead of following it.

  Without this, a link planted at a lock file's or a cache's name would make
  us truncate or overwrite whatever file it points to.

  Raises:
    LinkError: `path` is a symbolic link (the message names it).
  """
  try:
    return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
  except OSError as e:
    if e.errno == errno.ELOOP and os.path.islink(path):
      raise LinkError(errno.ELOOP, "%s is a symbolic link (to %s); refusing "
                      "to follow it. Remove the link and re-run."
                      % (path, os.readlink(path)), path) from None
    raise


def fsync_dir(directory):
  """Makes a rename or a new entry in `directory` survive a power loss."""
  fd = os.open(directory or ".", os.O_RDONLY | os.O_DIRECTORY)
  try:
    os.fsync(fd)
  finally:
    os.close(fd)


def _create_temp(path):
  """(fd, name) of a new, unique temporary file beside `path`."""
  while True:
    tmp = "%s.%d.%s.tmp" % (path, os.getpid(), secrets.token_hex(4))
    try:
      return open_nofollow(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL), tmp
    except FileExistsError:  # a leftover or a planted name: pick another
      continue


_OPEN_FLAGS = {"rb": os.O_RDONLY, "wb": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
               "ab": os.O_WRONLY | os.O_CREAT | os.O_APPEND}


def open_file(path, mode="rb"):
  """`open(path, mode)` ("rb", "wb" or "ab") through `open_nofollow`."""
  return open(path, mode,
              opener=lambda name, _: open_nofollow(name, _OPEN_FLAGS[mode]))


def rename_into_place(tmp, path):
  """fsyncs the finished `tmp`, renames it to `path`, fsyncs the folder."""
  fd = open_nofollow(tmp, os.O_RDONLY)
  try:
    os.fsync(fd)
  finally:
    os.close(fd)
  os.replace(tmp, path)
  fsync_dir(os.path.dirname(os.path.abspath(path)))


def move(source, dest):
  """Renames `source` to `dest` and fsyncs both folders (a durable move)."""
  os.replace(source, dest)
  for directory in {os.path.dirname(os.path.abspath(p))
                    for p in (source, dest)}:
    fsync_dir(directory)


@contextlib.contextmanager
def atomic_path(path):
  """A fresh temporary name beside `path` for another program to fill.

  For writers that take a path, not a file object (sox): the name exists
  (empty, created O_EXCL) when yielded; on success the file is fsync'ed and
  renamed over `path`, on any error removed.

  Raises:
    WriteError: the file could not be put in place.
  """
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  try:
    fd, tmp = _create_temp(path)
    os.close(fd)
  except WriteError:
    raise
  except OSError as e:
    raise _write_error(e, path) from e
  try:
    yield tmp
    rename_into_place(tmp, path)
  except BaseException as e:
    with contextlib.suppress(OSError):
      os.remove(tmp)
    if isinstance(e, OSError) and not isinstance(e, WriteError):
      raise _write_error(e, path) from e
    raise


@contextlib.contextmanager
def atomic_write(path, mode="w", encoding="utf-8"):
  """Opens a temporary file beside `path`; renames it over `path` on success.

  Args:
    path: the destination.
    mode: "w" (text, with `encoding` and "\\n" newlines) or "wb".
    encoding: for text mode.

  Yields:
    The open temporary file (its `name` is the temporary's path).

  Raises:
    WriteError: the write failed; no file is left behind.
  """
  text = "b" not in mode
  with atomic_path(path) as tmp:
    with open(tmp, mode, encoding=encoding if text else None,
              newline="\n" if text else None,
              opener=lambda name, _: open_nofollow(name, os.O_WRONLY)) as f:
      yield f
      f.flush()


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

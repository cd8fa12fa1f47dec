"""Safe, resumable extraction of the downloaded tar archives.

The original extracted every member wherever its name pointed. Here each
member is checked before anything is written: absolute names, names that
climb out with `..`, links whose target lies outside the extraction
directory, and device files are refused. Paths are resolved with
`os.path.realpath` against what is already on disk, so a symlink written by
an earlier member cannot be used as a ladder by a later one.

Members are extracted into a staging folder beside the archive and moved
into place only once every member passed, so a refused, corrupt or
interrupted archive leaves nothing but the staging folder, which the next
run deletes first. A marker file next to the extracted tree then records the
finished extraction, so a re-run does not need the (possibly deleted)
archive again. The archive's own name, the marker's and the staging
folder's are reserved: no member may take them (or reach them through a
link), so no archive can plant its own marker or overwrite itself.

A decompression bomb is stopped by two limits, on the bytes the members
would write and on their number, checked before each member is written.
"""

import lzma
import os
import shutil
import tarfile
import zlib

from absl import logging

from common import atomic_file
from common import progress
from data.downloading import common


# Defaults of the extraction limits: several times the largest corpus
# archive (train-other-500: about 30 GB in about 155,000 members).
MAX_EXTRACT_BYTES = 100 * 10 ** 9
MAX_MEMBERS = 1000000


class UnsafeArchiveError(common.DownloadError):
  """The archive holds a member that would land outside its directory."""


class ExtractionLimitError(common.DownloadError):
  """The archive would extract to more bytes or members than allowed."""


class _CountingReader(object):
  """A read-only file wrapper that reports bytes read to a progress bar.

  Counting compressed bytes gives an honest percentage for a streamed
  `.tar.gz`, whose uncompressed size is unknown until the end.
  """

  def __init__(self, f, bar):
    self._f = f
    self._bar = bar

  def read(self, size=-1):
    data = self._f.read(size)
    if self._bar is not None:
      self._bar.update(len(data))
    return data


def extraction_marker(archive, target_dir):
  """The marker path recording that `archive` was fully extracted."""
  return os.path.join(target_dir, "." + os.path.basename(archive) +
                      ".extracted")


def staging_dir(archive, target_dir):
  """The folder `archive` is extracted into before its tree moves in place."""
  return os.path.join(target_dir, "." + os.path.basename(archive) +
                      ".partial")


def is_extracted(archive, target_dir):
  """Whether a previous run finished extracting `archive` into target_dir."""
  return os.path.exists(extraction_marker(archive, target_dir))


def _is_reserved(top, archive_name):
  """Whether a top-level entry name belongs to the archive or our files.

  Covers the archive, its download's `.part`, the marker, the staging folder
  and the marker's temporary file.
  """
  return (top == archive_name or top.startswith(archive_name + ".") or
          top.startswith("." + archive_name + "."))


def _inside(path, root):
  return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _top(path, root):
  """The first component of real `path` below `root` ("." for root)."""
  return os.path.relpath(path, root).split(os.sep)[0]


def check_member(member, root, archive_name=None):
  """Raises UnsafeArchiveError unless `member` stays inside `root`.

  Args:
    member: a `tarfile.TarInfo`.
    root: the real (symlink-free, absolute) extraction directory.
    archive_name: the archive's file name; when given, the member may not
      take (or link to) a name reserved for it, see `_is_reserved`.
  """
  name = member.name
  path = os.path.realpath(os.path.join(root, name))
  link = None
  if member.issym():
    link = os.path.realpath(os.path.join(
        os.path.dirname(os.path.join(root, name)), member.linkname))
  elif member.islnk():
    link = os.path.realpath(os.path.join(root, member.linkname))
  reserved = [p for p in (path, link) if p is not None and archive_name and
              _inside(p, root) and _is_reserved(_top(p, root), archive_name)]
  if os.path.isabs(name) or name.startswith(("/", "\\")):
    reason = "has an absolute path"
  elif not _inside(path, root):
    reason = "would be written outside the target directory"
  elif member.issym() and (os.path.isabs(member.linkname) or
                           not _inside(link, root)):
    reason = "is a symlink pointing outside (to %r)" % member.linkname
  elif member.islnk() and (os.path.isabs(member.linkname) or
                           not _inside(link, root)):
    reason = "is a hard link to a file outside (%r)" % member.linkname
  elif member.isdev():
    reason = "is a device file or FIFO"
  elif reserved:
    reason = ("would reach %r, a name kept for the archive and its "
              "extraction marker" % _top(reserved[0], root))
  else:
    return
  raise UnsafeArchiveError("refusing to extract member %r: it %s." %
                           (name, reason))


def _corrupt(archive, error):
  return common.DownloadError(
      "cannot read archive %s (%s); delete it and re-run to download it "
      "again." % (archive, error))


def _check_limits(archive, count, total, max_bytes, max_members):
  """Raises ExtractionLimitError once `count` members or `total` bytes pass."""
  if max_members is not None and count > max_members:
    raise ExtractionLimitError(
        "%s holds more than %d members, the limit; refusing to extract it "
        "(nothing was put in place)." % (archive, max_members))
  if max_bytes is not None and total > max_bytes:
    raise ExtractionLimitError(
        "%s would extract to more than %d bytes (%.3g GB), the limit; "
        "refusing to extract it (nothing was put in place)." % (
            archive, max_bytes, max_bytes / 1e9))


def _remove_tree(path):
  """Deletes a staging folder (or whatever took its name), if present."""
  if os.path.islink(path) or os.path.isfile(path):
    os.remove(path)
  elif os.path.isdir(path):
    shutil.rmtree(path)


def _move_into(source, dest):
  """Moves the entries of folder `source` into folder `dest`, merging.

  Folders present in both are merged (a re-extraction after the user
  deleted part of the tree); anything else in `dest` is replaced.
  """
  for entry in os.scandir(source):
    target = os.path.join(dest, entry.name)
    is_dir = entry.is_dir(follow_symlinks=False)
    if is_dir and os.path.isdir(target) and not os.path.islink(target):
      _move_into(entry.path, target)
      os.rmdir(entry.path)
      continue
    if is_dir and os.path.lexists(target):
      os.remove(target)  # A file or link where the archive has a folder.
    os.replace(entry.path, target)


def _extract_members(archive, root, bar, max_bytes, max_members):
  """Streams the members of `archive` into `root`; returns their number."""
  name = os.path.basename(archive)
  count = total = 0
  with open(archive, "rb") as raw, tarfile.open(
      fileobj=_CountingReader(raw, bar), mode="r|*") as tar:
    for member in tar:
      check_member(member, root, name)
      count += 1
      total += member.size if member.isreg() else 0
      _check_limits(archive, count, total, max_bytes, max_members)
      if hasattr(tarfile, "data_filter"):
        # Our checks give the clear message; the standard "data" filter
        # (Python >= 3.11.4) is a second line of defence and also drops
        # setuid bits.
        tar.extract(member, root, filter="data")
      else:
        tar.extract(member, root)
  return count


def extract_archive(archive, target_dir, show_progress=True,
                    max_bytes=MAX_EXTRACT_BYTES, max_members=MAX_MEMBERS):
  """Extracts `archive` into `target_dir`, member by member, after checks.

  The archive is read as a stream, so a 23 GB `.tar.gz` is decompressed once
  and each member is checked just before it is written to the staging
  folder; the tree moves into `target_dir` only when all of them passed.

  Args:
    archive: path of a tar archive (any compression tarfile reads).
    target_dir: directory to extract into; created when missing.
    show_progress: draw a progress bar over the archive's bytes.
    max_bytes: most bytes the regular members may hold together (None: no
      limit).
    max_members: most members the archive may hold (None: no limit).

  Raises:
    UnsafeArchiveError: a member would escape `target_dir` or take a
      reserved name; nothing is put in place and no marker is written.
    ExtractionLimitError: a limit was passed; likewise nothing is kept.
    common.DownloadError: the archive is truncated or corrupt.
  """
  os.makedirs(target_dir, exist_ok=True)
  staging = staging_dir(archive, target_dir)
  _remove_tree(staging)  # Left by an interrupted run: never trusted.
  os.mkdir(staging)
  root = os.path.realpath(staging)
  name = os.path.basename(archive)
  bar = None
  if show_progress:
    bar = progress.Progress("extracting " + name, os.path.getsize(archive))
  try:
    count = _extract_members(archive, root, bar, max_bytes, max_members)
  except BaseException as e:
    _remove_tree(staging)
    _raise_in_our_terms(archive, e, os.path.realpath(target_dir))
    raise
  finally:
    if bar is not None:
      bar.close()
  _move_into(staging, target_dir)
  os.rmdir(staging)
  atomic_file.write_text(extraction_marker(archive, target_dir),
                         "%d members\n" % count)
  logging.info("Extracted %d members of %s into %s.", count, name,
               os.path.realpath(target_dir))


def _raise_in_our_terms(archive, error, target):
  """Re-raises an extraction failure as a DownloadError where one applies."""
  if isinstance(error, UnsafeArchiveError):
    raise UnsafeArchiveError("%s is unsafe, %s Nothing was written outside "
                             "%s." % (archive, error, target)) from None
  if isinstance(error, getattr(tarfile, "FilterError", ())):
    raise UnsafeArchiveError("%s is unsafe: %s. Nothing was written outside "
                             "%s." % (archive, error, target)) from None
  if isinstance(error, (tarfile.TarError, EOFError, zlib.error,
                        lzma.LZMAError)):
    raise _corrupt(archive, error) from None
  # gzip and bz2 report corrupt data as OSErrors without an errno; real I/O
  # errors (a full disk) carry one and are reported by download.py.
  if isinstance(error, OSError) and error.errno is None:
    raise _corrupt(archive, error) from None

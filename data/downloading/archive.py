"""Safe, resumable extraction of the downloaded tar archives.

The original extracted every member wherever its name pointed. Here each
member is checked before anything is written: absolute names, names that
climb out with `..`, links whose target lies outside the extraction
directory, and device files are refused. Paths are resolved with
`os.path.realpath` against what is already on disk, so a symlink written by
an earlier member cannot be used as a ladder by a later one.

A marker file next to the extracted tree records a finished extraction, so a
re-run does not need the (possibly deleted) archive again, while an
extraction cut short is simply redone: tar members overwrite the partial
files.
"""

import lzma
import os
import tarfile
import zlib

from absl import logging

from data import atomic_file
from data import progress
from data.downloading import common


class UnsafeArchiveError(common.DownloadError):
  """The archive holds a member that would land outside its directory."""


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


def is_extracted(archive, target_dir):
  """Whether a previous run finished extracting `archive` into target_dir."""
  return os.path.exists(extraction_marker(archive, target_dir))


def _inside(path, root):
  return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def check_member(member, root):
  """Raises UnsafeArchiveError unless `member` stays inside `root`.

  Args:
    member: a `tarfile.TarInfo`.
    root: the real (symlink-free, absolute) extraction directory.
  """
  name = member.name
  if os.path.isabs(name) or name.startswith(("/", "\\")):
    reason = "has an absolute path"
  elif not _inside(os.path.realpath(os.path.join(root, name)), root):
    reason = "would be written outside the target directory"
  elif member.issym() and (
      os.path.isabs(member.linkname) or not _inside(
          os.path.realpath(os.path.join(
              os.path.dirname(os.path.join(root, name)), member.linkname)),
          root)):
    reason = "is a symlink pointing outside (to %r)" % member.linkname
  elif member.islnk() and (
      os.path.isabs(member.linkname) or not _inside(
          os.path.realpath(os.path.join(root, member.linkname)), root)):
    reason = "is a hard link to a file outside (%r)" % member.linkname
  elif member.isdev():
    reason = "is a device file or FIFO"
  else:
    return
  raise UnsafeArchiveError("refusing to extract member %r: it %s." %
                           (name, reason))


def _corrupt(archive, error):
  return common.DownloadError(
      "cannot read archive %s (%s); delete it and re-run to download it "
      "again." % (archive, error))


def extract_archive(archive, target_dir, show_progress=True):
  """Extracts `archive` into `target_dir`, member by member, after checks.

  The archive is read as a stream, so a 23 GB `.tar.gz` is decompressed once
  and each member is checked just before it is written.

  Args:
    archive: path of a tar archive (any compression tarfile reads).
    target_dir: directory to extract into; created when missing.
    show_progress: draw a progress bar over the archive's bytes.

  Raises:
    UnsafeArchiveError: a member would escape `target_dir`; members before
      it were extracted inside, nothing was written outside, and no marker
      is written.
    common.DownloadError: the archive is truncated or corrupt.
  """
  os.makedirs(target_dir, exist_ok=True)
  root = os.path.realpath(target_dir)
  name = os.path.basename(archive)
  bar = None
  if show_progress:
    bar = progress.Progress("extracting " + name, os.path.getsize(archive))
  count = 0
  try:
    with open(archive, "rb") as raw, tarfile.open(
        fileobj=_CountingReader(raw, bar), mode="r|*") as tar:
      for member in tar:
        check_member(member, root)
        if hasattr(tarfile, "data_filter"):
          # Our checks give the clear message; the standard "data" filter
          # (Python >= 3.11.4) is a second line of defence and also drops
          # setuid bits.
          tar.extract(member, root, filter="data")
        else:
          tar.extract(member, root)
        count += 1
  except UnsafeArchiveError as e:
    raise UnsafeArchiveError("%s is unsafe, %s Nothing was written outside "
                             "%s." % (archive, e, root))
  except getattr(tarfile, "FilterError", ()) as e:
    raise UnsafeArchiveError("%s is unsafe: %s. Nothing was written outside "
                             "%s." % (archive, e, root))
  except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError) as e:
    raise _corrupt(archive, e)
  except OSError as e:
    # gzip and bz2 report corrupt data as OSErrors without an errno; real
    # I/O errors (a full disk) carry one and are reported by download.py.
    if e.errno is None:
      raise _corrupt(archive, e)
    raise
  finally:
    if bar is not None:
      bar.close()
  atomic_file.write_text(extraction_marker(archive, target_dir),
                         "%d members\n" % count)
  logging.info("Extracted %d members of %s into %s.", count, name, root)

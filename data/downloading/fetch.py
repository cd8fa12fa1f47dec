"""Resumable, verified downloads: the download and verify steps.

`fetch` streams a URL (http, https or file) into `<dest>.part`, resumes an
interrupted transfer with an HTTP Range request (in the same run after a
dropped connection, or in a later run from a left-over part file), checks the
archive's md5 (or sha256) and only then renames the part file to `<dest>`. So
`<dest>` existing means "downloaded and verified", which is what makes re-runs
cheap.

Checksums are `data/downloading/checksums.py`'s; its names used by fetch's
callers are kept here too.
"""

import collections
import errno
import hashlib
import http.client
import os
import re
import shutil
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

from absl import logging

from common import atomic_file
from common import holder_lock
from common import progress
from data.downloading import checksums
from data.downloading import common

# The checksum names callers have always found here; their home is checksums.
LIBRISPEECH_MD5 = checksums.LIBRISPEECH_MD5
KNOWN_CHECKSUMS = checksums.KNOWN_CHECKSUMS
ChecksumError = checksums.ChecksumError
MissingChecksumError = checksums.MissingChecksumError
hash_algorithm = checksums.hash_algorithm
parse_checksum_text = checksums.parse_checksum_text
read_checksum_file = checksums.read_checksum_file
expected_checksum = checksums.expected_checksum
file_digest = checksums.file_digest

_CHUNK_BYTES = 1 << 20


class NetworkError(common.DownloadError):
  """The archive could not be fetched (no network, HTTP error, no file)."""


class UnreachableError(NetworkError):
  """The server cannot be reached at all (refused, unknown host)."""


class BusyError(common.DownloadError):
  """Another process is downloading the same file; the message names it."""


class TooSlowError(NetworkError):
  """Fewer bytes than the minimum arrived in the stall window."""


class _TransientError(Exception):
  """A transfer stopped early for a reason worth resuming after."""


def _free_bytes(directory):
  # A function of its own so tests can simulate a full disk.
  return shutil.disk_usage(directory).free


def _check_free_space(part, needed):
  """Fails before a transfer that cannot fit, rather than hours into it."""
  directory = os.path.dirname(os.path.abspath(part))
  free = _free_bytes(directory)
  if needed > free:
    raise common.DownloadError(
        "not enough disk space for %s: %s still to download, %s free in %s."
        % (os.path.basename(part)[:-len(".part")],
           progress.format_bytes(needed),
           progress.format_bytes(free), directory))


def _parse_content_range(value):
  """Parses `bytes a-b/total` or `bytes */total` into (start or None, total)."""
  match = re.match(r"bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)", value or "")
  if not match:
    return None, None
  start = int(match.group(1)) if match.group(1) is not None else None
  total = int(match.group(2)) if match.group(2) != "*" else None
  return start, total


def _open_http(url, offset, timeout_s):
  """Opens `url` from byte `offset`; returns (stream or None, start, total).

  `start` is where the body begins: `offset` when the server honoured the
  Range request, 0 when it sent the whole file. A None stream means the part
  file is already complete (the server answered 416 for a range at its end).
  """
  request = urllib.request.Request(url)
  if offset:
    request.add_header("Range", "bytes=%d-" % offset)
  try:
    response = urllib.request.urlopen(request, timeout=timeout_s)
  except urllib.error.HTTPError as e:
    if e.code == 416 and offset:
      _, total = _parse_content_range(e.headers.get("Content-Range"))
      e.close()
      if total == offset:
        return None, offset, total
      # The part file is longer than the archive: start again from zero.
      return _open_http(url, 0, timeout_s)
    raise NetworkError("%s answered HTTP %d (%s)." % (url, e.code, e.reason))
  except urllib.error.URLError as e:
    if isinstance(e.reason, (ConnectionRefusedError, socket.gaierror)):
      raise UnreachableError("cannot reach %s: %s." % (url, e.reason))
    raise _TransientError(str(e.reason))
  if response.status == 206:
    start, total = _parse_content_range(response.headers.get("Content-Range"))
    if start != offset:
      response.close()
      raise NetworkError("%s sent bytes from %s when asked for %d."
                         % (url, start, offset))
    return response, start, total
  length = response.headers.get("Content-Length")
  return response, 0, int(length) if length is not None else None


def _open_file(url, offset):
  """Like `_open_http` for a file:// URL; seeking stands in for Range."""
  parsed = urllib.parse.urlparse(url)
  if parsed.netloc not in ("", "localhost"):
    raise NetworkError("%s names host %r; a file:// URL needs an absolute "
                       "path, e.g. file:///srv/mirror." % (url, parsed.netloc))
  path = urllib.request.url2pathname(parsed.path)
  try:
    total = os.path.getsize(path)
    stream = open(path, "rb")
  except OSError as e:
    raise NetworkError("cannot read %s: %s." % (url, e.strerror or e))
  start = offset if offset <= total else 0
  stream.seek(start)
  return stream, start, total


def _open(url, offset, timeout_s):
  scheme = urllib.parse.urlparse(url).scheme
  if scheme == "file":
    return _open_file(url, offset)
  if scheme in ("http", "https"):
    return _open_http(url, offset, timeout_s)
  raise NetworkError("unsupported URL scheme in %s (use http://, https:// or "
                     "file://)." % url)


class _PartFile(object):
  """The `.part` file of a download and the running digest of its bytes.

  Bytes already on disk are hashed once when resuming; the digest of what
  streamed in is compared with the file on disk at the end. The file is
  never opened through a symbolic link.
  """

  def __init__(self, path, algorithm):
    self.path = path
    self._algorithm = algorithm
    self.hasher = hashlib.new(algorithm)
    self.size = 0
    self.total = None  # What the server announced, when it did.
    self.received = 0  # Bytes appended by this process, across restarts.
    if os.path.lexists(path):
      with atomic_file.open_file(path) as f:
        for block in iter(lambda: f.read(_CHUNK_BYTES), b""):
          self.hasher.update(block)
          self.size += len(block)

  def restart(self):
    """Empties the file, e.g. when the server ignored our Range request."""
    atomic_file.open_file(self.path, "wb").close()
    self.hasher = hashlib.new(self._algorithm)
    self.size = 0

  def append_from(self, stream, bar, stall):
    """Appends everything `stream` yields; returns when it ends.

    Raises:
      TooSlowError: fewer than `stall.min_bytes` arrived in a window of
        `stall.window_s` seconds (a server trickling bytes in never times
        out the socket).
    """
    # read1 returns what has arrived instead of waiting for a whole chunk,
    # so a trickle is measured as it comes.
    read = getattr(stream, "read1", stream.read)
    window_start, window_bytes = time.monotonic(), 0
    with atomic_file.open_file(self.path, "ab") as out:
      for block in iter(lambda: read(_CHUNK_BYTES), b""):
        out.write(block)
        self.hasher.update(block)
        self.size += len(block)
        self.received += len(block)
        if bar is not None:
          bar.update(len(block))
        window_bytes += len(block)
        elapsed = time.monotonic() - window_start
        if stall.window_s and elapsed >= stall.window_s:
          if window_bytes < stall.min_bytes:
            raise TooSlowError(
                "%s: only %d bytes arrived in %.0f s (the minimum is %d per "
                "%g s); stopped at %s, re-run to resume." % (
                    stall.url, window_bytes, elapsed, stall.min_bytes,
                    stall.window_s, progress.format_bytes(self.size)))
          window_start, window_bytes = time.monotonic(), 0

  def verify_on_disk(self, expected_digest, name):
    """Re-reads the finished file: its size and digest, not what streamed.

    Returns:
      The file's hex digest.

    Raises:
      ChecksumError: the file differs from what arrived, from the size the
        server announced, or from `expected_digest`; it is deleted.
    """
    size = os.path.getsize(self.path)
    actual = file_digest(self.path, self._algorithm)
    problem = None
    if size != self.size or actual != self.hasher.hexdigest():
      problem = ("%s on disk is not what was downloaded (%d bytes on disk, %d "
                 "received); another process wrote to it" % (
                     self.path, size, self.size))
    elif self.total is not None and size != self.total:
      problem = "%s has %d bytes, the server announced %d" % (
          self.path, size, self.total)
    elif expected_digest and actual != expected_digest.lower():
      problem = "checksum mismatch for %s: expected %s %s, got %s" % (
          name, self._algorithm, expected_digest, actual)
    if problem:
      os.remove(self.path)
      raise ChecksumError("%s; deleted the download, re-run to fetch it "
                          "again." % problem)
    return actual


# The minimum transfer rate: fewer than `min_bytes` in `window_s` seconds
# stops the download (window_s 0: no minimum). `url` is named in the error.
Stall = collections.namedtuple("Stall", ["url", "min_bytes", "window_s"])


def _attempt(url, part, bar, timeout_s, stall):
  """One request: appends what arrives to `part`, raising if it stops short."""
  stream, start, total = _open(url, part.size, timeout_s)
  part.total = total
  if start != part.size:
    logging.warning("%s ignored the resume request; downloading it from the "
                    "start.", url)
    part.restart()
  if stream is None:
    return
  with stream:
    if total is not None:
      _check_free_space(part.path, total - part.size)
    if bar is not None:
      bar.reset(part.size, total)
    part.append_from(stream, bar, stall)
  if total is not None and part.size < total:
    raise _TransientError("connection closed after %s of %s" % (
        progress.format_bytes(part.size),
        progress.format_bytes(total)))


def fetch(url, dest, expected_digest=None, max_stalled_attempts=4,
          backoff_s=1.0, timeout_s=60, show_progress=True, stall_bytes=0,
          stall_window_s=0):
  """Downloads `url` to `dest` through a resumable, verified `.part` file.

  One process at a time downloads to `dest`: it holds `<dest>.lock`
  (`common/holder_lock.py`), and a second one refuses at once, naming the
  first, rather than waiting on a transfer that may take hours or appending
  to the same part file.

  Args:
    url: http(s):// or file:// address of the archive.
    dest: final path; it appears only once the file on disk matched.
    expected_digest: md5 or sha256 hex digest, or None to skip verification
      (the md5 is then logged so the user can pin it).
    max_stalled_attempts: give up after this many attempts in a row that
      brought no new bytes; an attempt that made progress resets the count,
      so a flaky but moving connection finishes a 23 GB archive.
    backoff_s: first wait before resuming; doubles per stalled attempt.
    timeout_s: socket timeout, so a silent connection is resumed rather than
      waited on forever.
    show_progress: draw the progress bar on stderr.
    stall_bytes, stall_window_s: stop when fewer than `stall_bytes` arrive
      in `stall_window_s` seconds (0: no minimum rate); the part file stays
      for a re-run to resume.

  Returns:
    `dest`.

  Raises:
    BusyError: another process is downloading `dest`.
    NetworkError: the server or file cannot be reached, keeps failing, or
      is too slow (TooSlowError).
    ChecksumError: the file on disk does not match; it is deleted so the
      next run starts clean.
    common.DownloadError: the disk is full.
  """
  lock = holder_lock.HolderLock(dest + ".lock", remove_on_release=True)
  try:
    lock.acquire()
  except holder_lock.HeldError as e:
    raise BusyError(
        "%s is being downloaded by another run (%s; lock file %s); wait for "
        "it to finish or stop it." % (dest, holder_lock.describe_holder(
            e.holder), e.path)) from None
  try:
    if os.path.exists(dest):  # that other run finished it just now
      return dest
    part = _PartFile(dest + ".part",
                     hash_algorithm(expected_digest) if expected_digest
                     else "md5")
    _transfer(url, part, Stall(url, stall_bytes, stall_window_s),
              max_stalled_attempts, backoff_s, timeout_s, show_progress)
    actual = part.verify_on_disk(expected_digest, os.path.basename(dest))
    if expected_digest is None:
      logging.info("%s downloaded unverified (--skip_checksum); its md5 is "
                   "%s.", os.path.basename(dest), actual)
    atomic_file.rename_into_place(part.path, dest)
    return dest
  finally:
    lock.release()


def _transfer(url, part, stall, max_stalled_attempts, backoff_s, timeout_s,
              show_progress):
  """Fills `part` from `url`, resuming after transient failures."""
  name = os.path.basename(part.path)[:-len(".part")]
  if part.size:
    logging.info("Resuming %s from %s.", name,
                 progress.format_bytes(part.size))
  bar = progress.Progress(name, None) if show_progress else None
  stalled = 0
  while True:
    received = part.received
    try:
      _attempt(url, part, bar, timeout_s, stall)
      break
    except (_TransientError, ConnectionError, TimeoutError, socket.timeout,
            http.client.HTTPException) as e:
      stalled = 0 if part.received > received else stalled + 1
      if stalled >= max_stalled_attempts:
        raise NetworkError("downloading %s failed %d times in a row without "
                           "progress (last error: %s); re-run to resume."
                           % (url, stalled, e))
      delay = backoff_s * (2 ** max(stalled - 1, 0))
      if bar is not None:
        bar.break_line()
      logging.warning("Transfer of %s interrupted at %s (%s); resuming in "
                      "%.0f s.", name, progress.format_bytes(part.size),
                      e, delay)
      time.sleep(delay)
    except OSError as e:
      if e.errno == errno.ENOSPC:
        raise common.DownloadError(
            "disk full while writing %s; free some space and re-run to "
            "resume the download." % part.path)
      raise
  if bar is not None and part.received:
    bar.close()

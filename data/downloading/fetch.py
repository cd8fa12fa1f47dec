"""Resumable, verified downloads: the download and verify steps.

`fetch` streams a URL (http, https or file) into `<dest>.part`, resumes an
interrupted transfer with an HTTP Range request (in the same run after a
dropped connection, or in a later run from a left-over part file), checks the
archive's md5 (or sha256) and only then renames the part file to `<dest>`. So
`<dest>` existing means "downloaded and verified", which is what makes re-runs
cheap.

Checksums come from `KNOWN_CHECKSUMS` (the published values of the official
archives) and can be overridden per archive name by an md5sum-format file.
"""

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

from data import progress
from data.downloading import common

# md5 of the official LibriSpeech archives (OpenSLR resource 12), as published
# in http://www.openslr.org/resources/12/md5sum.txt. Checked against the same
# values pinned by PaddlePaddle/PaddleSpeech (data/librispeech/librispeech.py).
LIBRISPEECH_MD5 = {
    "train-clean-100.tar.gz": "2a93770f6d5c6c964bc36631d331a522",
    "train-clean-360.tar.gz": "c0e676e450a7ff2f54aeade5171606fa",
    "train-other-500.tar.gz": "d1a0fd59409feb2c614ce4d30c387708",
    "dev-clean.tar.gz": "42e2234ba48799c1f50f24a7926300a1",
    "dev-other.tar.gz": "c8d0bcc9cca99d4f8b62fcc847357931",
    "test-clean.tar.gz": "32fa31d27d2e1cad72775fee3f4849a9",
    "test-other.tar.gz": "fb5a50374b501bb3bac4815ee91d3135",
}

# keithito.com publishes no checksum for LJSpeech-1.1. This sha256 is the one
# torchaudio verifies every download against (pytorch/audio,
# torchaudio/datasets/ljspeech.py), the most widely exercised public value.
LJSPEECH_SHA256 = {
    "LJSpeech-1.1.tar.bz2":
        "be1a30453f28eb8dd26af4101ae40cbf2c50413b1bb21936cbcdc6fae3de8aa5",
}

KNOWN_CHECKSUMS = dict(LIBRISPEECH_MD5, **LJSPEECH_SHA256)

# The hash is told apart by the digest's length, so one md5sum/sha256sum-style
# file (or a mix of both) works as a checksum file.
_ALGORITHM_BY_HEX_LENGTH = {32: "md5", 64: "sha256"}
_CHECKSUM_LINE = re.compile(r"^([0-9a-fA-F]+)\s+\*?(.+?)\s*$")

_CHUNK_BYTES = 1 << 20


class NetworkError(common.DownloadError):
  """The archive could not be fetched (no network, HTTP error, no file)."""


class UnreachableError(NetworkError):
  """The server cannot be reached at all (refused, unknown host)."""


class ChecksumError(common.DownloadError):
  """A downloaded archive does not match its checksum, or none is known."""


class MissingChecksumError(ChecksumError):
  """No checksum is known for an archive and checking was not skipped."""


class _TransientError(Exception):
  """A transfer stopped early for a reason worth resuming after."""


def hash_algorithm(digest):
  """Returns "md5" or "sha256" for a hex digest, judged by its length.

  Raises:
    ChecksumError: for a digest of any other length.
  """
  algorithm = _ALGORITHM_BY_HEX_LENGTH.get(len(digest))
  if algorithm is None:
    raise ChecksumError("%r is neither an md5 nor a sha256 hex digest."
                        % digest)
  return algorithm


def parse_checksum_text(text, source):
  """Parses md5sum/sha256sum output: `<hex>  [*]<file name>` per line.

  Args:
    text: the file's contents. Blank lines and `#` comments are ignored.
    source: where the text came from, for error messages.

  Returns:
    A dict from archive base name (paths are dropped, so a file listing
    `./dev-clean.tar.gz` still matches) to the lower-case hex digest.

  Raises:
    ChecksumError: on a line that is not of that form.
  """
  checksums = {}
  for number, line in enumerate(text.splitlines(), 1):
    if not line.strip() or line.lstrip().startswith("#"):
      continue
    match = _CHECKSUM_LINE.match(line.strip())
    if not match or len(match.group(1)) not in _ALGORITHM_BY_HEX_LENGTH:
      raise ChecksumError(
          "%s line %d is not an md5sum/sha256sum line "
          "('<hex digest>  <file name>'): %r" % (source, number, line))
    name = os.path.basename(match.group(2).replace("\\", "/"))
    checksums[name] = match.group(1).lower()
  return checksums


def read_checksum_file(location, timeout_s=60):
  """Reads an md5sum-format file from a local path or an http(s)/file URL.

  Returns:
    The dict of `parse_checksum_text`.

  Raises:
    NetworkError: when the file cannot be read.
    ChecksumError: when it is malformed.
  """
  try:
    if urllib.parse.urlparse(location).scheme in ("http", "https", "file"):
      with urllib.request.urlopen(location, timeout=timeout_s) as response:
        text = response.read().decode("utf-8")
    else:
      with open(location, encoding="utf-8") as f:
        text = f.read()
  except (OSError, urllib.error.URLError, UnicodeDecodeError) as e:
    raise NetworkError("cannot read checksum file %s: %s" % (location, e))
  return parse_checksum_text(text, location)


def expected_checksum(archive_name, checksums, skip_checksum):
  """The digest an archive must have, or None when checking is skipped.

  Args:
    archive_name: e.g. "dev-clean.tar.gz".
    checksums: name -> digest, usually `KNOWN_CHECKSUMS` updated with the
      entries of a checksum file.
    skip_checksum: the user's explicit opt-out.

  Raises:
    MissingChecksumError: when no digest is known and the user did not opt
      out; we refuse to unpack gigabytes that nothing vouches for.
  """
  if skip_checksum:
    return None
  if archive_name not in checksums:
    raise MissingChecksumError("no checksum is known for %s." % archive_name)
  return checksums[archive_name]


def file_digest(path, algorithm="md5"):
  """The hex digest of a file, read in 1 MiB blocks."""
  hasher = hashlib.new(algorithm)
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(_CHUNK_BYTES), b""):
      hasher.update(block)
  return hasher.hexdigest()


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

  Bytes already on disk are hashed once when resuming, so the streamed rest
  only extends the digest instead of re-reading the whole archive at the end.
  """

  def __init__(self, path, algorithm):
    self.path = path
    self._algorithm = algorithm
    self.hasher = hashlib.new(algorithm)
    self.size = 0
    self.received = 0  # Bytes appended by this process, across restarts.
    if os.path.exists(path):
      with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK_BYTES), b""):
          self.hasher.update(block)
          self.size += len(block)

  def restart(self):
    """Empties the file, e.g. when the server ignored our Range request."""
    open(self.path, "wb").close()
    self.hasher = hashlib.new(self._algorithm)
    self.size = 0

  def append_from(self, stream, bar):
    """Appends everything `stream` yields; returns when it ends."""
    with open(self.path, "ab") as out:
      for block in iter(lambda: stream.read(_CHUNK_BYTES), b""):
        out.write(block)
        self.hasher.update(block)
        self.size += len(block)
        self.received += len(block)
        if bar is not None:
          bar.update(len(block))


def _attempt(url, part, bar, timeout_s):
  """One request: appends what arrives to `part`, raising if it stops short."""
  stream, start, total = _open(url, part.size, timeout_s)
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
    part.append_from(stream, bar)
  if total is not None and part.size < total:
    raise _TransientError("connection closed after %s of %s" % (
        progress.format_bytes(part.size),
        progress.format_bytes(total)))


def fetch(url, dest, expected_digest=None, max_stalled_attempts=4,
          backoff_s=1.0, timeout_s=60, show_progress=True):
  """Downloads `url` to `dest` through a resumable, verified `.part` file.

  Args:
    url: http(s):// or file:// address of the archive.
    dest: final path; it appears only once the checksum matched.
    expected_digest: md5 or sha256 hex digest, or None to skip verification
      (the md5 is then logged so the user can pin it).
    max_stalled_attempts: give up after this many attempts in a row that
      brought no new bytes; an attempt that made progress resets the count,
      so a flaky but moving connection finishes a 23 GB archive.
    backoff_s: first wait before resuming; doubles per stalled attempt.
    timeout_s: socket timeout, so a silent connection is resumed rather than
      waited on forever.
    show_progress: draw the progress bar on stderr.

  Returns:
    `dest`.

  Raises:
    NetworkError: the server or file cannot be reached or keeps failing.
    ChecksumError: the finished download does not match; the part file is
      deleted so the next run starts clean.
    common.DownloadError: the disk is full.
  """
  name = os.path.basename(dest)
  algorithm = hash_algorithm(expected_digest) if expected_digest else "md5"
  part = _PartFile(dest + ".part", algorithm)
  if part.size:
    logging.info("Resuming %s from %s.", name,
                 progress.format_bytes(part.size))
  bar = progress.Progress(name, None) if show_progress else None
  stalled = 0
  while True:
    received = part.received
    try:
      _attempt(url, part, bar, timeout_s)
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

  actual = part.hasher.hexdigest()
  if expected_digest is None:
    logging.info("%s downloaded unverified (--skip_checksum); its md5 is %s.",
                 name, actual)
  elif actual != expected_digest.lower():
    os.remove(part.path)
    raise ChecksumError(
        "checksum mismatch for %s: expected %s %s, got %s; deleted the "
        "download, re-run to fetch it again." % (name, algorithm,
                                                 expected_digest, actual))
  os.replace(part.path, dest)
  return dest

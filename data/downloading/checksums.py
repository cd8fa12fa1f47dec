"""Archive checksums: the built-in values, md5sum files, digests of files.

Checksums come from `KNOWN_CHECKSUMS` (the published values of the official
archives) and can be overridden per archive name by an md5sum-format file
(`read_checksum_file`, a path or a URL whose size is capped).
"""

import hashlib
import os
import re
import urllib.error
import urllib.parse
import urllib.request

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


class ChecksumError(common.DownloadError):
  """A downloaded archive does not match its checksum, or none is known."""


class MissingChecksumError(ChecksumError):
  """No checksum is known for an archive and checking was not skipped."""



class ChecksumFileError(ChecksumError):
  """A checksum file cannot be read."""


class ChecksumFileTooLargeError(ChecksumFileError):
  """A checksum file is larger than the cap."""


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


def read_checksum_file(location, timeout_s=60, max_bytes=1 << 20):
  """Reads an md5sum-format file from a local path or an http(s)/file URL.

  Args:
    location: the path or URL.
    timeout_s: socket timeout of a URL.
    max_bytes: refuse a larger file; a checksum file lists a few archives,
      and a hostile server could otherwise send gigabytes into memory.

  Returns:
    The dict of `parse_checksum_text`.

  Raises:
    ChecksumFileError: when the file cannot be read.
    ChecksumFileTooLargeError: when it holds more than `max_bytes`.
    ChecksumError: when it is malformed.
  """
  try:
    if urllib.parse.urlparse(location).scheme in ("http", "https", "file"):
      with urllib.request.urlopen(location, timeout=timeout_s) as response:
        data = response.read(max_bytes + 1)
    else:
      with open(location, "rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
      raise ChecksumFileTooLargeError(
          "checksum file %s is larger than %d bytes; refusing to read it."
          % (location, max_bytes))
    text = data.decode("utf-8")
  except (OSError, urllib.error.URLError, UnicodeDecodeError) as e:
    raise ChecksumFileError("cannot read checksum file %s: %s" % (location, e))
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

"""The official LibriSpeech language-model files (OpenSLR resource 11).

Fetched through the same resumable, verified path as the audio
(`fetch.fetch`: `<name>.part`, HTTP Range resume, checksum before the
rename); a verified `.arpa.gz` is then decompressed, streaming, to `.arpa`
under a temporary name and renamed, so an existing `.arpa` is always
complete and a re-run that finds it does nothing.

Layout: <lm_dir>/<file> (e.g. 4-gram.arpa, librispeech-vocab.txt).

No checksums of these files are built in (we found no published list to
pin them against): pass an md5sum-format file listing them (a mirror's, or
one made after a first trusted download) or opt out explicitly.
"""

import gzip
import os
import zlib

from absl import logging

from common import atomic_file
from common import progress
from data.downloading import common
from data.downloading import fetch

BASE_URL = "http://www.openslr.org/resources/11"
# The files the decoder can use, as named on OpenSLR.
FILES = (
    "3-gram.pruned.1e-7.arpa.gz",  # 34 MB, the usual first-pass LM.
    "3-gram.pruned.3e-7.arpa.gz",  # 13 MB.
    "4-gram.arpa.gz",              # 1.3 GB, the full 4-gram.
    "librispeech-vocab.txt",       # 200,000 words: a --lexicon.
    "librispeech-lexicon.txt",     # The words' pronunciations.
)
DEFAULT_FILES = ("3-gram.pruned.1e-7.arpa.gz", "librispeech-vocab.txt")

_CHUNK_BYTES = 1 << 20


class UnknownLmFileError(common.DownloadError):
  """A file name that is not one of resource 11's LM files."""


def select_files(names):
  """The files to fetch: `names` checked, "all" for every one.

  Raises:
    UnknownLmFileError: a name not in FILES.
  """
  if list(names) == ["all"]:
    return list(FILES)
  unknown = [n for n in names if n not in FILES]
  if unknown:
    raise UnknownLmFileError(
        "unknown LibriSpeech LM file %s; choose from %s, or all."
        % (", ".join(repr(n) for n in unknown), ", ".join(FILES)))
  return [f for f in FILES if f in names]


def final_path(lm_dir, name):
  """Where a file ends up: `.arpa.gz` files decompressed to `.arpa`."""
  if name.endswith(".gz"):
    name = name[:-len(".gz")]
  return os.path.join(lm_dir, name)


def _read_block(zipped, source):
  """The next decompressed block; bad gzip data raised in our terms."""
  try:
    return zipped.read(_CHUNK_BYTES)
  except (gzip.BadGzipFile, EOFError, zlib.error) as e:
    raise common.DownloadError("%s is not a complete gzip file: %s"
                               % (source, e)) from None


def gunzip(source, dest, show_progress=True):
  """Decompresses `source` to `dest` (streaming; `dest` appears complete).

  Raises:
    common.DownloadError: `source` is not valid gzip data.
  """
  bar = (progress.Progress("decompressing " + os.path.basename(source),
                           os.path.getsize(source))
         if show_progress else None)
  # Complete and fsync'ed before it takes the name: an existing .arpa is
  # what makes a re-run skip the file.
  with open(source, "rb") as raw, gzip.GzipFile(fileobj=raw) as zipped, \
      atomic_file.atomic_write(dest, "wb") as out:
    position = 0
    for block in iter(lambda: _read_block(zipped, source), b""):
      out.write(block)
      if bar is not None:
        bar.update(raw.tell() - position)
        position = raw.tell()
  if bar is not None:
    bar.close()


def prepare_lm_files(lm_dir, names, base_url, checksums, skip_checksum,
                     keep_archives=False, show_progress=True, stall=(0, 0)):
  """Fetches, verifies and unpacks the LM files; finished ones are skipped.

  Args:
    lm_dir: the folder the files go to.
    names: file names from FILES.
    base_url: the mirror folder, without trailing slash.
    checksums: name -> md5/sha256 hex digest.
    skip_checksum: fetch unverified (the user's explicit opt-out).
    keep_archives: keep each `.gz` after decompressing it.
    show_progress: progress bars on stderr.
    stall: (bytes, seconds): the minimum rate of a transfer (0: none).

  Returns:
    The final paths, in the order of `names`.

  Raises:
    fetch.MissingChecksumError: no digest for a file still to fetch (before
      any transfer starts).
    fetch.ChecksumError, fetch.NetworkError, common.DownloadError.
  """
  pending = [n for n in names if not os.path.exists(final_path(lm_dir, n))]
  digests = {n: fetch.expected_checksum(n, checksums, skip_checksum)
             for n in pending}
  os.makedirs(lm_dir, exist_ok=True)
  for name in pending:
    download = os.path.join(lm_dir, name)
    if not os.path.exists(download):
      fetch.fetch(base_url + "/" + name, download, digests[name],
                  show_progress=show_progress, stall_bytes=stall[0],
                  stall_window_s=stall[1])
    elif digests[name] and fetch.file_digest(
        download, fetch.hash_algorithm(digests[name])) != digests[name]:
      # A kept archive from an earlier run that no longer matches.
      os.remove(download)
      fetch.fetch(base_url + "/" + name, download, digests[name],
                  show_progress=show_progress, stall_bytes=stall[0],
                  stall_window_s=stall[1])
    if name.endswith(".gz"):
      gunzip(download, final_path(lm_dir, name), show_progress)
      if not keep_archives:
        os.remove(download)
  return [final_path(lm_dir, n) for n in names]


def prepare_lm(names, base_url, lm_dir, config):
  """`prepare_lm_files` with a `steps.DownloadConfig`; logs what is ready.

  Args:
    names: file names from FILES; none means nothing to do.
    base_url: the mirror folder, without trailing slash.
    lm_dir: the folder the files go to.
    config: a `steps.DownloadConfig` (its checksums, skip_checksum,
      keep_archives and show_progress apply).

  Returns:
    The final paths (.arpa decompressed), in the order of `names`.
  """
  if not names:
    return []
  paths = prepare_lm_files(
      lm_dir, names, base_url, config.checksums, config.skip_checksum,
      config.keep_archives, config.show_progress,
      (config.stall_bytes, config.stall_window_s))
  logging.info("LibriSpeech LM files ready: %s.", ", ".join(paths))
  return paths

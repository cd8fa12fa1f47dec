"""The five steps every archive goes through, each safe to re-run.

download -> verify -> extract -> convert -> manifest; each does nothing when
its result is already on disk. The corpus modules (librispeech, ljspeech) run
them in order; `data/download.py` builds the `DownloadConfig` from its flags.
"""

import collections
import os
import urllib.parse

from absl import logging

from data.downloading import archive as archive_lib
from data.downloading import common
from data.downloading import convert as convert_lib
from data.downloading import fetch

SAMPLE_RATE_HZ = 16000

# Everything the steps need besides paths; built once from the flags.
#   base_url: mirror folder holding the archives, without trailing slash.
#   checksums: archive name -> md5/sha256 hex digest.
#   skip_checksum: verify nothing (the user asked for it).
#   keep_archives: keep each archive after extracting it.
#   num_workers: parallel sox processes.
#   show_progress: draw progress bars on stderr.
#   stall_bytes, stall_window_s: a transfer that brings fewer than
#     stall_bytes in stall_window_s seconds stops (0: no minimum rate).
#   max_extract_bytes, max_members: an archive extracting to more bytes or
#     members is refused (None: no limit); default archive.py's limits.
DownloadConfig = collections.namedtuple("DownloadConfig", [
    "base_url", "checksums", "skip_checksum", "keep_archives", "num_workers",
    "show_progress", "stall_bytes", "stall_window_s", "max_extract_bytes",
    "max_members"],
    defaults=(0, 0, archive_lib.MAX_EXTRACT_BYTES, archive_lib.MAX_MEMBERS))


def download(archive_name, archive, digest, config):
  """Step 1: fetches `archive` from the mirror unless it is already here.

  The transfer resumes a left-over `.part` file and checks `digest` as the
  bytes stream in (step 2 for a fresh download): `archive` only appears
  once it matched.
  """
  if os.path.exists(archive):
    return
  os.makedirs(os.path.dirname(archive), exist_ok=True)
  fetch.fetch(config.base_url + "/" + archive_name, archive, digest,
              show_progress=config.show_progress,
              stall_bytes=config.stall_bytes,
              stall_window_s=config.stall_window_s)


def verify(archive, digest):
  """Step 2 for an archive kept from an earlier run: deletes it on mismatch.

  A run that stopped between download and extraction leaves a verified
  archive; it is trusted again only if it still matches, and otherwise
  removed so that `download` fetches it afresh.
  """
  if not digest or not os.path.exists(archive):
    return
  if fetch.file_digest(archive, fetch.hash_algorithm(digest)) != digest:
    logging.warning("%s does not match its checksum; downloading it again.",
                    archive)
    os.remove(archive)


def extract(archive, target_dir, config):
  """Step 3: unpacks `archive` safely, then deletes it unless kept."""
  archive_lib.extract_archive(archive, target_dir,
                              show_progress=config.show_progress,
                              max_bytes=config.max_extract_bytes,
                              max_members=config.max_members)
  if not config.keep_archives:
    os.remove(archive)


def convert(jobs, label, config):
  """Step 4: (source audio, wav) pairs to 16 kHz wavs; finished ones skipped."""
  convert_lib.convert_audio(jobs, SAMPLE_RATE_HZ, config.num_workers, label,
                            config.show_progress)


def write_manifest(path, rows):
  """Step 5: (wav, transcript) rows to a manifest, put in place atomically."""
  convert_lib.write_manifest(path, rows, expected_rows=len(rows))


# One utterance for steps 4 and 5: its audio, its wav, its transcript, and
# the sox input options and effects it needs (see convert._sox).
Utterance = collections.namedtuple(
    "Utterance", ["source", "wav", "transcript", "input_options", "effects"],
    defaults=((), ()))


def all_complete(manifests, label):
  """Whether every manifest is finished (then logged as skipped)."""
  if all(convert_lib.manifest_is_complete(m) for m in manifests):
    logging.info("%s: manifests are complete, skipped.", label)
    return True
  return False


def convert_and_write(manifest, utterances, label, config):
  """Steps 4 and 5 for one manifest of `Utterance`s; logs what it wrote."""
  convert([(u.source, u.wav, u.input_options, u.effects) for u in utterances],
          label, config)
  write_manifest(manifest, [(u.wav, u.transcript) for u in utterances])
  logging.info("%s: wrote %s (%d utterances).", label, manifest,
               len(utterances))


def ensure_extracted(archive_name, archive_dir, extracted_dir, config):
  """Download -> verify -> extract for one archive, skipping finished steps.

  Args:
    archive_name: file name on the mirror, e.g. "dev-clean.tar.gz".
    archive_dir: where the archive is stored and extracted.
    extracted_dir: a folder the archive creates; if a user deleted it, the
      extraction is redone even though the marker says it was finished.
    config: a `DownloadConfig`.
  """
  archive = os.path.join(archive_dir, archive_name)
  if archive_lib.is_extracted(archive, archive_dir):
    if os.path.isdir(extracted_dir):
      return
    logging.warning("%s is missing; extracting %s again.", extracted_dir,
                    archive_name)
    os.remove(archive_lib.extraction_marker(archive, archive_dir))
  digest = fetch.expected_checksum(archive_name, config.checksums,
                                   config.skip_checksum)
  verify(archive, digest)
  download(archive_name, archive, digest, config)
  extract(archive, archive_dir, config)



def is_url(location):
  """Whether an archive location is an http(s):// or file:// address."""
  return location.startswith(("http://", "https://", "file://"))


def archive_file_name(location):
  """The archive's file name: the last component of its path or URL."""
  path = urllib.parse.urlparse(location).path if is_url(location) else (
      location)
  name = os.path.basename(urllib.parse.unquote(path) if is_url(location)
                          else path)
  if not name or name in (".", "..") or any(ord(c) < 32 for c in name):
    raise common.DownloadError("%r does not name an archive file." %
                               location)
  return name


def ensure_archive_extracted(location, target_dir, config, present):
  """Download -> verify -> extract for an archive given by path or URL.

  A URL is fetched into `target_dir` like a mirror's archive (verified
  against `config.checksums` under its file name) and deleted after the
  extraction unless `config.keep_archives`. A local file is the user's:
  verified when a checksum for its name is known, extracted, never deleted.

  Args:
    location: a path, or an http(s):// or file:// URL.
    target_dir: the folder it is extracted into (created).
    config: a `DownloadConfig`.
    present: callable telling whether the extracted tree is still there; a
      finished extraction whose tree the user deleted is redone.
  """
  name = archive_file_name(location)
  archive = os.path.join(target_dir, name)
  if archive_lib.is_extracted(archive, target_dir):
    if present():
      return
    logging.warning("the tree extracted from %s is gone; extracting it "
                    "again.", name)
    os.remove(archive_lib.extraction_marker(archive, target_dir))
  os.makedirs(target_dir, exist_ok=True)
  if is_url(location):
    digest = fetch.expected_checksum(name, config.checksums,
                                     config.skip_checksum)
    verify(archive, digest)
    if not os.path.exists(archive):
      fetch.fetch(location, archive, digest,
                  show_progress=config.show_progress,
                  stall_bytes=config.stall_bytes,
                  stall_window_s=config.stall_window_s)
    extract(archive, target_dir, config)
    return
  if not os.path.isfile(location):
    raise common.DownloadError("archive not found: %s" % location)
  digest = None if config.skip_checksum else config.checksums.get(name)
  if digest and fetch.file_digest(
      location, fetch.hash_algorithm(digest)) != digest:
    raise fetch.ChecksumError("%s does not match its checksum %s." %
                              (location, digest))
  archive_lib.extract_archive(location, target_dir,
                              show_progress=config.show_progress,
                              max_bytes=config.max_extract_bytes,
                              max_members=config.max_members)

r"""Downloads LibriSpeech (or LJSpeech) and writes Deep Speech manifests.

Run from the repository root; the dev subsets are the smallest useful start:

  python data/download.py --data_dir=/tmp/librispeech_data --dev_only

Each subset goes through five steps, each safe to re-run:
download -> verify -> extract -> convert -> manifest.

  * download: streams to `<archive>.part`; an interrupted transfer resumes
    with an HTTP Range request, in the same run or the next one.
  * verify: the md5 must match the published one (built in for the official
    archives; --checksum_file overrides, --skip_checksum opts out); only then
    is the part file renamed to `<archive>`.
  * extract: members that would land outside the subset folder (absolute
    paths, `..`, links pointing out) are refused. The archive is deleted after
    a successful extraction unless --keep_archives; a marker file records the
    extraction so re-runs need neither archive nor network.
  * convert: FLAC (LibriSpeech) or 22,050 Hz wav (LJSpeech) to 16 kHz 16-bit
    mono wav with sox, in parallel; each wav is written under a temporary name
    and renamed, so an existing wav is always complete.
  * manifest: written atomically once its row count matches the transcripts.
    A subset whose manifest is complete is skipped at once.

Layout (LibriSpeech, identical to the original script):
  <data_dir>/<subset>/LibriSpeech/<subset>/...           extracted FLAC, text
  <data_dir>/<subset>/LibriSpeech/<subset>-wav/<id>.wav  16 kHz wavs
  <data_dir>/<subset>/LibriSpeech/<subset>.csv           manifest
Layout (--dataset=ljspeech):
  <data_dir>/LJSpeech-1.1/wavs/<id>.wav                  22,050 Hz originals
  <data_dir>/LJSpeech-1.1/wav16k/<id>.wav                16 kHz wavs
  <data_dir>/LJSpeech-1.1/ljspeech-train.csv             90% of the clips
  <data_dir>/LJSpeech-1.1/ljspeech-dev.csv               10% of the clips
Manifests are tab-separated with the header
`wav_filename wav_filesize transcript` (absolute path, bytes, text).

--lm_files (with --lm_only: nothing else) also fetches the official
LibriSpeech LM files, OpenSLR resource 11 (pruned 3-grams, 4-gram, vocabulary,
lexicon), through the same resumable, verified download into
<data_dir>/librispeech-lm/, decompressing each verified .arpa.gz to .arpa.

This script stands alone: it talks to training only through the manifests.
"""

import collections
import errno
import os
import sys
import time

if __name__ == "__main__" and not __package__:
  # Run as `python data/download.py`, Python puts data/ on the path, not the
  # repository root that holds the `data` package with our helper modules.
  sys.path.insert(0, os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))))

# pylint: disable=g-import-not-at-top,wrong-import-position
from absl import app
from absl import flags
from absl import logging

from data import vocabulary
from data.downloading import archive as archive_lib
from data.downloading import common
from data.downloading import convert as convert_lib
from data.downloading import fetch
from data.downloading import librispeech
from data.downloading import librispeech_lm
from data.downloading import ljspeech
# pylint: enable=g-import-not-at-top,wrong-import-position

# The public names this module always had; their homes are the modules above.
LIBRISPEECH_SUBSETS = librispeech.SUBSETS
TRAIN_SUBSETS = librispeech.TRAIN_SUBSETS
DEV_SUBSETS = librispeech.DEV_SUBSETS
TEST_SUBSETS = librispeech.TEST_SUBSETS
LJSPEECH_ARCHIVE = ljspeech.ARCHIVE
LJSPEECH_DIR = ljspeech.DIRECTORY
LJSPEECH_DEV_FRACTION = ljspeech.DEV_FRACTION
VOCABULARY_FILE = vocabulary.VOCABULARY_FILE
select_subsets = librispeech.select_subsets
librispeech_manifest_path = librispeech.manifest_path

DEFAULT_BASE_URLS = {
    "librispeech": "http://www.openslr.org/resources/12",
    "ljspeech": "https://data.keithito.com/data/speech",
}
SAMPLE_RATE_HZ = 16000

# Everything the steps need besides paths; built once from the flags.
#   base_url: mirror folder holding the archives, without trailing slash.
#   checksums: archive name -> md5/sha256 hex digest.
#   skip_checksum: verify nothing (the user asked for it).
#   keep_archives: keep each archive after extracting it.
#   num_workers: parallel sox processes.
#   show_progress: draw progress bars on stderr.
DownloadConfig = collections.namedtuple("DownloadConfig", [
    "base_url", "checksums", "skip_checksum", "keep_archives", "num_workers",
    "show_progress"])


# ---------------------------------------------------------------------------
# The five steps; each does nothing when its result is already on disk.
# ---------------------------------------------------------------------------


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
              show_progress=config.show_progress)


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
                              show_progress=config.show_progress)
  if not config.keep_archives:
    os.remove(archive)


def convert(jobs, label, config):
  """Step 4: (source audio, wav) pairs to 16 kHz wavs; finished ones skipped."""
  convert_lib.convert_audio(jobs, SAMPLE_RATE_HZ, config.num_workers, label,
                            config.show_progress)


def write_manifest(path, rows):
  """Step 5: (wav, transcript) rows to a manifest, put in place atomically."""
  convert_lib.write_manifest(path, rows, expected_rows=len(rows))


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


# ---------------------------------------------------------------------------
# The corpora: the steps in order, per subset.
# ---------------------------------------------------------------------------


def prepare_librispeech_subset(data_dir, subset, config):
  """Makes `<subset>.csv` and its wavs, doing only the missing steps.

  Returns:
    The manifest path.
  """
  start = time.monotonic()
  manifest = librispeech.manifest_path(data_dir, subset)
  if convert_lib.manifest_is_complete(manifest):
    logging.info("%s: manifest %s is complete, skipped (%.2f s).", subset,
                 manifest, time.monotonic() - start)
    return manifest
  root = librispeech.subset_root(data_dir, subset)
  ensure_extracted(librispeech.archive_name(subset),
                   os.path.join(data_dir, subset), os.path.join(root, subset),
                   config)
  utterances = librispeech.read_librispeech_transcripts(
      os.path.join(root, subset))
  wav_dir = os.path.join(root, subset + "-wav")
  wavs = [os.path.join(wav_dir, utt + ".wav") for utt, _, _ in utterances]
  convert([(flac, wav) for (_, flac, _), wav in zip(utterances, wavs)],
          subset, config)
  write_manifest(manifest, [(wav, text)
                            for wav, (_, _, text) in zip(wavs, utterances)])
  logging.info("%s: wrote %s (%d utterances).", subset, manifest,
               len(utterances))
  return manifest


def prepare_librispeech(data_dir, subsets, config):
  """Prepares each subset in turn; returns the manifest paths."""
  pending = [s for s in subsets if not convert_lib.manifest_is_complete(
      librispeech.manifest_path(data_dir, s))]
  # Check what a later step needs before the first download starts: a
  # missing checksum or sox should stop the run now, not hours from now.
  for subset in pending:
    fetch.expected_checksum(librispeech.archive_name(subset),
                            config.checksums, config.skip_checksum)
  if pending:
    convert_lib.require_sox()
  return [prepare_librispeech_subset(data_dir, s, config) for s in subsets]


def prepare_ljspeech(data_dir, config):
  """Makes the LJSpeech train/dev manifests and 16 kHz wavs.

  Returns:
    (train manifest path, dev manifest path).
  """
  manifests = ljspeech.manifest_paths(data_dir)
  if all(convert_lib.manifest_is_complete(m) for m in manifests):
    logging.info("LJSpeech: manifests are complete, skipped.")
    return manifests
  fetch.expected_checksum(ljspeech.ARCHIVE, config.checksums,
                          config.skip_checksum)
  convert_lib.require_sox()
  root = ljspeech.root(data_dir)
  ensure_extracted(ljspeech.ARCHIVE, data_dir, root, config)
  utterances, dropped, empty = ljspeech.read_ljspeech_metadata(
      os.path.join(root, "metadata.csv"),
      vocabulary.characters(vocabulary.VOCABULARY_FILE))
  ljspeech.report_cleaning(dropped, empty)
  convert([(ljspeech.original_wav(data_dir, utt),
            ljspeech.converted_wav(data_dir, utt)) for utt, _ in utterances],
          "LJSpeech", config)
  text_of = dict(utterances)
  splits = ljspeech.split_train_dev(list(text_of))
  for manifest, ids in zip(manifests, splits):
    write_manifest(manifest, [(ljspeech.converted_wav(data_dir, i), text_of[i])
                              for i in ids])
  logging.info("LJSpeech: wrote %s (%d clips) and %s (%d clips).",
               manifests[0], len(splits[0]), manifests[1], len(splits[1]))
  return manifests


# ---------------------------------------------------------------------------
# The command line: the only reader of flags.
# ---------------------------------------------------------------------------


def _available_cpus():
  try:
    return len(os.sched_getaffinity(0))
  except AttributeError:  # Not on Linux.
    return os.cpu_count() or 1


def _subsets_from_flags(flags_obj):
  """The LibriSpeech subsets the flags select; raises on a typo at once."""
  if flags_obj.dataset == "ljspeech":
    if (flags_obj.subsets or flags_obj.train_only or flags_obj.dev_only or
        flags_obj.test_only):
      raise common.DownloadError(
          "--subsets, --train_only, --dev_only and --test_only select "
          "LibriSpeech subsets; they do not apply to --dataset=ljspeech.")
    return None
  own_mirror = bool(flags_obj.base_url) and (
      flags_obj.base_url.rstrip("/") !=
      DEFAULT_BASE_URLS["librispeech"].rstrip("/"))
  try:
    return librispeech.select_subsets(
        flags_obj.subsets, flags_obj.train_only, flags_obj.dev_only,
        flags_obj.test_only, allow_other=own_mirror)
  except librispeech.UnknownSubsetError as e:
    raise common.DownloadError(
        "%s Pass that mirror as --base_url." % e)


def _config_from_flags(flags_obj):
  """The `DownloadConfig` the flags ask for."""
  base_url = (flags_obj.base_url or
              DEFAULT_BASE_URLS[flags_obj.dataset]).rstrip("/")
  if not base_url.startswith(("http://", "https://", "file://")):
    raise common.DownloadError(
        "--base_url must start with http://, https:// or file://, got %r."
        % base_url)
  checksums = dict(fetch.KNOWN_CHECKSUMS)
  if flags_obj.checksum_file:
    checksums.update(fetch.read_checksum_file(flags_obj.checksum_file))
  if flags_obj.skip_checksum:
    logging.warning("--skip_checksum: archives will NOT be verified; a "
                    "corrupt or tampered download goes unnoticed.")
  return DownloadConfig(
      base_url=base_url, checksums=checksums,
      skip_checksum=flags_obj.skip_checksum,
      keep_archives=flags_obj.keep_archives,
      num_workers=flags_obj.num_workers or _available_cpus(),
      show_progress=True)


def run_download(flags_obj):
  """Runs the download for the parsed flags; the only reader of flags.

  Returns:
    The list of manifest paths written or found complete.
  """
  # Subsets first, before anything slow, so a typo fails at once.
  subsets = _subsets_from_flags(flags_obj)
  config = _config_from_flags(flags_obj)
  lm_files = _lm_files_from_flags(flags_obj, config)
  if flags_obj.lm_only:
    return prepare_lm(flags_obj, lm_files, config)
  if flags_obj.dataset == "ljspeech":
    paths = list(prepare_ljspeech(flags_obj.data_dir, config))
  else:
    paths = prepare_librispeech(flags_obj.data_dir, subsets, config)
  return paths + prepare_lm(flags_obj, lm_files, config)


# --- The LibriSpeech LM files (OpenSLR resource 11) ---


def _lm_files_from_flags(flags_obj, config):
  """The LM files to fetch; checks names and checksums before any transfer."""
  names = flags_obj.lm_files or []
  if flags_obj.lm_only and not names:
    names = list(librispeech_lm.DEFAULT_FILES)
  names = librispeech_lm.select_files(names) if names else []
  if names:
    _lm_base_url(flags_obj)
  for name in names:
    if not os.path.exists(librispeech_lm.final_path(_lm_dir(flags_obj),
                                                    name)):
      fetch.expected_checksum(name, config.checksums, config.skip_checksum)
  return names


def _lm_base_url(flags_obj):
  base_url = (flags_obj.lm_base_url or librispeech_lm.BASE_URL).rstrip("/")
  if not base_url.startswith(("http://", "https://", "file://")):
    raise common.DownloadError(
        "--lm_base_url must start with http://, https:// or file://, got %r."
        % base_url)
  return base_url


def _lm_dir(flags_obj):
  return flags_obj.lm_dir or os.path.join(flags_obj.data_dir,
                                          "librispeech-lm")


def prepare_lm(flags_obj, names, config):
  """Fetches the LM files; returns their final paths (.arpa decompressed)."""
  if not names:
    return []
  paths = librispeech_lm.prepare_lm_files(
      _lm_dir(flags_obj), names, _lm_base_url(flags_obj), config.checksums,
      config.skip_checksum, config.keep_archives, config.show_progress)
  logging.info("LibriSpeech LM files ready: %s.", ", ".join(paths))
  return paths


def define_download_flags():
  """Declares the flags; called from `__main__` only, never on import."""
  flags.DEFINE_string(
      "data_dir", "/tmp/librispeech_data",
      "Directory to download data and write manifests into.")
  flags.DEFINE_bool(
      "train_only", False,
      "Only prepare the training subsets (train-clean-100, train-clean-360, "
      "train-other-500).")
  flags.DEFINE_bool(
      "dev_only", False,
      "Only prepare the dev subsets (dev-clean, dev-other); ignored when "
      "--train_only is set.")
  flags.DEFINE_bool(
      "test_only", False,
      "Only prepare the test subsets (test-clean, test-other); ignored when "
      "--train_only or --dev_only is set.")
  flags.DEFINE_list(
      "subsets", None,
      "Comma-separated LibriSpeech subsets to prepare, e.g. "
      "dev-clean,test-clean; overrides the three *_only switches.")
  flags.DEFINE_enum(
      "dataset", "librispeech", ["librispeech", "ljspeech"],
      "Corpus to prepare. ljspeech downloads LJSpeech-1.1.tar.bz2, resamples "
      "it to 16 kHz and writes ljspeech-train.csv / ljspeech-dev.csv (90/10) "
      "under <data_dir>/LJSpeech-1.1/.")
  flags.DEFINE_string(
      "base_url", None,
      "Mirror folder holding the archives: http(s):// or file://. Default: "
      "%s for librispeech, %s for ljspeech." % (
          DEFAULT_BASE_URLS["librispeech"], DEFAULT_BASE_URLS["ljspeech"]))
  flags.DEFINE_string(
      "checksum_file", None,
      "md5sum-format file (path or URL; sha256 digests work too) whose "
      "entries override the built-in checksums of the official archives, "
      "e.g. http://www.openslr.org/resources/12/md5sum.txt or one for a "
      "private mirror.")
  flags.DEFINE_bool(
      "skip_checksum", False,
      "Do not verify the archives (warns). Needed only for archives that no "
      "checksum is known for.")
  flags.DEFINE_integer(
      "num_workers", None,
      "Parallel sox conversions. Default: all available CPU cores.",
      lower_bound=1)
  flags.DEFINE_bool(
      "keep_archives", False,
      "Keep each archive after a successful extraction (deleted by default, "
      "as the original did, to save disk space).")


def define_lm_flags():
  """Flags of the LibriSpeech LM files (OpenSLR resource 11)."""
  flags.DEFINE_list(
      "lm_files", None,
      "Also fetch these official LibriSpeech LM files (OpenSLR resource "
      "11), or all: %s. .arpa.gz files are verified, then decompressed to "
      ".arpa. No checksums are built in for them: give --checksum_file or "
      "--skip_checksum." % ", ".join(librispeech_lm.FILES))
  flags.DEFINE_bool(
      "lm_only", False,
      "Fetch only the LM files (--lm_files, default %s), no audio."
      % ",".join(librispeech_lm.DEFAULT_FILES))
  flags.DEFINE_string(
      "lm_dir", None,
      "Where the LM files go. Default: <data_dir>/librispeech-lm.")
  flags.DEFINE_string(
      "lm_base_url", None,
      "Mirror folder holding the LM files: http(s):// or file://. Default: "
      "%s." % librispeech_lm.BASE_URL)


def _fail(message, code=1):
  sys.stderr.write("download.py: error: %s\n" % message)
  sys.exit(code)


def _in_flag_terms(error):
  """A library error's message, plus which flag to change where one applies."""
  message = str(error)
  if isinstance(error, fetch.MissingChecksumError):
    message += (" Pass --checksum_file=<md5sum.txt> listing it, or "
                "--skip_checksum to download it unverified.")
  elif isinstance(error, fetch.UnreachableError):
    message += " Check the network connection and --base_url."
  return message


def main(_):
  try:
    run_download(flags.FLAGS)
  except common.DownloadError as e:
    _fail(_in_flag_terms(e))
  except OSError as e:
    if e.errno == errno.ENOSPC:
      _fail("disk full while writing %s; free some space and re-run the "
            "same command to resume." % (e.filename or flags.FLAGS.data_dir))
    _fail("%s%s" % (e.strerror or e, ": %s" % e.filename if e.filename
                    else ""))
  except KeyboardInterrupt:
    _fail("interrupted; re-run the same command to resume.", code=130)


if __name__ == "__main__":
  define_download_flags()
  define_lm_flags()
  app.run(main)

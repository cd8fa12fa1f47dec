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

This script stands alone: it talks to training only through the manifests.
"""

import collections
import errno
import os
import re
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

from data import download_archive
from data import download_common
from data import download_convert
from data import download_fetch
# pylint: enable=g-import-not-at-top,wrong-import-position

LIBRISPEECH_SUBSETS = (
    "train-clean-100", "train-clean-360", "train-other-500",
    "dev-clean", "dev-other",
    "test-clean", "test-other",
)
TRAIN_SUBSETS = LIBRISPEECH_SUBSETS[:3]
DEV_SUBSETS = LIBRISPEECH_SUBSETS[3:5]
TEST_SUBSETS = LIBRISPEECH_SUBSETS[5:]

DEFAULT_BASE_URLS = {
    "librispeech": "http://www.openslr.org/resources/12",
    "ljspeech": "https://data.keithito.com/data/speech",
}
LJSPEECH_ARCHIVE = "LJSpeech-1.1.tar.bz2"
LJSPEECH_DIR = "LJSpeech-1.1"
SAMPLE_RATE_HZ = 16000
LJSPEECH_DEV_FRACTION = 0.1
VOCABULARY_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               "vocabulary.txt")

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


def select_subsets(subsets=None, train_only=False, dev_only=False,
                   test_only=False, allow_other=False):
  """The LibriSpeech subsets to prepare, in the original's order.

  Args:
    subsets: explicit list of names (--subsets); overrides the booleans.
    train_only, dev_only, test_only: the original's switches, checked in that
      order; with none set, all seven subsets.
    allow_other: accept names other than the seven official ones (archives
      in LibriSpeech's layout on a mirror of one's own, such as the
      synthesized `sample-train`/`sample-dev` of data/sample_corpus.py).

  Returns:
    A list of subset names: official ones in the original's order, then the
    others in the order given.

  Raises:
    download_common.DownloadError: an unknown or unsafe subset name.
  """
  if subsets:
    unknown = [s for s in subsets if s not in LIBRISPEECH_SUBSETS]
    if unknown and not allow_other:
      raise download_common.DownloadError(
          "unknown LibriSpeech subset %s; choose from %s (other names only "
          "with a --base_url mirror of your own)." % (
              ", ".join(repr(s) for s in unknown),
              ", ".join(LIBRISPEECH_SUBSETS)))
    unsafe = [s for s in unknown if not _SUBSET_NAME.match(s)]
    if unsafe:
      raise download_common.DownloadError(
          "subset names may hold only letters, digits, '.', '_' and '-': %s"
          % ", ".join(repr(s) for s in unsafe))
    return ([s for s in LIBRISPEECH_SUBSETS if s in subsets] +
            [s for s in dict.fromkeys(unknown)])
  if train_only:
    return list(TRAIN_SUBSETS)
  if dev_only:
    return list(DEV_SUBSETS)
  if test_only:
    return list(TEST_SUBSETS)
  return list(LIBRISPEECH_SUBSETS)


# A subset name becomes a file and folder name: no separators, no "..".
_SUBSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def librispeech_manifest_path(data_dir, subset):
  """`<data_dir>/<subset>/LibriSpeech/<subset>.csv`, as in the original."""
  return os.path.join(data_dir, subset, "LibriSpeech", subset + ".csv")


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
  if download_archive.is_extracted(archive, archive_dir):
    if os.path.isdir(extracted_dir):
      return
    logging.warning("%s is missing; extracting %s again.", extracted_dir,
                    archive_name)
    os.remove(download_archive.extraction_marker(archive, archive_dir))
  digest = download_fetch.expected_checksum(archive_name, config.checksums,
                                            config.skip_checksum)
  if os.path.exists(archive) and digest:
    # Kept from an earlier run that stopped before extracting: trust it only
    # if it still matches.
    actual = download_fetch.file_digest(
        archive, download_fetch.hash_algorithm(digest))
    if actual != digest:
      logging.warning("%s does not match its checksum; downloading it again.",
                      archive)
      os.remove(archive)
  if not os.path.exists(archive):
    os.makedirs(archive_dir, exist_ok=True)
    download_fetch.fetch(config.base_url + "/" + archive_name, archive,
                         digest, show_progress=config.show_progress)
  download_archive.extract_archive(archive, archive_dir,
                                   show_progress=config.show_progress)
  if not config.keep_archives:
    os.remove(archive)


def prepare_librispeech_subset(data_dir, subset, config):
  """Makes `<subset>.csv` and its wavs, doing only the missing steps.

  Returns:
    The manifest path.
  """
  start = time.monotonic()
  manifest = librispeech_manifest_path(data_dir, subset)
  if download_convert.manifest_is_complete(manifest):
    logging.info("%s: manifest %s is complete, skipped (%.2f s).", subset,
                 manifest, time.monotonic() - start)
    return manifest
  subset_dir = os.path.join(data_dir, subset)
  root = os.path.join(subset_dir, "LibriSpeech")
  ensure_extracted(subset + ".tar.gz", subset_dir, os.path.join(root, subset),
                   config)
  utterances = download_convert.read_librispeech_transcripts(
      os.path.join(root, subset))
  wav_dir = os.path.join(root, subset + "-wav")
  wavs = [os.path.join(wav_dir, utt + ".wav") for utt, _, _ in utterances]
  download_convert.convert_audio(
      [(flac, wav) for (_, flac, _), wav in zip(utterances, wavs)],
      SAMPLE_RATE_HZ, config.num_workers, subset, config.show_progress)
  download_convert.write_manifest(
      manifest, [(wav, text) for wav, (_, _, text) in zip(wavs, utterances)],
      expected_rows=len(utterances))
  logging.info("%s: wrote %s (%d utterances).", subset, manifest,
               len(utterances))
  return manifest


def prepare_librispeech(data_dir, subsets, config):
  """Prepares each subset in turn; returns the manifest paths."""
  pending = [s for s in subsets if not download_convert.manifest_is_complete(
      librispeech_manifest_path(data_dir, s))]
  # Check what a later step needs before the first download starts: a
  # missing checksum or sox should stop the run now, not hours from now.
  for subset in pending:
    download_fetch.expected_checksum(subset + ".tar.gz", config.checksums,
                                     config.skip_checksum)
  if pending:
    download_convert.require_sox()
  return [prepare_librispeech_subset(data_dir, s, config) for s in subsets]


def _report_dropped(dropped, empty):
  if dropped:
    listing = ", ".join("%r x%d" % item for item in dropped.most_common())
    logging.info("LJSpeech: characters outside the vocabulary removed from "
                 "the transcripts (count): %s.", listing)
  if empty:
    logging.warning("LJSpeech: %d clips left out, their transcript was empty "
                    "after cleaning: %s.", len(empty), ", ".join(empty))


def prepare_ljspeech(data_dir, config):
  """Makes the LJSpeech train/dev manifests and 16 kHz wavs.

  Returns:
    (train manifest path, dev manifest path).
  """
  root = os.path.join(data_dir, LJSPEECH_DIR)
  manifests = (os.path.join(root, "ljspeech-train.csv"),
               os.path.join(root, "ljspeech-dev.csv"))
  if all(download_convert.manifest_is_complete(m) for m in manifests):
    logging.info("LJSpeech: manifests are complete, skipped.")
    return manifests
  download_fetch.expected_checksum(LJSPEECH_ARCHIVE, config.checksums,
                                   config.skip_checksum)
  download_convert.require_sox()
  ensure_extracted(LJSPEECH_ARCHIVE, data_dir, root, config)
  utterances, dropped, empty = download_convert.read_ljspeech_metadata(
      os.path.join(root, "metadata.csv"),
      download_convert.load_vocabulary(VOCABULARY_FILE))
  _report_dropped(dropped, empty)
  wav_of = {utt: os.path.join(root, "wav16k", utt + ".wav")
            for utt, _ in utterances}
  download_convert.convert_audio(
      [(os.path.join(root, "wavs", utt + ".wav"), wav_of[utt])
       for utt, _ in utterances],
      SAMPLE_RATE_HZ, config.num_workers, "LJSpeech", config.show_progress)
  text_of = dict(utterances)
  splits = download_convert.split_train_dev(list(text_of),
                                            LJSPEECH_DEV_FRACTION)
  for manifest, ids in zip(manifests, splits):
    download_convert.write_manifest(
        manifest, [(wav_of[i], text_of[i]) for i in ids],
        expected_rows=len(ids))
  logging.info("LJSpeech: wrote %s (%d clips) and %s (%d clips).",
               manifests[0], len(splits[0]), manifests[1], len(splits[1]))
  return manifests


def _available_cpus():
  try:
    return len(os.sched_getaffinity(0))
  except AttributeError:  # Not on Linux.
    return os.cpu_count() or 1


def run_download(flags_obj):
  """Runs the download for the parsed flags; the only reader of flags.

  Returns:
    The list of manifest paths written or found complete.
  """
  dataset = flags_obj.dataset
  if dataset == "ljspeech" and (flags_obj.subsets or flags_obj.train_only or
                                flags_obj.dev_only or flags_obj.test_only):
    raise download_common.DownloadError(
        "--subsets, --train_only, --dev_only and --test_only select "
        "LibriSpeech subsets; they do not apply to --dataset=ljspeech.")
  subsets = None
  if dataset == "librispeech":
    # Before anything slow, so a typo fails at once.
    subsets = select_subsets(
        flags_obj.subsets, flags_obj.train_only, flags_obj.dev_only,
        flags_obj.test_only, allow_other=bool(flags_obj.base_url) and (
            flags_obj.base_url.rstrip("/") !=
            DEFAULT_BASE_URLS["librispeech"].rstrip("/")))
  base_url = (flags_obj.base_url or DEFAULT_BASE_URLS[dataset]).rstrip("/")
  if not base_url.startswith(("http://", "https://", "file://")):
    raise download_common.DownloadError(
        "--base_url must start with http://, https:// or file://, got %r."
        % base_url)
  checksums = dict(download_fetch.KNOWN_CHECKSUMS)
  if flags_obj.checksum_file:
    checksums.update(download_fetch.read_checksum_file(
        flags_obj.checksum_file))
  if flags_obj.skip_checksum:
    logging.warning("--skip_checksum: archives will NOT be verified; a "
                    "corrupt or tampered download goes unnoticed.")
  config = DownloadConfig(
      base_url=base_url, checksums=checksums,
      skip_checksum=flags_obj.skip_checksum,
      keep_archives=flags_obj.keep_archives,
      num_workers=flags_obj.num_workers or _available_cpus(),
      show_progress=True)
  if dataset == "ljspeech":
    return list(prepare_ljspeech(flags_obj.data_dir, config))
  return prepare_librispeech(flags_obj.data_dir, subsets, config)


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


def _fail(message, code=1):
  sys.stderr.write("download.py: error: %s\n" % message)
  sys.exit(code)


def main(_):
  try:
    run_download(flags.FLAGS)
  except download_common.DownloadError as e:
    _fail(str(e))
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
  app.run(main)

r"""Downloads LibriSpeech (or LJSpeech) and writes Deep Speech manifests.

Run from the repository root; the dev subsets are the smallest useful start:

  python data/download.py --data_dir=/tmp/librispeech_data --dev_only

Each subset goes through five steps, each safe to re-run:
download -> verify -> extract -> convert -> manifest.

  * download: streams to `<archive>.part`; an interrupted transfer resumes
    with an HTTP Range request, in the same run or the next one. One run at
    a time per archive (`<archive>.lock`): a second run on the same
    --data_dir refuses, naming the first. A transfer slower than
    --download_stall_bytes per --download_stall_s stops (a re-run resumes).
  * verify: the md5 of the file on disk must match the published one (built
    in for the official archives; --checksum_file overrides, --skip_checksum
    opts out); only then is the part file fsync'ed and renamed to
    `<archive>`.
  * extract: members that would land outside the subset folder (absolute
    paths, `..`, links pointing out, the archive's or the marker's own name)
    are refused, as is an archive larger than --max_extract_gb or
    --max_members; nothing is put in place until every member passed. The
    archive is deleted after a successful extraction unless --keep_archives;
    a marker file records the extraction so re-runs need neither archive nor
    network. File names read from the archive's transcripts must be plain
    names.
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
Layout (--dataset=uqm, The Ur-Quan Masters voice pack): data/downloading/uqm.py.
Other corpora (each read from a path, a URL or an unpacked folder, see its
module in data/downloading/ for the layouts): --dataset=commonvoice
(--cv_archive or --cv_dir, any language), tedlium (TED-LIUM 3), an4 (CMU AN4)
and folder (--folder_dir: your own recordings with a transcript per file or a
--folder_transcripts list). Their transcripts are reduced to
--vocabulary_file; rows it cannot spell are skipped and counted.
Manifests are tab-separated with the header
`wav_filename wav_filesize transcript` (absolute path, bytes, text).

--lm_files (with --lm_only: nothing else) also fetches the official
LibriSpeech LM files, OpenSLR resource 11 (pruned 3-grams, 4-gram, vocabulary,
lexicon), through the same resumable, verified download into
<data_dir>/librispeech-lm/, decompressing each verified .arpa.gz to .arpa.

This script stands alone: it talks to training only through the manifests.
"""

import errno
import os
import sys

if __name__ == "__main__" and not __package__:
  # Run as `python data/download.py`, Python puts data/ on the path, not the
  # repository root that holds the `data` package with our helper modules.
  sys.path.insert(0, os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))))

# pylint: disable=g-import-not-at-top,wrong-import-position
from absl import app
from absl import flags
from absl import logging

from common import atomic_file
from data import text_flags
from data import vocabulary
from data.downloading import an4
from data.downloading import archive
from data.downloading import checksums
from data.downloading import common
from data.downloading import commonvoice
from data.downloading import corpus_flags
from data.downloading import download_flags
from data.downloading import fetch
from data.downloading import folder
from data.downloading import librispeech
from data.downloading import librispeech_lm
from data.downloading import ljspeech
from data.downloading import steps
from data.downloading import tedlium
from data.downloading import uqm
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
  if flags_obj.dataset != "librispeech":
    if (flags_obj.subsets or flags_obj.train_only or flags_obj.dev_only or
        flags_obj.test_only):
      raise common.DownloadError(
          "--subsets, --train_only, --dev_only and --test_only select "
          "LibriSpeech subsets; they do not apply to --dataset=%s."
          % flags_obj.dataset)
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
  """The `steps.DownloadConfig` the flags ask for."""
  if flags_obj.dataset == "uqm":  # Fetched through apt: no mirror, no md5.
    return steps.DownloadConfig(
        base_url=None, checksums={}, skip_checksum=False,
        keep_archives=flags_obj.keep_archives,
        num_workers=flags_obj.num_workers or _available_cpus(),
        show_progress=True)
  if flags_obj.dataset in corpus_flags.OTHER_CORPORA and flags_obj.base_url:
    raise common.DownloadError(
        "--base_url does not apply to --dataset=%s; its own flags name the "
        "archive or folder." % flags_obj.dataset)
  # None for the other corpora: their archives are named in full.
  base_url = flags_obj.base_url or DEFAULT_BASE_URLS.get(flags_obj.dataset)
  base_url = base_url and base_url.rstrip("/")
  if base_url and not base_url.startswith(("http://", "https://",
                                           "file://")):
    raise common.DownloadError(
        "--base_url must start with http://, https:// or file://, got %r."
        % base_url)
  checksums = dict(fetch.KNOWN_CHECKSUMS)
  if flags_obj.checksum_file:
    checksums.update(fetch.read_checksum_file(
        flags_obj.checksum_file,
        max_bytes=flags_obj.checksum_file_max_bytes))
  if flags_obj.skip_checksum:
    logging.warning("--skip_checksum: archives will NOT be verified; a "
                    "corrupt or tampered download goes unnoticed.")
  return steps.DownloadConfig(
      base_url=base_url, checksums=checksums,
      skip_checksum=flags_obj.skip_checksum,
      keep_archives=flags_obj.keep_archives,
      num_workers=flags_obj.num_workers or _available_cpus(),
      show_progress=True, stall_bytes=flags_obj.download_stall_bytes,
      stall_window_s=flags_obj.download_stall_s,
      max_extract_bytes=int(flags_obj.max_extract_gb * 1e9),
      max_members=flags_obj.max_members)


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
    paths = []
  elif flags_obj.dataset == "ljspeech":
    paths = list(ljspeech.prepare_ljspeech(flags_obj.data_dir, config))
  elif flags_obj.dataset == "uqm":
    paths = list(uqm.prepare_uqm(flags_obj.data_dir, flags_obj.uqm_dir,
                                 flags_obj.uqm_max_sec, config))
  elif flags_obj.dataset in corpus_flags.OTHER_CORPORA:
    paths = list(_prepare_other_corpus(flags_obj, config))
  else:
    paths = librispeech.prepare_librispeech(flags_obj.data_dir, subsets,
                                            config)
  lm_base_url = _lm_base_url(flags_obj) if lm_files else None
  return paths + librispeech_lm.prepare_lm(lm_files, lm_base_url,
                                           _lm_dir(flags_obj), config)


# --- Common Voice, TED-LIUM, AN4 and a folder of one's own ---


def _vocabulary_from_flags(flags_obj):
  try:
    return vocabulary.characters(flags_obj.vocabulary_file)
  except (OSError, ValueError) as e:
    raise common.DownloadError("cannot read --vocabulary_file %s: %s" % (
        flags_obj.vocabulary_file, getattr(e, "strerror", None) or e)) \
        from None


def _prepare_other_corpus(flags_obj, config):
  """Runs the importer of --dataset; returns its manifest paths."""
  data_dir, dataset = flags_obj.data_dir, flags_obj.dataset
  characters = _vocabulary_from_flags(flags_obj)
  # Transcripts as training will read them (the same text policy flags).
  policy = text_flags.text_policy(flags_obj)
  if dataset == "commonvoice":
    return commonvoice.prepare_commonvoice(
        data_dir, flags_obj.cv_archive, flags_obj.cv_dir, characters, config,
        policy)
  if dataset == "tedlium":
    return tedlium.prepare_tedlium(data_dir, flags_obj.tedlium_archive,
                                   flags_obj.tedlium_dir, characters, config,
                                   policy)
  if dataset == "an4":
    return an4.prepare_an4(data_dir, flags_obj.an4_archive,
                           flags_obj.an4_dir, characters, config, policy)
  if not flags_obj.folder_dir:
    raise common.DownloadError("--dataset=folder needs --folder_dir.")
  return folder.prepare_folder(
      data_dir, flags_obj.folder_dir, flags_obj.folder_transcripts,
      characters, flags_obj.folder_dev_fraction, flags_obj.folder_split_by,
      flags_obj.folder_seed, config, policy)


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


def define_download_flags():
  """Declares every flag of this CLI; called from `__main__` only."""
  download_flags.define_download_flags(DEFAULT_BASE_URLS)
  corpus_flags.define_uqm_flags()
  corpus_flags.define_corpus_flags()
  text_flags.define_text_policy_flags()
  download_flags.define_lm_flags()
  # `--help` lists the main module's key flags: these are all of this CLI's.
  for module in (download_flags, corpus_flags, text_flags):
    flags.adopt_module_key_flags(module)


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
  elif isinstance(error, fetch.TooSlowError):
    message += (" Change the minimum with --download_stall_bytes and "
                "--download_stall_s.")
  elif isinstance(error, checksums.ChecksumFileTooLargeError):
    message += " Raise --checksum_file_max_bytes if it is right."
  elif isinstance(error, archive.ExtractionLimitError):
    message += (" Raise --max_extract_gb or --max_members if the archive is "
                "trusted.")
  return message


def main(_):
  try:
    run_download(flags.FLAGS)
  except common.DownloadError as e:
    _fail(_in_flag_terms(e))
  except atomic_file.WriteError as e:  # its message names the file
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

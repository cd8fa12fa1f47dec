"""The flags of data/download.py's downloads (LibriSpeech, LJSpeech and the
LibriSpeech LM files), defined from its `__main__` only; the steps take plain
arguments. The other corpora's flags are in corpus_flags.py.
"""

from absl import flags

from data.downloading import archive
from data.downloading import corpus_flags
from data.downloading import librispeech_lm


def define_download_flags(default_base_urls):
  """Flags of the downloads: where, which subsets, how (LibriSpeech,
  LJSpeech); `default_base_urls` names each dataset's source in the help."""
  _define_selection_flags()
  _define_source_flags(default_base_urls)
  _define_extraction_flags()


def _define_selection_flags():
  """Where the data goes, and which corpus and subsets are prepared."""
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
      "dataset", "librispeech", ["librispeech", "ljspeech", "uqm"] +
      list(corpus_flags.OTHER_CORPORA),
      "Corpus to prepare. ljspeech downloads LJSpeech-1.1.tar.bz2, resamples "
      "it to 16 kHz and writes ljspeech-train.csv / ljspeech-dev.csv (90/10) "
      "under <data_dir>/LJSpeech-1.1/. uqm fetches The Ur-Quan Masters voice "
      "pack (Debian non-free uqm-voice + uqm-content, CC BY-NC-SA, for your "
      "own use only) through apt and writes uqm-train.csv / uqm-dev.csv "
      "(dev: held-out speakers) under <data_dir>/uqm/. commonvoice, tedlium, "
      "an4: see --cv_*, --tedlium_*, --an4_*; folder: your own recordings, "
      "see --folder_*.")


def _define_source_flags(default_base_urls):
  """Where the archives come from, how they are verified, when a transfer
  stalls."""
  flags.DEFINE_string(
      "base_url", None,
      "Mirror folder holding the archives: http(s):// or file://. Default: "
      "%s for librispeech, %s for ljspeech." % (
          default_base_urls["librispeech"], default_base_urls["ljspeech"]))
  flags.DEFINE_string(
      "checksum_file", None,
      "md5sum-format file (path or URL; sha256 digests work too) whose "
      "entries override the built-in checksums of the official archives, "
      "e.g. http://www.openslr.org/resources/12/md5sum.txt or one for a "
      "private mirror.")
  flags.DEFINE_integer(
      "checksum_file_max_bytes", 1 << 20,
      "Refuse a --checksum_file larger than this many bytes (a hostile "
      "server could send gigabytes).", lower_bound=1)
  flags.DEFINE_integer(
      "download_stall_bytes", 65536,
      "Stop a transfer that brings fewer than this many bytes in "
      "--download_stall_s seconds (a server trickling bytes in never times "
      "out); the part file stays, a re-run resumes. 0: no minimum.",
      lower_bound=0)
  flags.DEFINE_float(
      "download_stall_s", 300.0,
      "The window of --download_stall_bytes, in seconds. 0: no minimum.",
      lower_bound=0.0)
  flags.DEFINE_bool(
      "skip_checksum", False,
      "Do not verify the archives (warns). Needed only for archives that no "
      "checksum is known for.")


def _define_extraction_flags():
  """How archives are converted and kept, and the limits that refuse one."""
  flags.DEFINE_integer(
      "num_workers", None,
      "Parallel sox conversions. Default: all available CPU cores.",
      lower_bound=1)
  flags.DEFINE_bool(
      "keep_archives", False,
      "Keep each archive after a successful extraction (deleted by default, "
      "as the original did, to save disk space).")
  flags.DEFINE_float(
      "max_extract_gb", archive.MAX_EXTRACT_BYTES / 1e9,
      "Refuse an archive whose members hold more than this many GB (10^9 "
      "bytes) together: a decompression bomb would fill the disk.",
      lower_bound=0.0)
  flags.DEFINE_integer(
      "max_members", archive.MAX_MEMBERS,
      "Refuse an archive with more members (files, folders, links) than "
      "this.", lower_bound=1)


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

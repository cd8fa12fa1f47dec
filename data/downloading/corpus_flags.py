"""The flags of data/download.py's other corpora (uqm, commonvoice, tedlium,
an4, folder), defined from its `__main__` only; the importers take plain
arguments.
"""

from absl import flags

from data import vocabulary
from data.downloading import an4
from data.downloading import folder
from data.downloading import tedlium
from data.downloading import uqm

# The corpora read from a path, a URL or a folder by an importer.
OTHER_CORPORA = ("commonvoice", "tedlium", "an4", "folder")


def define_uqm_flags():
  """Flags of --dataset=uqm."""
  flags.DEFINE_string(
      "uqm_dir", None,
      "--dataset=uqm: read this unpacked copy instead of fetching through "
      "apt: a folder holding 3dovoice/ and base/comm/, or the game's .uqm "
      "packages (an installed game, or dpkg -x of uqm-voice and "
      "uqm-content). Only read, never written.")
  flags.DEFINE_float(
      "uqm_max_sec", uqm.DEFAULT_MAX_SEC,
      "--dataset=uqm: clips or lines longer than this many seconds are "
      "dropped (counted in the log).", lower_bound=1.0)


def define_corpus_flags():
  """Flags of --dataset=commonvoice, tedlium, an4 and folder."""
  flags.DEFINE_string(
      "vocabulary_file", vocabulary.VOCABULARY_FILE,
      "Those corpora's transcripts are lower-cased and reduced to this "
      "vocabulary (punctuation outside it dropped); rows with other "
      "characters are skipped and counted.")
  flags.DEFINE_string(
      "cv_archive", None,
      "--dataset=commonvoice: a release archive (cv-corpus-*-<lang>.tar.gz), "
      "path or http(s)/file URL; extracted under <data_dir>/commonvoice/.")
  flags.DEFINE_string(
      "cv_dir", None,
      "--dataset=commonvoice: an unpacked release (clips/, train.tsv, "
      "dev.tsv, test.tsv), only read; instead of --cv_archive.")
  for name, corpus, default in (
      ("tedlium", "TED-LIUM", tedlium.ARCHIVE_URL),
      ("an4", "AN4", an4.ARCHIVE_URL)):
    flags.DEFINE_string(
        name + "_archive", None,
        "--dataset=%s: the %s archive, path or http(s)/file URL. Default: "
        "%s (give --checksum_file or --skip_checksum)." % (
            name, corpus, default))
    flags.DEFINE_string(
        name + "_dir", None,
        "--dataset=%s: an unpacked %s corpus, only read; instead of --%s_"
        "archive." % (name, corpus, name))
  flags.DEFINE_string(
      "folder_dir", None,
      "--dataset=folder: a folder of recordings (wav, flac, mp3, ogg, ...), "
      "each with name.txt or name.lab beside it; only read.")
  flags.DEFINE_string(
      "folder_transcripts", None,
      "--dataset=folder: a CSV/TSV of path,text rows instead (paths relative "
      "to --folder_dir, which they must stay inside).")
  flags.DEFINE_float(
      "folder_dev_fraction", 0.0,
      "--dataset=folder: share held out in folder-dev.csv (0: none).",
      lower_bound=0.0, upper_bound=0.5)
  flags.DEFINE_enum(
      "folder_split_by", "speaker", list(folder.SPLIT_BY),
      "--dataset=folder: hold out whole speaker subfolders, or files.")
  flags.DEFINE_integer("folder_seed", 0,
                       "--dataset=folder: seed of the dev split.")

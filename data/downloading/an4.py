"""CMU AN4 (alphanumeric census): headerless big-endian 16 kHz recordings.

Layout read (`an4_raw.bigendian.tar.gz` unpacks to `an4/`):
  an4/wav/an4_clstk/<speaker>/<fileid>.raw       training recordings
  an4/wav/an4test_clstk/<speaker>/<fileid>.raw   test recordings
  an4/etc/an4_train.transcription                `<s> TEXT </s> (fileid)`
  an4/etc/an4_test.transcription
The `.raw` files are 16-bit signed big-endian mono samples at 16 kHz with no
header, so sox is told their format. A file id is looked up among the
recordings actually present rather than joined into a path, so no line of a
transcription can point anywhere.

Layout written:
  <data_dir>/an4/extracted/...                 an archive, unpacked
  <data_dir>/an4/<split>-wav/<fileid>.wav      16 kHz wavs
  <data_dir>/an4/an4-train.csv, an4-test.csv
"""

import os
import re

from data import text_normalization
from data.downloading import common
from data.downloading import convert as convert_lib
from data.downloading import steps

DIRECTORY = "an4"
ARCHIVE_URL = ("http://www.speech.cs.cmu.edu/databases/an4/"
               "an4_raw.bigendian.tar.gz")
# split -> (recordings folder under wav/, transcription file under etc/).
SPLITS = {
    "train": ("an4_clstk", "an4_train.transcription"),
    "test": ("an4test_clstk", "an4_test.transcription"),
}
RAW_INPUT = ("-t", "raw", "-r", "16000", "-e", "signed-integer", "-b", "16",
             "-c", "1", "-B")
_LINE = re.compile(r"^\s*(?:<s>)?(.*?)(?:</s>)?\s*\(([^()]*)\)\s*$")
_MAX_DEPTH = 2


class TranscriptionError(common.DownloadError):
  """An AN4 transcription file is malformed."""


def _is_root(directory):
  return all(os.path.isfile(os.path.join(directory, "etc", t))
             for _, t in SPLITS.values()) and os.path.isdir(
                 os.path.join(directory, "wav"))


def find_root(top, depth=_MAX_DEPTH):
  """The folder holding `etc/` and `wav/` at most `depth` levels down."""
  if _is_root(top):
    return top
  if depth > 0 and os.path.isdir(top):
    for name in sorted(os.listdir(top)):
      path = os.path.join(top, name)
      if os.path.isdir(path) and not os.path.islink(path):
        found = find_root(path, depth - 1)
        if found:
          return found
  return None


def read_transcription(path, archive):
  """The (line, file id, text) rows of an AN4 `.transcription` file.

  Raises:
    TranscriptionError: a line not ending in `(fileid)`.
    common.UnsafeNameError: a file id that is not a plain file name (it
      becomes `<fileid>.wav`).
  """
  rows = []
  with open(path, encoding="utf-8", errors="replace") as f:
    for number, line in enumerate(f, 1):
      if not line.strip():
        continue
      match = _LINE.match(line.rstrip("\r\n"))
      if not match:
        raise TranscriptionError("%s line %d is not '<s> TEXT </s> "
                                 "(fileid)'." % (path, number))
      fileid = common.check_plain_name(match.group(2).strip(), archive, path,
                                       number)
      rows.append((number, fileid, match.group(1).strip()))
  return rows


def recordings(directory):
  """{file id: path} of the `.raw` files in a split's speaker folders."""
  found = {}
  for speaker in sorted(os.listdir(directory)):
    speaker_dir = os.path.join(directory, speaker)
    if os.path.islink(speaker_dir) or not os.path.isdir(speaker_dir):
      continue
    for name in sorted(os.listdir(speaker_dir)):
      path = os.path.join(speaker_dir, name)
      if name.endswith(".raw") and os.path.isfile(path) and (
          not os.path.islink(path)):
        found.setdefault(name[:-len(".raw")], path)
  return found


def split_jobs(data_dir, root, split, vocabulary, archive,
               text_policy=text_normalization.DEFAULT):
  """The `steps.Utterance`s of one split."""
  folder, transcription = SPLITS[split]
  raws = recordings(os.path.join(root, "wav", folder))
  normalizer = common.TranscriptNormalizer(vocabulary, text_policy)
  jobs, missing = [], []
  for _, fileid, text in read_transcription(
      os.path.join(root, "etc", transcription), archive):
    if fileid not in raws:
      missing.append(fileid + ".raw")
      continue
    text = normalizer(text)
    if text is not None:
      jobs.append(steps.Utterance(raws[fileid], os.path.join(
          data_dir, DIRECTORY, split + "-wav", fileid + ".wav"), text,
                                  RAW_INPUT))
  common.report_rows("AN4 %s" % split, len(jobs), normalizer, missing)
  return jobs


def manifest_path(data_dir, split):
  return os.path.join(data_dir, DIRECTORY, "an4-%s.csv" % split)


def _root_from(data_dir, archive, source_dir, config):
  if source_dir:
    root = find_root(source_dir)
  else:
    extracted = os.path.join(data_dir, DIRECTORY, "extracted")
    steps.ensure_archive_extracted(
        archive or ARCHIVE_URL, extracted, config,
        present=lambda: find_root(extracted) is not None)
    root = find_root(extracted)
  if root is None:
    raise common.DownloadError(
        "no AN4 corpus under %s: expected etc/an4_train.transcription, "
        "etc/an4_test.transcription and wav/." % (
            source_dir or os.path.join(data_dir, DIRECTORY, "extracted")))
  return root


def prepare_an4(data_dir, archive, source_dir, vocabulary, config,
                text_policy=text_normalization.DEFAULT):
  """Makes an4-train.csv and an4-test.csv and their 16 kHz wavs.

  The corpus is read from `source_dir` (an unpacked copy, only read) when
  given, else from `archive` (a path or URL; None: ARCHIVE_URL), extracted
  under `<data_dir>/an4/`. Transcripts are reduced to `vocabulary` (a set of
  characters with the space); `config` is a `steps.DownloadConfig`.

  Returns:
    (train manifest, test manifest).
  """
  manifests = tuple(manifest_path(data_dir, s) for s in SPLITS)
  if steps.all_complete(manifests, "AN4"):
    return manifests
  convert_lib.require_sox()
  root = _root_from(data_dir, archive, source_dir, config)
  origin = source_dir or steps.archive_file_name(archive or ARCHIVE_URL)
  # Both transcriptions are checked before anything is converted.
  jobs = {split: split_jobs(data_dir, root, split, vocabulary, origin,
                                text_policy)
          for split in SPLITS}
  for split, manifest in zip(SPLITS, manifests):
    steps.convert_and_write(manifest, jobs[split], "AN4 " + split, config)
  return manifests

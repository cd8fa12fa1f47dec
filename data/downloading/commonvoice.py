"""Common Voice: a release archive or an unpacked release, any language.

A release (`cv-corpus-<version>-<lang>.tar.gz`) unpacks to
`cv-corpus-<version>/<lang>/`, which holds `clips/<clip>.mp3` and the
tab-separated `train.tsv`, `dev.tsv`, `test.tsv` and `validated.tsv` (header
row: client_id, path, sentence, up_votes, ... ; only `path` and `sentence` are
needed, other columns may come and go between releases). The release's own
train/dev/test split is kept.

Layout written:
  <data_dir>/commonvoice/extracted/...                  an archive, unpacked
  <data_dir>/commonvoice/<lang>/wav/<clip>.wav          16 kHz wavs
  <data_dir>/commonvoice/<lang>/commonvoice-train.csv   (and -dev, -test)
"""

import os

from absl import logging

from data import text_normalization
from data.downloading import common
from data.downloading import convert as convert_lib
from data.downloading import steps

DIRECTORY = "commonvoice"
SPLITS = ("train", "dev", "test")
TSV_FILES = tuple(s + ".tsv" for s in SPLITS) + ("validated.tsv",)
REQUIRED_COLUMNS = ("path", "sentence")
# How deep below the given folder a release's language folder may sit:
# `cv-corpus-<version>/<lang>/` is two levels down from the extraction folder.
_MAX_DEPTH = 3


class TsvError(common.DownloadError):
  """A Common Voice .tsv file is malformed."""


def _is_release(directory):
  return os.path.isdir(os.path.join(directory, "clips")) and any(
      os.path.isfile(os.path.join(directory, t)) for t in TSV_FILES)


def find_releases(top, depth=_MAX_DEPTH):
  """The folders at most `depth` levels below `top` that hold a release.

  `clips/` itself is never listed, it may hold millions of files.
  """
  if _is_release(top):
    return [top]
  if depth == 0:
    return []
  found = []
  try:
    entries = sorted(os.scandir(top), key=lambda e: e.name)
  except OSError:
    return []
  for entry in entries:
    if entry.is_dir(follow_symlinks=False) and entry.name != "clips":
      found += find_releases(entry.path, depth - 1)
  return found


def find_release(top):
  """The one release folder under `top`; raises naming what was found."""
  releases = find_releases(top)
  if not releases:
    raise common.DownloadError(
        "no Common Voice release under %s: expected a folder holding clips/ "
        "and train.tsv, dev.tsv, test.tsv or validated.tsv." % top)
  if len(releases) > 1:
    raise common.DownloadError(
        "%s holds several Common Voice releases (%s); pass one of them as "
        "--cv_dir." % (top, ", ".join(releases)))
  return releases[0]


def _decoded_lines(path):
  """(line number, text) of a UTF-8 file, naming the line of bad bytes."""
  with open(path, "rb") as f:
    for number, raw in enumerate(f, 1):
      try:
        yield number, raw.decode("utf-8").rstrip("\r\n")
      except UnicodeDecodeError:
        raise TsvError("%s line %d is not UTF-8 text." % (path, number)) \
            from None


def read_tsv(path, archive):
  """The (line, clip name, sentence) rows of one Common Voice .tsv file.

  Args:
    path: the .tsv file.
    archive: the archive or folder it came from, named in errors.

  Raises:
    TsvError: no header with `path` and `sentence`, or a row whose columns do
      not fit the header (a tab too many would shift every column after it).
    common.UnsafeNameError: a clip that is not a plain file name.
  """
  lines = _decoded_lines(path)
  header = next(lines, (1, ""))[1].split("\t")
  missing = [c for c in REQUIRED_COLUMNS if c not in header]
  if missing:
    raise TsvError("%s line 1: the header has no %s column (found %s)." % (
        path, " or ".join(repr(c) for c in missing),
        ", ".join(repr(c) for c in header)))
  at_path, at_sentence = (header.index(c) for c in REQUIRED_COLUMNS)
  rows = []
  for number, line in lines:
    if not line.strip():
      continue
    fields = line.split("\t")
    # Trailing optional columns may be missing; extra ones never are.
    if len(fields) > len(header) or len(fields) <= max(at_path,
                                                       at_sentence):
      raise TsvError("%s line %d has %d tab-separated columns; the header "
                     "has %d." % (path, number, len(fields), len(header)))
    clip = common.check_plain_name(fields[at_path], archive, path, number)
    rows.append((number, clip, fields[at_sentence]))
  return rows


def output_dir(data_dir, language):
  """`<data_dir>/commonvoice/<language>`, where wavs and manifests go."""
  return os.path.join(data_dir, DIRECTORY, language)


def manifest_path(data_dir, language, split):
  return os.path.join(output_dir(data_dir, language),
                      "commonvoice-%s.csv" % split)


def _wav(data_dir, language, clip):
  return os.path.join(output_dir(data_dir, language), "wav",
                      os.path.splitext(clip)[0] + ".wav")


def split_rows(release, tsv, data_dir, language, vocabulary, archive,
               text_policy=text_normalization.DEFAULT):
  """The `steps.Utterance`s of one split, after the checks.

  Rows whose clip is missing or whose sentence cannot be spelled with the
  vocabulary are left out and counted in one summary line.
  """
  clips = os.path.join(release, "clips")
  normalizer = common.TranscriptNormalizer(vocabulary, text_policy)
  rows, missing = [], []
  for _, clip, sentence in read_tsv(tsv, archive):
    source = os.path.join(clips, clip)
    if not os.path.isfile(source) or not common.inside(source, clips):
      missing.append(clip)
      continue
    text = normalizer(sentence)
    if text is not None:
      rows.append(steps.Utterance(source, _wav(data_dir, language, clip),
                                  text))
  common.report_rows("Common Voice %s %s" % (
      language, os.path.basename(tsv)[:-len(".tsv")]), len(rows),
                     normalizer, missing)
  return rows


def _release_from(data_dir, archive, source_dir, config):
  """The release folder, extracting `archive` first when one is given."""
  if source_dir:
    if not os.path.isdir(source_dir):
      raise common.DownloadError("--cv_dir %s is not a folder." % source_dir)
    return find_release(source_dir)
  if not archive:
    raise common.DownloadError(
        "Common Voice needs --cv_archive (a release's .tar.gz, path or URL) "
        "or --cv_dir (an unpacked release); releases are downloaded from "
        "https://commonvoice.mozilla.org/datasets after accepting its "
        "terms.")
  extracted = os.path.join(data_dir, DIRECTORY, "extracted")
  steps.ensure_archive_extracted(archive, extracted, config,
                                 present=lambda: bool(find_releases(
                                     extracted)))
  return find_release(extracted)


def prepare_commonvoice(data_dir, archive, source_dir, vocabulary, config,
                        text_policy=text_normalization.DEFAULT):
  """Makes the Common Voice manifests and 16 kHz wavs of one release.

  Args:
    data_dir: the folder `<data_dir>/commonvoice/` is created in.
    archive: path or URL of a release archive, or None.
    source_dir: an unpacked release (only read), or None.
    vocabulary: set of characters transcripts may hold (with the space).
    config: a `steps.DownloadConfig`.

  Returns:
    The manifest paths, one per split the release has, train/dev/test order.
  """
  release = _release_from(data_dir, archive, source_dir, config)
  language = os.path.basename(os.path.realpath(release))
  origin = source_dir or steps.archive_file_name(archive)
  tsvs = [(s, os.path.join(release, s + ".tsv")) for s in SPLITS]
  tsvs = [(s, t) for s, t in tsvs if os.path.isfile(t)]
  if not tsvs:
    raise common.DownloadError("%s has no train.tsv, dev.tsv or test.tsv to "
                               "take the splits from." % release)
  # Every split's TSV is read and checked before anything is converted, so
  # a bad line anywhere leaves no half-imported release behind.
  manifests = [manifest_path(data_dir, language, s) for s, _ in tsvs]
  pending = {}
  for (split, tsv), manifest in zip(tsvs, manifests):
    if convert_lib.manifest_is_complete(manifest):
      logging.info("Common Voice %s %s: manifest %s is complete, skipped.",
                   language, split, manifest)
    else:
      pending[manifest] = (split, split_rows(release, tsv, data_dir, language,
                                             vocabulary, origin,
                                             text_policy))
  for manifest, (split, rows) in pending.items():
    steps.convert_and_write(manifest, rows, "Common Voice %s %s" % (
        language, split), config)
  return manifests

"""TED-LIUM (release 3, or 2): talks cut into utterances at their segments.

Layout read: `<split>/sph/<talk>.sph` (NIST SPHERE, which sox reads) and
`<split>/stm/<talk>.stm` for the splits train, dev and test. Release 3 ships
that layout twice, as `legacy/` (release 2's split, the one papers report)
and `speaker-adaptation/`; `legacy/` is taken. Each STM line is
`<talk> <channel> <speaker> <start> <end> [<label>] <transcript>`.

Segments are kept or dropped as follows:
  * `ignore_time_segment_in_scoring` (no usable words): dropped.
  * a word spoken but marked `<unk>`: the whole segment is dropped, since
    deleting the token would leave audio of a word the label does not have.
  * other markers in brackets (`{NOISE}`, `<sil>`, `[laughter]`): the token is
    dropped and the segment kept; they mark sound, not words.
  * `i 'm` (the corpus splits contractions): joined, `i'm`.
Every drop is counted in one summary line per split.

Layout written:
  <data_dir>/tedlium/extracted/...                    an archive, unpacked
  <data_dir>/tedlium/<split>-wav/<talk>-<start>-<end>.wav   (centiseconds)
  <data_dir>/tedlium/tedlium-<split>.csv
"""

import collections
import os

from absl import logging

from data import text_normalization
from data.downloading import common
from data.downloading import convert as convert_lib
from data.downloading import steps

DIRECTORY = "tedlium"
SPLITS = ("train", "dev", "test")
ARCHIVE_URL = "https://www.openslr.org/resources/51/TEDLIUM_release-3.tgz"
IGNORED = "ignore_time_segment_in_scoring"
UNKNOWN_WORD = "<unk>"
PREFERRED_LAYOUT = "legacy"
_MAX_DEPTH = 4


class StmError(common.DownloadError):
  """An .stm file is malformed."""


def _split_dirs(top, depth):
  """(parent, split) of every `<split>/{sph,stm}` folder under `top`."""
  found = []
  try:
    entries = sorted(os.scandir(top), key=lambda e: e.name)
  except OSError:
    return found
  for entry in entries:
    if not entry.is_dir(follow_symlinks=False) or entry.name in ("sph",
                                                                 "stm"):
      continue
    if entry.name in SPLITS and all(os.path.isdir(os.path.join(
        entry.path, sub)) for sub in ("sph", "stm")):
      found.append((top, entry.name))
    elif depth > 0:
      found += _split_dirs(entry.path, depth - 1)
  return found


def find_layout(top):
  """{split: folder} of the corpus under `top`; raises when none or unclear."""
  parents = collections.defaultdict(dict)
  for parent, split in _split_dirs(top, _MAX_DEPTH):
    parents[parent][split] = os.path.join(parent, split)
  if not parents:
    raise common.DownloadError(
        "no TED-LIUM corpus under %s: expected train/, dev/ and test/ "
        "folders each holding sph/ and stm/." % top)
  preferred = [p for p in parents if os.path.basename(p) == PREFERRED_LAYOUT]
  if len(preferred) == 1:
    return parents[preferred[0]]
  if len(parents) > 1:
    raise common.DownloadError(
        "%s holds several TED-LIUM layouts (%s); pass one of them as "
        "--tedlium_dir." % (top, ", ".join(sorted(parents))))
  return next(iter(parents.values()))


def clean_transcript(text):
  """(words, None) of a segment kept, or (None, why) of one dropped."""
  if text.strip() == IGNORED:
    return None, "ignored (%s)" % IGNORED
  words = []
  for token in text.split():
    if token == UNKNOWN_WORD:
      return None, "with an <unk> word"
    if token[:1] in "<{[" and token[-1:] in ">}]":
      continue
    if token.startswith("'") and words:
      words[-1] += token
    else:
      words.append(token)
  return " ".join(words), None


def read_stm(path, archive):
  """The segments of one .stm file: (line, talk, start, end, transcript).

  Raises:
    StmError: a line without the six leading fields, or bad times.
    common.UnsafeNameError: a talk that is not a plain file name (it
      becomes `<talk>.sph` and part of the wav's name).
  """
  segments = []
  with open(path, encoding="utf-8", errors="replace") as f:
    for number, line in enumerate(f, 1):
      if not line.strip() or line.startswith(";;"):
        continue
      fields = line.split(None, 6)
      if len(fields) < 5:
        raise StmError("%s line %d is not '<talk> <channel> <speaker> "
                       "<start> <end> <label> <transcript>'." % (path, number))
      talk = common.check_plain_name(fields[0], archive, path, number)
      try:
        start, end = float(fields[3]), float(fields[4])
      except ValueError:
        raise StmError("%s line %d: start %r and end %r must be seconds." % (
            path, number, fields[3], fields[4])) from None
      if not 0 <= start < end:
        raise StmError("%s line %d: the segment %s-%s s is empty or "
                       "negative." % (path, number, fields[3], fields[4]))
      rest = fields[5:]
      # The label (`<o,f0,male>`) is optional in the STM format.
      if rest and rest[0][:1] == "<" and rest[0][-1:] == ">" and (
          rest[0] != UNKNOWN_WORD):
        rest = rest[1:]
      segments.append((number, talk, start, end, " ".join(rest)))
  return segments


def split_jobs(data_dir, split, split_dir, vocabulary, archive,
               text_policy=text_normalization.DEFAULT):
  """The `steps.Utterance`s (talk, trim effect) of one split's segments."""
  normalizer = common.TranscriptNormalizer(vocabulary, text_policy)
  dropped = collections.Counter()
  missing, jobs = [], []
  wav_dir = os.path.join(data_dir, DIRECTORY, split + "-wav")
  stm_dir = os.path.join(split_dir, "stm")
  for name in sorted(os.listdir(stm_dir)):
    if not name.endswith(".stm"):
      continue
    for _, talk, start, end, text in read_stm(os.path.join(stm_dir, name),
                                              archive):
      sph = os.path.join(split_dir, "sph", talk + ".sph")
      if not os.path.isfile(sph) or not common.inside(sph, split_dir):
        if talk + ".sph" not in missing:
          missing.append(talk + ".sph")
        dropped["segments of a missing talk"] += 1
        continue
      words, reason = clean_transcript(text)
      if reason:
        dropped[reason] += 1
        continue
      words = normalizer(words)
      if words is None:
        continue
      utterance = "%s-%07d-%07d" % (talk, round(start * 100),
                                    round(end * 100))
      jobs.append(steps.Utterance(
          sph, os.path.join(wav_dir, utterance + ".wav"), words,
          effects=("trim", "%.2f" % start, "=%.2f" % end)))
  common.report_rows("TED-LIUM %s" % split, len(jobs), normalizer, missing,
                     dropped)
  return jobs


def manifest_path(data_dir, split):
  return os.path.join(data_dir, DIRECTORY, "tedlium-%s.csv" % split)


def _layout_from(data_dir, archive, source_dir, config):
  if source_dir:
    if not os.path.isdir(source_dir):
      raise common.DownloadError("--tedlium_dir %s is not a folder."
                                 % source_dir)
    return find_layout(source_dir)
  extracted = os.path.join(data_dir, DIRECTORY, "extracted")

  def present():
    return bool(_split_dirs(extracted, _MAX_DEPTH))
  steps.ensure_archive_extracted(archive or ARCHIVE_URL, extracted, config,
                                 present)
  return find_layout(extracted)


def prepare_tedlium(data_dir, archive, source_dir, vocabulary, config,
                    text_policy=text_normalization.DEFAULT):
  """Makes tedlium-{train,dev,test}.csv and the utterances' 16 kHz wavs.

  Args:
    data_dir: the folder `<data_dir>/tedlium/` is created in.
    archive: path or URL of the corpus archive; None: ARCHIVE_URL.
    source_dir: an unpacked corpus (only read) instead, or None.
    vocabulary: set of characters transcripts may hold (with the space).
    config: a `steps.DownloadConfig`.

  Returns:
    The manifest paths of the splits the corpus has.
  """
  manifests = [manifest_path(data_dir, s) for s in SPLITS]
  if steps.all_complete(manifests, "TED-LIUM"):
    return manifests
  convert_lib.require_sox()
  layout = _layout_from(data_dir, archive, source_dir, config)
  origin = source_dir or steps.archive_file_name(archive or ARCHIVE_URL)
  # Every split's text is read and checked before anything is converted,
  # so a bad line anywhere leaves no half-imported corpus behind.
  pending = {}
  for split, manifest in zip(SPLITS, manifests):
    if split not in layout:
      logging.warning("TED-LIUM: %s has no %s split.", origin, split)
    elif not convert_lib.manifest_is_complete(manifest):
      pending[manifest] = (split, split_jobs(data_dir, split, layout[split],
                                             vocabulary, origin,
                                             text_policy))
  for manifest, (split, jobs) in pending.items():
    steps.convert_and_write(manifest, jobs, "TED-LIUM " + split, config)
  return [m for s, m in zip(SPLITS, manifests) if s in layout]

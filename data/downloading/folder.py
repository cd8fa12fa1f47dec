"""Any folder of recordings with their transcripts ("my own recordings").

Transcripts come either from a file beside each recording (`name.txt` or
`name.lab`, one transcript) or from one CSV/TSV list of `path,text` rows
(tab-separated when the file ends in .tsv or its first line holds a tab; an
optional header row `path,text`). A listed path is relative to the folder and
must stay inside it: no absolute path, no `..`, no link out. The folder is
only read.

Layout written:
  <data_dir>/folder-wav/<path in the folder>.wav   16 kHz wavs
  <data_dir>/folder-train.csv                      every recording, or the
  <data_dir>/folder-dev.csv                        rest and a held-out share

Unlike a published corpus, the folder changes: every run scans it again,
converts only recordings that are new or changed since their wav, and
rewrites the manifests.
"""

import csv
import os
import random

from absl import logging

from data import text_normalization
from data.downloading import common
from data.downloading import convert as convert_lib
from data.downloading import steps

AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".aif",
                    ".aiff", ".au", ".sph")
TRANSCRIPT_EXTENSIONS = (".txt", ".lab")
SPLIT_BY = ("speaker", "file")
_HEADER_NAMES = ("path", "file", "wav_filename", "audio")


class TranscriptListError(common.DownloadError):
  """A --folder_transcripts list is malformed or names a file it may not."""


def _dialect(path, first_line):
  return "\t" if path.endswith(".tsv") or "\t" in first_line else ","


def check_relative_path(name, folder, path, line):
  """The recording `name` (relative to `folder`) listed at `path`:`line`.

  Raises:
    common.UnsafeNameError: an absolute name, `..`, a control character, or
      a name whose real path leaves `folder` (a link out).
  """
  parts = name.replace("\\", "/").split("/")
  if (not name or os.path.isabs(name) or name.startswith(("/", "\\")) or
      ".." in parts or any(ord(c) < 32 or c == "\x7f" for c in name) or
      not common.inside(os.path.join(folder, name), folder)):
    raise common.UnsafeNameError(
        "%s line %d names %r, which is not a path inside %s (absolute, '..', "
        "a link out or control characters); refusing to read it." % (
            path, line, name, folder))
  return os.path.normpath(name)


def read_transcript_list(path, folder):
  """The (relative path, text) rows of a --folder_transcripts file."""
  with open(path, encoding="utf-8-sig", newline="") as f:
    first = f.readline()
    f.seek(0)
    reader = csv.reader(f, delimiter=_dialect(path, first))
    rows = []
    try:
      for fields in reader:
        number = reader.line_num
        if not any(field.strip() for field in fields):
          continue
        if len(fields) != 2:
          raise TranscriptListError(
              "%s line %d has %d columns; expected path and text." % (
                  path, number, len(fields)))
        if number == 1 and fields[0].strip().lower() in _HEADER_NAMES:
          continue
        rows.append((check_relative_path(fields[0].strip(), folder, path,
                                         number), fields[1]))
    except csv.Error as e:
      raise TranscriptListError("%s line %d: %s." % (
          path, reader.line_num, e)) from None
  return rows


def _read_text(path):
  with open(path, encoding="utf-8-sig", errors="replace") as f:
    return f.read()


def scan_folder(folder):
  """(relative path, text) of each recording with a transcript beside it.

  Returns:
    (rows, untranscribed): recordings without a `.txt`/`.lab` are listed in
    the second list, not imported.
  """
  rows, untranscribed = [], []
  for directory, dirs, files in os.walk(folder):
    dirs.sort()
    for name in sorted(files):
      stem, extension = os.path.splitext(name)
      if extension.lower() not in AUDIO_EXTENSIONS:
        continue
      relative = os.path.relpath(os.path.join(directory, name), folder)
      texts = [os.path.join(directory, stem + e) for e in
               TRANSCRIPT_EXTENSIONS if stem + e in files]
      if texts:
        rows.append((relative, _read_text(texts[0])))
      else:
        untranscribed.append(relative)
  return rows, untranscribed


def split_dev(relatives, dev_fraction, split_by, seed):
  """(train, dev) lists of recordings; dev is `dev_fraction` of the groups.

  A group is a speaker (the first folder below the folder; recordings at the
  top are each their own) or, with `split_by="file"`, one recording. Groups
  are shuffled with `seed`, so the split is the same on every run.
  """
  if not dev_fraction:
    return list(relatives), []
  def group(relative):
    parts = relative.split(os.sep)
    return parts[0] if split_by == "speaker" and len(parts) > 1 else relative
  groups = sorted({group(r) for r in relatives})
  if len(groups) < 2:
    raise common.DownloadError(
        "cannot hold out a dev share of %d %s; split by file instead." % (
            len(groups), "speaker folder" if split_by == "speaker" else
            "recording"))
  random.Random(seed).shuffle(groups)
  num_dev = min(len(groups) - 1,
                max(1, int(round(len(groups) * dev_fraction))))
  dev_groups = set(groups[:num_dev])
  return ([r for r in relatives if group(r) not in dev_groups],
          [r for r in relatives if group(r) in dev_groups])


def _stale(source, wav):
  """Whether a wav from an earlier run predates its recording's change."""
  return os.path.exists(wav) and (os.path.getmtime(source) >
                                  os.path.getmtime(wav))


def _usable(listed, folder, data_dir, vocabulary, text_policy):
  """({relative: transcript}, {relative: wav}) of the listed recordings that
  exist and whose transcript the vocabulary spells; the rest is counted."""
  normalizer = common.TranscriptNormalizer(vocabulary, text_policy)
  text_of, wav_of, source_of, missing = {}, {}, {}, []
  for relative, text in listed:
    source = os.path.join(folder, relative)
    if not os.path.isfile(source):
      missing.append(relative)
      continue
    wav = os.path.join(data_dir, "folder-wav",
                       os.path.splitext(relative)[0] + ".wav")
    if source_of.setdefault(wav, relative) != relative:
      raise common.DownloadError(
          "%s and %s would both become %s; rename one." % (
              source_of[wav], relative, wav))
    text = normalizer(text)
    if text is not None:
      text_of[relative], wav_of[relative] = text, wav
  common.report_rows(folder, len(text_of), normalizer, missing)
  if not text_of:
    raise common.DownloadError("%s: no recording with a usable transcript."
                               % folder)
  return text_of, wav_of


def prepare_folder(data_dir, folder, transcripts, vocabulary, dev_fraction,
                   split_by, seed, config,
                   text_policy=text_normalization.DEFAULT):
  """Makes folder-train.csv (and folder-dev.csv) from a folder of audio.

  Args:
    data_dir: where the wavs and manifests go.
    folder: the recordings (only read).
    transcripts: a CSV/TSV list of `path,text`, or None for `.txt`/`.lab`
      files beside the recordings.
    vocabulary: set of characters transcripts may hold (with the space).
    dev_fraction: share of speakers (or files) held out for dev; 0: none.
    split_by: "speaker" or "file".
    seed: seeds the split.
    config: a `steps.DownloadConfig`.

  Returns:
    The manifest paths written.
  """
  if not os.path.isdir(folder):
    raise common.DownloadError("--folder_dir %s is not a folder." % folder)
  if split_by not in SPLIT_BY:
    raise common.DownloadError("split_by must be one of %s, got %r." % (
        ", ".join(SPLIT_BY), split_by))
  convert_lib.require_sox()
  untranscribed = []
  if transcripts:
    listed = read_transcript_list(transcripts, folder)
  else:
    listed, untranscribed = scan_folder(folder)
  if untranscribed:
    logging.warning("%s: %d recordings have no .txt or .lab transcript "
                    "beside them and are left out: %s%s.", folder,
                    len(untranscribed), ", ".join(untranscribed[:5]),
                    ", ..." if len(untranscribed) > 5 else "")
  text_of, wav_of = _usable(listed, folder, data_dir, vocabulary,
                            text_policy)
  for relative, wav in wav_of.items():
    if _stale(os.path.join(folder, relative), wav):
      os.remove(wav)
  steps.convert([(os.path.join(folder, r), w) for r, w in wav_of.items()],
                os.path.basename(os.path.normpath(folder)), config)
  splits = split_dev(list(text_of), dev_fraction, split_by, seed)
  manifests = []
  for name, relatives in zip(("train", "dev"), splits):
    manifest = os.path.join(data_dir, "folder-%s.csv" % name)
    if name == "dev" and not dev_fraction:
      continue
    steps.write_manifest(manifest, [(wav_of[r], text_of[r])
                                    for r in relatives])
    manifests.append(manifest)
    logging.info("%s: wrote %s (%d recordings).", folder, manifest,
                 len(relatives))
  return manifests

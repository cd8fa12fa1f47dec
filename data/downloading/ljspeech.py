"""LJSpeech: its layout, its metadata and its train/dev split.

Layout:
  <data_dir>/LJSpeech-1.1/wavs/<id>.wav        22,050 Hz originals
  <data_dir>/LJSpeech-1.1/wav16k/<id>.wav      16 kHz wavs
  <data_dir>/LJSpeech-1.1/ljspeech-train.csv   90% of the clips
  <data_dir>/LJSpeech-1.1/ljspeech-dev.csv     10% of the clips
"""

import collections
import hashlib
import os
import unicodedata

from absl import logging

from data import vocabulary as vocabulary_lib
from data.downloading import common
from data.downloading import convert as convert_lib
from data.downloading import fetch
from data.downloading import steps

ARCHIVE = "LJSpeech-1.1.tar.bz2"
DIRECTORY = "LJSpeech-1.1"
DEV_FRACTION = 0.1


class MetadataError(common.DownloadError):
  """LJSpeech's metadata.csv is malformed."""


def root(data_dir):
  """`<data_dir>/LJSpeech-1.1`, the folder the archive creates."""
  return os.path.join(data_dir, DIRECTORY)


def manifest_paths(data_dir):
  """(train manifest, dev manifest) under `root(data_dir)`."""
  return (os.path.join(root(data_dir), "ljspeech-train.csv"),
          os.path.join(root(data_dir), "ljspeech-dev.csv"))


def original_wav(data_dir, clip_id):
  """The 22,050 Hz wav of a clip as the archive ships it."""
  return os.path.join(root(data_dir), "wavs", clip_id + ".wav")


def converted_wav(data_dir, clip_id):
  """Where the clip's 16 kHz wav goes."""
  return os.path.join(root(data_dir), "wav16k", clip_id + ".wav")


def normalize_to_vocabulary(text, vocabulary, dropped):
  """Lower-cases `text` and reduces it to the characters of `vocabulary`.

  Accents are removed (NFKD, then combining marks deleted: "café" becomes
  "cafe"); any other character outside the vocabulary becomes a space, so
  "well-known" reads "well known" rather than "wellknown"; whitespace runs
  collapse.

  Args:
    text: a transcript.
    vocabulary: set of allowed characters (must include the space).
    dropped: a `collections.Counter` updated with every removed character.

  Returns:
    The cleaned transcript, possibly empty.
  """
  kept = []
  for char in unicodedata.normalize("NFKD", text.lower()):
    if char in vocabulary:
      kept.append(char)
    elif char.isspace():
      kept.append(" ")
    else:
      dropped[char] += 1
      if not unicodedata.combining(char):
        kept.append(" ")
  return " ".join("".join(kept).split())


def read_ljspeech_metadata(path, vocabulary):
  """Reads LJSpeech's `metadata.csv`: `id|transcription|normalized`.

  The file is pipe-separated with no quoting (transcripts contain quote
  characters), so it is split by hand rather than with a CSV dialect.

  Args:
    path: the metadata.csv file.
    vocabulary: set of allowed characters, see `normalize_to_vocabulary`.

  Returns:
    (utterances, dropped, empty): a list of (id, transcript) from the
    normalized column, a Counter of removed characters, and the ids whose
    transcript was empty after cleaning (left out of the list).

  Raises:
    MetadataError: on a line without three fields.
    common.UnsafeNameError: a clip id that is not a plain file name (it
      becomes `<id>.wav` in the wav folders).
  """
  utterances, empty = [], []
  dropped = collections.Counter()
  with open(path, encoding="utf-8") as f:
    for number, line in enumerate(f, 1):
      line = line.rstrip("\r\n")
      if not line:
        continue
      fields = line.split("|")
      if len(fields) != 3:
        raise MetadataError("%s line %d has %d '|'-separated fields, not 3."
                              % (path, number, len(fields)))
      common.check_plain_name(fields[0], ARCHIVE, path, number)
      transcript = normalize_to_vocabulary(fields[2], vocabulary, dropped)
      if transcript:
        utterances.append((fields[0], transcript))
      else:
        empty.append(fields[0])
  return utterances, dropped, empty


def split_train_dev(ids, dev_fraction=DEV_FRACTION):
  """A deterministic train/dev split of utterance ids.

  Ids are ranked by the md5 of the id and the first `round(n * dev_fraction)`
  go to dev: the result depends neither on the file's order nor on Python's
  random generator, and is the same on every machine.

  Returns:
    (train ids, dev ids), each sorted.
  """
  ranked = sorted(ids, key=lambda i: hashlib.md5(i.encode("utf-8")).digest())
  num_dev = int(round(len(ranked) * dev_fraction))
  return sorted(ranked[num_dev:]), sorted(ranked[:num_dev])


def report_cleaning(dropped, empty):
  """Logs what cleaning removed: characters (with counts) and empty clips.

  Args:
    dropped: the Counter of `read_ljspeech_metadata`.
    empty: the ids it left out.
  """
  if dropped:
    listing = ", ".join("%r x%d" % item for item in dropped.most_common())
    logging.info("LJSpeech: characters outside the vocabulary removed from "
                 "the transcripts (count): %s.", listing)
  if empty:
    logging.warning("LJSpeech: %d clips left out, their transcript was empty "
                    "after cleaning: %s.", len(empty), ", ".join(empty))


def prepare_ljspeech(data_dir, config):
  """Makes the LJSpeech train/dev manifests and 16 kHz wavs.

  Args:
    data_dir: the folder `root(data_dir)` is created in.
    config: a `steps.DownloadConfig`.

  Returns:
    (train manifest path, dev manifest path).
  """
  manifests = manifest_paths(data_dir)
  if all(convert_lib.manifest_is_complete(m) for m in manifests):
    logging.info("LJSpeech: manifests are complete, skipped.")
    return manifests
  fetch.expected_checksum(ARCHIVE, config.checksums, config.skip_checksum)
  convert_lib.require_sox()
  steps.ensure_extracted(ARCHIVE, data_dir, root(data_dir), config)
  utterances, dropped, empty = read_ljspeech_metadata(
      os.path.join(root(data_dir), "metadata.csv"),
      vocabulary_lib.characters(vocabulary_lib.VOCABULARY_FILE))
  report_cleaning(dropped, empty)
  steps.convert([(original_wav(data_dir, utt), converted_wav(data_dir, utt))
                 for utt, _ in utterances], "LJSpeech", config)
  text_of = dict(utterances)
  splits = split_train_dev(list(text_of))
  for manifest, ids in zip(manifests, splits):
    steps.write_manifest(manifest, [(converted_wav(data_dir, i), text_of[i])
                                    for i in ids])
  logging.info("LJSpeech: wrote %s (%d clips) and %s (%d clips).",
               manifests[0], len(splits[0]), manifests[1], len(splits[1]))
  return manifests

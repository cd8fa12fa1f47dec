"""LibriSpeech: its subsets, its layout and its transcripts.

Layout, identical to the original script:
  <data_dir>/<subset>/LibriSpeech/<subset>/<spk>/<chap>/...  extracted FLAC
  <data_dir>/<subset>/LibriSpeech/<subset>-wav/<id>.wav      16 kHz wavs
  <data_dir>/<subset>/LibriSpeech/<subset>.csv               manifest
"""

import os
import re
import time
import unicodedata

from absl import logging

from data.downloading import common
from data.downloading import convert as convert_lib
from data.downloading import fetch
from data.downloading import steps

SUBSETS = (
    "train-clean-100", "train-clean-360", "train-other-500",
    "dev-clean", "dev-other",
    "test-clean", "test-other",
)
TRAIN_SUBSETS = SUBSETS[:3]
DEV_SUBSETS = SUBSETS[3:5]
TEST_SUBSETS = SUBSETS[5:]

# A subset name becomes a file and folder name: no separators, no "..".
_SUBSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class UnknownSubsetError(common.DownloadError):
  """A subset name that is not one of the seven official ones."""


class TranscriptError(common.DownloadError):
  """A transcript file is missing or malformed."""


def select_subsets(subsets=None, train_only=False, dev_only=False,
                   test_only=False, allow_other=False):
  """The LibriSpeech subsets to prepare, in the original's order.

  Args:
    subsets: explicit list of names; overrides the booleans.
    train_only, dev_only, test_only: the original's switches, checked in that
      order; with none set, all seven subsets.
    allow_other: accept names other than the seven official ones (archives
      in LibriSpeech's layout on a mirror of one's own, such as the
      synthesized `sample-train`/`sample-dev` of data/sample_corpus.py).

  Returns:
    A list of subset names: official ones in the original's order, then the
    others in the order given.

  Raises:
    UnknownSubsetError: an unknown name while `allow_other` is False.
    common.DownloadError: a name unsafe as a file name.
  """
  if subsets:
    unknown = [s for s in subsets if s not in SUBSETS]
    if unknown and not allow_other:
      raise UnknownSubsetError(
          "unknown LibriSpeech subset %s; choose from %s (other names only "
          "from a mirror of one's own)." % (
              ", ".join(repr(s) for s in unknown), ", ".join(SUBSETS)))
    unsafe = [s for s in unknown if not _SUBSET_NAME.match(s)]
    if unsafe:
      raise common.DownloadError(
          "subset names may hold only letters, digits, '.', '_' and '-': %s"
          % ", ".join(repr(s) for s in unsafe))
    return ([s for s in SUBSETS if s in subsets] +
            [s for s in dict.fromkeys(unknown)])
  if train_only:
    return list(TRAIN_SUBSETS)
  if dev_only:
    return list(DEV_SUBSETS)
  if test_only:
    return list(TEST_SUBSETS)
  return list(SUBSETS)


def archive_name(subset):
  """The subset's archive on the mirror, e.g. `dev-clean.tar.gz`."""
  return subset + ".tar.gz"


def subset_root(data_dir, subset):
  """`<data_dir>/<subset>/LibriSpeech`, the folder the archive creates."""
  return os.path.join(data_dir, subset, "LibriSpeech")


def manifest_path(data_dir, subset):
  """`<data_dir>/<subset>/LibriSpeech/<subset>.csv`, as in the original."""
  return os.path.join(subset_root(data_dir, subset), subset + ".csv")


def normalize_librispeech_transcript(text):
  """The original's transcript cleaning: NFKD, ASCII only, stripped, lower.

  Runs of whitespace also collapse to one space. LibriSpeech transcripts have
  single spaces already; the point is that a stray tab can never split a
  manifest row.
  """
  text = unicodedata.normalize("NFKD", text)
  text = text.encode("ascii", "ignore").decode("ascii")
  return " ".join(text.split()).lower()


def read_librispeech_transcripts(subset_dir, archive):
  """Lists the utterances of an extracted LibriSpeech subset.

  Args:
    subset_dir: `.../LibriSpeech/<subset>`, holding `<spk>/<chap>/` folders
      with `<spk>-<chap>.trans.txt` and `<spk>-<chap>-<utt>.flac` files.
    archive: the archive they came from, named in errors.

  Returns:
    A list of (utterance id, flac path, normalized transcript), in sorted
    folder order so manifests are identical from run to run.

  Raises:
    TranscriptError: no transcript files, a malformed line, or an utterance
      id listed twice.
    common.UnsafeNameError: an utterance id that is not a plain file name
      (it becomes `<id>.wav` in the wav folder).
  """
  utterances = []
  seen = set()
  for directory, dirs, files in os.walk(subset_dir):
    dirs.sort()
    for name in sorted(files):
      if not name.endswith(".trans.txt"):
        continue
      path = os.path.join(directory, name)
      with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
          if not line.strip():
            continue
          parts = line.strip().split(" ", 1)
          if len(parts) != 2:
            raise TranscriptError("%s line %d is not '<utterance-id> <text>'."
                                  % (path, number))
          utterance_id, text = parts
          common.check_plain_name(utterance_id, archive, path, number)
          if utterance_id in seen:
            raise TranscriptError("utterance %s is listed twice (again in %s)."
                                  % (utterance_id, path))
          seen.add(utterance_id)
          utterances.append((utterance_id,
                             os.path.join(directory, utterance_id + ".flac"),
                             normalize_librispeech_transcript(text)))
  if not utterances:
    raise TranscriptError("no *.trans.txt transcripts under %s; is this an "
                          "extracted LibriSpeech subset?" % subset_dir)
  return utterances


# ---------------------------------------------------------------------------
# The steps in order, per subset.
# ---------------------------------------------------------------------------


def prepare_librispeech_subset(data_dir, subset, config):
  """Makes `<subset>.csv` and its wavs, doing only the missing steps.

  Args:
    data_dir: the folder holding every subset.
    subset: a name from `select_subsets`.
    config: a `steps.DownloadConfig`.

  Returns:
    The manifest path.
  """
  start = time.monotonic()
  manifest = manifest_path(data_dir, subset)
  if convert_lib.manifest_is_complete(manifest):
    logging.info("%s: manifest %s is complete, skipped (%.2f s).", subset,
                 manifest, time.monotonic() - start)
    return manifest
  root = subset_root(data_dir, subset)
  steps.ensure_extracted(archive_name(subset),
                         os.path.join(data_dir, subset),
                         os.path.join(root, subset), config)
  utterances = read_librispeech_transcripts(os.path.join(root, subset),
                                            archive_name(subset))
  wav_dir = os.path.join(root, subset + "-wav")
  wavs = [os.path.join(wav_dir, utt + ".wav") for utt, _, _ in utterances]
  steps.convert([(flac, wav) for (_, flac, _), wav in zip(utterances, wavs)],
                subset, config)
  steps.write_manifest(manifest, [
      (wav, text) for wav, (_, _, text) in zip(wavs, utterances)])
  logging.info("%s: wrote %s (%d utterances).", subset, manifest,
               len(utterances))
  return manifest


def prepare_librispeech(data_dir, subsets, config):
  """Prepares each subset in turn; returns the manifest paths."""
  pending = [s for s in subsets if not convert_lib.manifest_is_complete(
      manifest_path(data_dir, s))]
  # Check what a later step needs before the first download starts: a
  # missing checksum or sox should stop the run now, not hours from now.
  for subset in pending:
    fetch.expected_checksum(archive_name(subset), config.checksums,
                            config.skip_checksum)
  if pending:
    convert_lib.require_sox()
  return [prepare_librispeech_subset(data_dir, s, config) for s in subsets]

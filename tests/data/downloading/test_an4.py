"""Tests for data/downloading/an4.py on a look-alike AN4.

The recordings are real headerless big-endian 16-bit samples; sox reads them
with its raw input options, so the wavs must hold exactly those samples.
"""

import logging
import os

import numpy as np
import pytest
import soundfile

from data import vocabulary as vocabulary_lib
from data.downloading import an4
from data.downloading import common
from data.downloading import steps
from tests.data.downloading import fakes
from tests.helpers import corpus_trees

ENGLISH = vocabulary_lib.characters(vocabulary_lib.VOCABULARY_FILE)
ARCHIVE = "an4_raw.bigendian.tar.gz"


def _config(checksums=None):
  return steps.DownloadConfig(
      base_url=None, checksums=checksums or {}, skip_checksum=not checksums,
      keep_archives=False, num_workers=2, show_progress=False)


@pytest.mark.slow
def test_archive_from_the_mirror_becomes_the_same_samples_as_wav(mirror,
                                                                 tmp_path):
  samples = corpus_trees.make_an4(tmp_path / "src" / "an4")
  corpus_trees.tar_gz(tmp_path / "src" / "an4",
                      os.path.join(mirror.root, ARCHIVE), "an4")
  config = _config({ARCHIVE: fakes.md5(os.path.join(mirror.root, ARCHIVE))})
  data_dir = str(tmp_path / "data")
  manifests = an4.prepare_an4(data_dir, mirror.url + "/" + ARCHIVE, None,
                              ENGLISH, config)
  assert manifests == tuple(os.path.join(data_dir, "an4", "an4-%s.csv" % s)
                            for s in ("train", "test"))
  train, test = (fakes.read_manifest(m)[1] for m in manifests)
  assert [(os.path.basename(w), t) for w, _, t in train] == [
      ("an251-fash-b.wav", "yes"), ("an253-fash-b.wav", "go"),
      ("an76-fbbh-b.wav", "enter six two")]
  assert [(os.path.basename(w), t) for w, _, t in test] == [
      ("an406-fcaw-b.wav", "rubout t g")]
  for wav, size, _ in train + test:
    assert wav.startswith(os.path.join(data_dir, "an4") + os.sep)
    assert int(size) == os.path.getsize(wav)
    audio, rate = soundfile.read(wav, dtype="int16")
    assert rate == 16000
    np.testing.assert_array_equal(
        audio, samples[os.path.basename(wav)[:-len(".wav")]])
  requests = len(mirror.requests)
  assert an4.prepare_an4(data_dir, mirror.url + "/" + ARCHIVE, None,
                         ENGLISH, config) == manifests
  assert len(mirror.requests) == requests


@pytest.mark.parametrize("case", ["climb", "absolute"])
def test_a_file_id_that_is_a_path_is_refused_naming_file_and_line(tmp_path,
                                                                   case):
  fileid = "../../../x" if case == "climb" else str(tmp_path / "x")
  corpus_trees.write_big_endian_raw(tmp_path / "x.raw", 0.2)
  root = tmp_path / "an4"
  corpus_trees.make_an4(root, extra_lines={"test": ["<s> NO </s> (%s)"
                                                    % fileid]})
  data_dir = tmp_path / "data"
  with pytest.raises(common.UnsafeNameError) as e:
    an4.prepare_an4(str(data_dir), None, str(tmp_path), ENGLISH, _config())
  assert str(e.value).startswith(
      "%s: %s line 2 names %r, which is not a plain file name" % (
          tmp_path, root / "etc" / "an4_test.transcription", fileid))
  assert not data_dir.exists()


def test_a_missing_recording_is_counted_and_named(tmp_path, caplog):
  corpus_trees.make_an4(tmp_path / "an4", skip=("an253-fash-b",))
  caplog.set_level(logging.INFO)
  # Another module in this process may have lowered absl's verbosity.
  caplog.set_level(logging.INFO, logger="absl")
  train, _ = an4.prepare_an4(str(tmp_path / "data"), None, str(tmp_path),
                             ENGLISH, _config())
  assert [t for _, _, t in fakes.read_manifest(train)[1]] == [
      "yes", "enter six two"]
  assert ("AN4 train: 2 rows kept; skipped: 1 missing audio file "
          "(an253-fash-b.raw)." in caplog.messages)


def test_a_line_without_a_file_id_is_refused_naming_file_and_line(tmp_path):
  root = tmp_path / "an4"
  corpus_trees.make_an4(root, extra_lines={"train": ["<s> HELLO </s>"]})
  with pytest.raises(an4.TranscriptionError) as e:
    an4.prepare_an4(str(tmp_path / "data"), None, str(root), ENGLISH,
                    _config())
  assert str(e.value) == ("%s line 4 is not '<s> TEXT </s> (fileid)'."
                          % (root / "etc" / "an4_train.transcription"))

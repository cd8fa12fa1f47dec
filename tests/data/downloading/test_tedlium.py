"""Tests for data/downloading/tedlium.py on a look-alike TED-LIUM 3.

The talks are real NIST SPHERE files written by sox and cut by sox; the
segments are STM lines in the corpus's format.
"""

import logging
import os
import shutil

import pytest
import soundfile

from data import vocabulary as vocabulary_lib
from data.downloading import common
from data.downloading import steps
from data.downloading import tedlium
from tests.data.downloading import fakes
from tests.helpers import corpus_trees

ENGLISH = vocabulary_lib.characters(vocabulary_lib.VOCABULARY_FILE)
CONFIG = steps.DownloadConfig(base_url=None, checksums={}, skip_checksum=True,
                              keep_archives=False, num_workers=2,
                              show_progress=False)


def test_transcript_tokens_are_kept_joined_or_dropped_as_documented():
  assert tedlium.clean_transcript("i 'm {NOISE} here <sil> [laughter]") == (
      "i'm here", None)
  assert tedlium.clean_transcript(" ignore_time_segment_in_scoring ") == (
      None, "ignored (ignore_time_segment_in_scoring)")
  assert tedlium.clean_transcript("an <unk> word") == (None,
                                                      "with an <unk> word")


@pytest.mark.slow
def test_archive_is_cut_into_the_legacy_splits(tmp_path, caplog):
  tree = corpus_trees.make_tedlium(tmp_path / "src" / "TEDLIUM_release-3")
  archive = corpus_trees.tar_gz(tree, tmp_path / "TEDLIUM_release-3.tgz",
                                "TEDLIUM_release-3")
  data_dir = str(tmp_path / "data")
  caplog.set_level(logging.INFO)
  # Another module in this process may have lowered absl's verbosity.
  caplog.set_level(logging.INFO, logger="absl")
  manifests = tedlium.prepare_tedlium(data_dir, str(archive), None, ENGLISH,
                                      CONFIG)
  assert manifests == [os.path.join(data_dir, "tedlium", "tedlium-%s.csv" % s)
                       for s in ("train", "dev", "test")]
  expected = {
      "train": [("AlicePeak_2010-0000000-0000100.wav", 16000, "i'm here today"),
                ("AlicePeak_2010-0000250-0000325.wav", 12000,
                 "we can't stop")],
      "dev": [("BobRiver_2011-0000050-0000175.wav", 20000, "thank you")],
      "test": [("CaraStone_2012-0000025-0000100.wav", 12000, "so there")],
  }
  for split, manifest in zip(("train", "dev", "test"), manifests):
    rows = fakes.read_manifest(manifest)[1]
    assert [(os.path.basename(w), soundfile.info(w).frames, t)
            for w, _, t in rows] == expected[split]
    for wav, size, _ in rows:
      assert wav.startswith(os.path.join(data_dir, "tedlium",
                                         split + "-wav") + os.sep)
      assert int(size) == os.path.getsize(wav)
      assert soundfile.info(wav).samplerate == 16000
  assert ("TED-LIUM train: 2 rows kept; skipped: 1 ignored "
          "(ignore_time_segment_in_scoring); 1 with an <unk> word."
          in caplog.messages)
  # Only legacy/ was read: the speaker-adaptation copy made no wavs.
  assert sorted(os.listdir(os.path.join(data_dir, "tedlium"))) == [
      "dev-wav", "extracted", "tedlium-dev.csv", "tedlium-test.csv",
      "tedlium-train.csv", "test-wav", "train-wav"]
  # The user's archive is only read, and a re-run is skipped.
  assert archive.exists()
  archive.unlink()
  assert tedlium.prepare_tedlium(data_dir, str(archive), None, ENGLISH,
                                 CONFIG) == manifests
  assert "TED-LIUM: manifests are complete, skipped." in caplog.messages


@pytest.mark.parametrize("case", ["climb", "absolute"])
def test_a_talk_outside_sph_is_refused_naming_file_and_line(tmp_path, case):
  outside = tmp_path / "x.sph"
  corpus_trees.write_sph(outside, 2)
  talk = "../../../x" if case == "climb" else str(tmp_path / "x")
  tree = corpus_trees.make_tedlium(tmp_path / "TEDLIUM_release-3", extra_stm={
      "dev": "%s 1 x 0.00 1.00 <o,f0,male> hello" % talk})
  data_dir = tmp_path / "data"
  with pytest.raises(common.UnsafeNameError) as e:
    tedlium.prepare_tedlium(str(data_dir), None, str(tree), ENGLISH, CONFIG)
  stm = tree / "legacy" / "dev" / "stm" / "BobRiver_2011.stm"
  assert str(e.value).startswith("%s: %s line 2 names %r, which is not a "
                                 "plain file name" % (tree, stm, talk))
  assert not os.path.exists(str(data_dir / "tedlium" / "dev-wav"))
  assert not list(data_dir.glob("tedlium/*.csv"))


def test_a_missing_talk_is_counted_and_named(tmp_path, caplog):
  tree = corpus_trees.make_tedlium(tmp_path / "TEDLIUM_release-3")
  shutil.rmtree(tree / "speaker-adaptation")
  os.remove(tree / "legacy" / "test" / "sph" / "CaraStone_2012.sph")
  caplog.set_level(logging.INFO)
  # Another module in this process may have lowered absl's verbosity.
  caplog.set_level(logging.INFO, logger="absl")
  manifests = tedlium.prepare_tedlium(str(tmp_path / "data"), None,
                                      str(tree / "legacy"), ENGLISH, CONFIG)
  assert fakes.read_manifest(manifests[2])[1] == []
  assert ("TED-LIUM test: 0 rows kept; skipped: 1 missing audio file "
          "(CaraStone_2012.sph); 1 segments of a missing talk."
          in caplog.messages)


@pytest.mark.parametrize("line,message", [
    ("BobRiver_2011 1 x 1.0", "is not '<talk> <channel> <speaker>"),
    ("BobRiver_2011 1 x a b <o> hi", "start 'a' and end 'b' must be seconds"),
    ("BobRiver_2011 1 x 2.0 1.0 <o> hi", "is empty or negative")])
def test_a_malformed_stm_line_is_refused_naming_file_and_line(
    tmp_path, line, message):
  tree = corpus_trees.make_tedlium(tmp_path / "T", extra_stm={"dev": line})
  with pytest.raises(tedlium.StmError) as e:
    tedlium.prepare_tedlium(str(tmp_path / "data"), None, str(tree), ENGLISH,
                            CONFIG)
  stm = tree / "legacy" / "dev" / "stm" / "BobRiver_2011.stm"
  assert str(e.value).startswith("%s line 2" % stm)
  assert message in str(e.value)

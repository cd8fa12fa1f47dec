"""Tests for data/downloading/folder.py: a folder of one's own recordings."""

import logging
import os

import pytest
import soundfile

from data import vocabulary as vocabulary_lib
from data.downloading import common
from data.downloading import folder
from data.downloading import steps
from tests.data.downloading import fakes
from tests.helpers import corpus_trees

ENGLISH = vocabulary_lib.characters(vocabulary_lib.VOCABULARY_FILE)
CONFIG = steps.DownloadConfig(base_url=None, checksums={}, skip_checksum=True,
                              keep_archives=False, num_workers=2,
                              show_progress=False)


def _recordings(root):
  """Three speakers: wav + .txt, flac + .lab, mp3 + .txt, one untranscribed."""
  for speaker in ("ann", "bob", "cid"):
    (root / speaker).mkdir(parents=True)
  soundfile.write(str(root / "ann" / "one.wav"), fakes.tone(0.3, 44100),
                  44100)
  (root / "ann" / "one.txt").write_text("Hello there.\n")
  soundfile.write(str(root / "bob" / "two.flac"), fakes.tone(0.4, 22050),
                  22050, format="FLAC")
  (root / "bob" / "two.lab").write_text("good night")
  corpus_trees.write_mp3(root / "cid" / "three.mp3")
  (root / "cid" / "three.txt").write_text("See you!")
  soundfile.write(str(root / "cid" / "mute.wav"), fakes.tone(0.2, 16000),
                  16000)
  return root


def _prepare(tmp_path, root, transcripts=None, dev_fraction=0.0,
             split_by="speaker", seed=0):
  return folder.prepare_folder(str(tmp_path / "data"), str(root),
                               transcripts and str(transcripts), ENGLISH,
                               dev_fraction, split_by, seed, CONFIG)


def test_transcripts_beside_the_recordings(tmp_path, caplog):
  root = _recordings(tmp_path / "mine")
  caplog.set_level(logging.INFO)
  # Another module in this process may have lowered absl's verbosity.
  caplog.set_level(logging.INFO, logger="absl")
  (train,) = _prepare(tmp_path, root)
  wav_dir = str(tmp_path / "data" / "folder-wav")
  rows = fakes.read_manifest(train)[1]
  assert [(w, t) for w, _, t in rows] == [
      (os.path.join(wav_dir, "ann", "one.wav"), "hello there"),
      (os.path.join(wav_dir, "bob", "two.wav"), "good night"),
      (os.path.join(wav_dir, "cid", "three.wav"), "see you")]
  for wav, size, _ in rows:
    info = soundfile.info(wav)
    assert (info.samplerate, info.channels, int(size)) == (
        16000, 1, os.path.getsize(wav))
  assert any("1 recordings have no .txt or .lab transcript beside them and "
             "are left out: %s." % os.path.join("cid", "mute.wav") in m
             for m in caplog.messages)
  assert not os.path.exists(str(tmp_path / "data" / "folder-dev.csv"))


def test_dev_split_holds_out_whole_speakers_the_same_way_each_run(tmp_path):
  root = _recordings(tmp_path / "mine")
  train, dev = _prepare(tmp_path, root, dev_fraction=0.34)
  speakers = [{os.path.basename(os.path.dirname(w))
               for w, _, _ in fakes.read_manifest(m)[1]} for m in (train, dev)]
  assert len(speakers[1]) == 1 and len(speakers[0]) == 2
  assert not speakers[0] & speakers[1]
  before = [open(m).read() for m in (train, dev)]
  assert _prepare(tmp_path, root, dev_fraction=0.34) == [train, dev]
  assert [open(m).read() for m in (train, dev)] == before
  with pytest.raises(common.DownloadError, match="1 speaker folder"):
    _prepare(tmp_path, root / "ann", dev_fraction=0.5)


def test_a_changed_recording_is_converted_again(tmp_path):
  root = _recordings(tmp_path / "mine")
  (train,) = _prepare(tmp_path, root)
  wav = fakes.read_manifest(train)[1][0][0]
  assert soundfile.info(wav).frames == 4800
  soundfile.write(str(root / "ann" / "one.wav"), fakes.tone(0.5, 44100),
                  44100)
  os.utime(root / "ann" / "one.wav", (2e9, 2e9))
  _prepare(tmp_path, root)
  assert soundfile.info(wav).frames == 8000


@pytest.mark.parametrize("suffix,delimiter", [(".csv", ","), (".tsv", "\t")])
def test_a_transcript_list(tmp_path, suffix, delimiter, caplog):
  root = _recordings(tmp_path / "mine")
  listing = tmp_path / ("list" + suffix)
  listing.write_text(delimiter.join(["path", "text"]) + "\n" + "\n".join(
      delimiter.join(row) for row in [
          ("cid/mute.wav", "quiet"), ("ann/one.wav", "first one"),
          ("gone.wav", "missing")]) + "\n")
  caplog.set_level(logging.INFO)
  # Another module in this process may have lowered absl's verbosity.
  caplog.set_level(logging.INFO, logger="absl")
  (train,) = _prepare(tmp_path, root, transcripts=listing)
  assert [(os.path.basename(w), t) for w, _, t in
          fakes.read_manifest(train)[1]] == [("mute.wav", "quiet"),
                                             ("one.wav", "first one")]
  assert ("%s: 2 rows kept; skipped: 1 missing audio file (gone.wav)."
          % root) in caplog.messages


@pytest.mark.parametrize("case", ["climb", "absolute", "link_out"])
def test_a_listed_path_outside_the_folder_is_refused(tmp_path, case):
  root = _recordings(tmp_path / "mine")
  outside = tmp_path / "secret.wav"
  soundfile.write(str(outside), fakes.tone(0.2, 16000), 16000)
  name = {"climb": "ann/../../secret.wav", "absolute": str(outside),
          "link_out": "ann/link.wav"}[case]
  (root / "ann" / "link.wav").symlink_to(outside)
  listing = tmp_path / "list.csv"
  listing.write_text("ann/one.wav,fine\n%s,stolen\n" % name)
  with pytest.raises(common.UnsafeNameError) as e:
    _prepare(tmp_path, root, transcripts=listing)
  assert str(e.value).startswith("%s line 2 names %r, which is not a path "
                                 "inside %s" % (listing, name, root))
  assert not (tmp_path / "data").exists()


def test_a_row_with_bad_columns_is_refused_naming_file_and_line(tmp_path):
  root = _recordings(tmp_path / "mine")
  listing = tmp_path / "list.csv"
  listing.write_text("ann/one.wav,fine\nbob/two.flac\n")
  with pytest.raises(folder.TranscriptListError) as e:
    _prepare(tmp_path, root, transcripts=listing)
  assert str(e.value) == ("%s line 2 has 1 columns; expected path and text."
                          % listing)

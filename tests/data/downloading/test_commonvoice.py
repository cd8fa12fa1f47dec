"""Tests for data/downloading/commonvoice.py on look-alike releases.

The releases are real: MP3 clips written by sox, TSV files with Common
Voice's header, a tar.gz served by the loopback mirror.
"""

import logging
import os

import pytest
import soundfile

from data import vocabulary as vocabulary_lib
from data.downloading import common
from data.downloading import commonvoice
from data.downloading import convert
from data.downloading import steps
from tests.data.downloading import fakes
from tests.helpers import corpus_trees

ENGLISH = vocabulary_lib.characters(vocabulary_lib.VOCABULARY_FILE)
ARCHIVE = "cv-corpus-1.0-en.tar.gz"


def _config(**kwargs):
  return steps.DownloadConfig(base_url=None, checksums=kwargs.pop(
      "checksums", {}), skip_checksum=kwargs.pop("skip_checksum", True),
                              keep_archives=False, num_workers=2,
                              show_progress=False)


def _release(tmp_path, **kwargs):
  return corpus_trees.make_commonvoice(tmp_path / "cv" / "cv-corpus-1.0" /
                                       "en", **kwargs)


@pytest.mark.slow
def test_release_archive_from_the_mirror_keeps_its_splits(mirror, tmp_path,
                                                          caplog):
  release = _release(tmp_path)
  corpus_trees.tar_gz(release.parent, os.path.join(mirror.root, ARCHIVE),
                      "cv-corpus-1.0")
  config = _config(checksums={ARCHIVE: fakes.md5(os.path.join(mirror.root,
                                                              ARCHIVE))},
                   skip_checksum=False)
  data_dir = str(tmp_path / "data")
  caplog.set_level(logging.INFO)
  # Another module in this process may have lowered absl's verbosity.
  caplog.set_level(logging.INFO, logger="absl")
  manifests = commonvoice.prepare_commonvoice(
      data_dir, mirror.url + "/" + ARCHIVE, None, ENGLISH, config)
  out = os.path.join(data_dir, "commonvoice", "en")
  assert manifests == [os.path.join(out, "commonvoice-%s.csv" % s)
                       for s in ("train", "dev", "test")]
  rows = {}
  for manifest in manifests:
    header, rows[manifest] = fakes.read_manifest(manifest)
    assert header == "wav_filename\twav_filesize\ttranscript"
  assert [(os.path.basename(w), t) for w, _, t in rows[manifests[0]]] == [
      ("common_voice_en_1.wav", "hello world"),
      ("common_voice_en_2.wav", "it's a well known cafe")]
  assert [t for _, _, t in rows[manifests[1]]] == ["good morning"]
  assert [t for _, _, t in rows[manifests[2]]] == ["see you soon"]
  for wav, size, _ in sum(rows.values(), []):
    assert os.path.isabs(wav) and wav.startswith(out + os.sep)
    assert int(size) == os.path.getsize(wav)
    info = soundfile.info(wav)
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1,
                                                              "PCM_16")
  assert ("Common Voice en train: 2 rows kept; skipped: 1 with characters "
          "outside the vocabulary ('6' x2).") in caplog.messages
  # The archive is gone; a re-run needs neither it nor the network.
  assert not os.path.exists(os.path.join(data_dir, "commonvoice",
                                         "extracted", ARCHIVE))
  before = [open(m).read() for m in manifests]
  requests = len(mirror.requests)
  assert commonvoice.prepare_commonvoice(
      data_dir, mirror.url + "/" + ARCHIVE, None, ENGLISH, config) == manifests
  assert len(mirror.requests) == requests
  assert [open(m).read() for m in manifests] == before


def test_any_alphabet_is_kept_when_the_vocabulary_has_it(tmp_path):
  german = set(" abcdefghijklmnopqrstuvwxyzäöüß'")
  release = _release(tmp_path, splits={"train": [
      ("a", "Straße, Öl und Bäume."), ("b", "Ein Café.")]})
  manifests = commonvoice.prepare_commonvoice(
      str(tmp_path / "data"), None, str(release), german, _config())
  assert [t for _, _, t in fakes.read_manifest(manifests[0])[1]] == [
      "straße öl und bäume", "ein cafe"]


def test_header_columns_may_come_and_go(tmp_path):
  release = _release(tmp_path, header=("path", "extra", "sentence"),
                     splits={"dev": [("x", "Yes.")]})
  (manifest,) = commonvoice.prepare_commonvoice(
      str(tmp_path / "data"), None, str(tmp_path / "cv"), ENGLISH, _config())
  assert manifest.endswith(os.path.join("en", "commonvoice-dev.csv"))
  assert fakes.read_manifest(manifest)[1][0][2] == "yes"
  assert os.path.isdir(release / "clips")


@pytest.mark.parametrize("case", ["climb", "absolute"])
def test_a_clip_outside_clips_is_refused_naming_file_and_line(tmp_path,
                                                               case):
  outside = tmp_path / "x.mp3"
  corpus_trees.write_mp3(outside)
  name = "../../../x.mp3" if case == "climb" else str(outside)
  # In the last split: the splits before it must not be converted either.
  release = _release(tmp_path, extra_lines={"test": [
      "c9\t%s\tHello there\t2\t0\t\t\t\ten\t" % name]})
  data_dir = tmp_path / "data"
  with pytest.raises(common.UnsafeNameError) as e:
    commonvoice.prepare_commonvoice(str(data_dir), None, str(release),
                                    ENGLISH, _config())
  assert str(e.value) == (
      "%s: %s line 3 names %r, which is not a plain file name (no "
      "separators, '..' or control characters); refusing to write outside "
      "its folder." % (release, release / "test.tsv", name))
  assert not data_dir.exists()


def test_a_missing_clip_is_counted_and_named(tmp_path, caplog):
  release = _release(tmp_path, skip_clips=("common_voice_en_1",))
  caplog.set_level(logging.INFO)
  # Another module in this process may have lowered absl's verbosity.
  caplog.set_level(logging.INFO, logger="absl")
  manifests = commonvoice.prepare_commonvoice(
      str(tmp_path / "data"), None, str(release), ENGLISH, _config())
  assert [t for _, _, t in fakes.read_manifest(manifests[0])[1]] == [
      "it's a well known cafe"]
  assert ("Common Voice en train: 1 rows kept; skipped: 1 with characters "
          "outside the vocabulary ('6' x2); 1 missing audio file "
          "(common_voice_en_1.mp3).") in caplog.messages
  assert all(convert.manifest_is_complete(m) for m in manifests)


@pytest.mark.parametrize("case,line,message", [
    ("extra_tab", 5, "has 11 tab-separated columns; the header has 10."),
    ("no_sentence", 1, "the header has no 'sentence' column"),
    ("not_utf8", 5, "is not UTF-8 text.")])
def test_a_malformed_tsv_is_refused_naming_file_and_line(tmp_path, case,
                                                          line, message):
  header, extra = corpus_trees.CV_HEADER, {}
  if case == "no_sentence":
    header = tuple(c for c in header if c != "sentence")
  elif case == "extra_tab":
    extra = {"train": ["c\tcommon_voice_en_1.mp3\ta\tb" + "\t" * 7]}
  release = _release(tmp_path, header=header, extra_lines=extra)
  if case == "not_utf8":
    with open(release / "train.tsv", "ab") as f:
      f.write(b"c\tx.mp3\t\xff\xfe\n")
  with pytest.raises(commonvoice.TsvError) as e:
    commonvoice.prepare_commonvoice(str(tmp_path / "data"), None,
                                    str(release), ENGLISH, _config())
  assert str(e.value).startswith("%s line %d" % (release / "train.tsv",
                                                 line))
  assert message in str(e.value)
  assert not (tmp_path / "data").exists()


def test_no_release_or_two_releases_are_named(tmp_path):
  with pytest.raises(common.DownloadError, match="no Common Voice release"):
    commonvoice.prepare_commonvoice(str(tmp_path / "data"), None,
                                    str(tmp_path), ENGLISH, _config())
  _release(tmp_path)
  corpus_trees.make_commonvoice(tmp_path / "cv" / "cv-corpus-1.0" / "fr",
                                splits={"dev": [("f", "oui")]})
  with pytest.raises(common.DownloadError, match="several Common Voice"):
    commonvoice.prepare_commonvoice(str(tmp_path / "data"), None,
                                    str(tmp_path / "cv"), ENGLISH, _config())

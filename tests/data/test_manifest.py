"""Tests for data/manifest.py: every kind of bad row, built as real files."""

import os

import numpy as np
import pytest
import soundfile

from data import featurizer
from data import manifest
from data import text_normalization
from data import vocabulary
import deep_speech_model
from tests import conftest

VOCAB_FILE = vocabulary.VOCABULARY_FILE
TOKEN_TO_INDEX = featurizer.TextFeaturizer(VOCAB_FILE).token_to_index
SR = conftest.SAMPLE_RATE
TIME_REDUCTION = deep_speech_model.TIME_REDUCTION  # 4


def _wav(directory, name, audio, sample_rate=SR):
  path = os.path.join(str(directory), name)
  size = conftest.write_wav(path, audio, sample_rate)
  return path, size


def _row(path, size, transcript):
  return ("%s\t%s\t%s\n" % (path, size, transcript)).encode("utf-8")


@pytest.fixture(scope="module")
def bad_manifest(tmp_path_factory):
  """A manifest with good rows between one row of each bad kind.

  Returns (manifest path, {line number: (reason, wav path)}, [(line, path)]
  of the good rows).
  """
  d = tmp_path_factory.mktemp("manifest")
  rng = np.random.default_rng(0)
  lines = [conftest.HEADER.encode("utf-8")]
  bad, good = {}, []

  def add(raw, reason=None, path=None):
    lines.append(raw)
    line_no = len(lines)
    if reason is None:
      good.append((line_no, path))
    else:
      bad[line_no] = (reason, path)

  def add_good(name, text):
    path, size = _wav(d, name, conftest.synthesize(text, rng))
    add(_row(path, size, text), None, path)

  add_good("good-0.wav", "cat")

  missing = os.path.join(str(d), "missing.wav")
  add(_row(missing, 1000, "dog"), "missing_file", missing)

  empty = os.path.join(str(d), "empty.wav")
  open(empty, "wb").close()
  add(_row(empty, 0, "dog"), "empty_file", empty)

  # A real WAV cut in half: the data chunk's declared size says more audio
  # should follow. The manifest gives the (cut) size on disk, so only the
  # header can tell.
  whole, _ = _wav(d, "whole.wav", conftest.synthesize("red fish", rng))
  with open(whole, "rb") as f:
    data = f.read()
  truncated = os.path.join(str(d), "truncated.wav")
  with open(truncated, "wb") as f:
    f.write(data[:len(data) // 2])
  add(_row(truncated, len(data) // 2, "red fish"), "truncated_audio",
      truncated)

  not_audio = os.path.join(str(d), "notes.wav")
  with open(not_audio, "w") as f:
    f.write("this is a text file, not a RIFF/WAVE file\n" * 20)
  add(_row(not_audio, os.path.getsize(not_audio), "sun"), "not_audio",
      not_audio)

  add_good("good-1.wav", "dog fish")

  path, size = _wav(d, "8k.wav", conftest.synthesize("sun", rng, 8000), 8000)
  add(_row(path, size, "sun"), "wrong_sample_rate", path)

  stereo = np.stack([conftest.synthesize("tree", rng)] * 2, axis=1)
  path, size = _wav(d, "stereo.wav", stereo)
  add(_row(path, size, "tree"), "multi_channel", path)

  add(_row("/nowhere/x.wav", 10, ""), "empty_transcript", "/nowhere/x.wav")
  add(_row("/nowhere/y.wav", 10, "   "), "empty_transcript", "/nowhere/y.wav")
  add(_row("/nowhere/cafe.wav", 10, "café"), "unknown_character",
      "/nowhere/cafe.wav")
  add(_row("/nowhere/hello.wav", 10, "hello!"), "unknown_character",
      "/nowhere/hello.wav")

  # 0.3 s gives 29 frames, 7 after the 4x time reduction; 60 letters need 60.
  path, size = _wav(d, "short-clip.wav", conftest.synthesize("a", rng)[:4800])
  add(_row(path, size, "abcdefghij" * 6), "transcript_too_long", path)

  # 2.5 s of audio, longer than max_audio_sec=2.
  path, size = _wav(d, "long.wav", 0.1 * rng.standard_normal(int(2.5 * SR)))
  add(_row(path, size, "cat"), "too_long", path)

  # One window: 1 frame, 0 after the time reduction.
  path, size = _wav(d, "tiny.wav", 0.1 * rng.standard_normal(320))
  add(_row(path, size, "a"), "too_short", path)

  add(b"/nowhere/two-columns.wav\t123\n", "bad_columns", None)
  add(b"/nowhere/size.wav\tabc\tcat\n", "bad_size", None)
  add(b"/nowhere/latin1.wav\t123\tcaf\xe9\n", "not_utf8", None)

  # Blank lines carry no data and are not reported.
  lines.append(b"\n")

  # The manifest claims more bytes than the file has: truncated, and the
  # manifest is the evidence.
  path, size = _wav(d, "shrunk.wav", conftest.synthesize("red", rng))
  add(_row(path, size + 100, "red"), "truncated_audio", path)

  add_good("good-2.wav", "it's blue")

  manifest_path = os.path.join(str(d), "bad.csv")
  with open(manifest_path, "wb") as f:
    f.write(b"".join(lines))
  return manifest_path, bad, good


def _check():
  return manifest.AudioCheck(featurizer.AudioFeaturizer(SR),
                             max_audio_sec=2.0, time_reduction=TIME_REDUCTION)


def test_read_manifest_skips_each_bad_kind(bad_manifest):
  path, bad, good = bad_manifest
  entries, skipped = manifest.read_manifest(path, TOKEN_TO_INDEX, _check(),
                                            num_threads=4)
  got = {s.line: s.reason for s in skipped}
  assert got == {line: reason for line, (reason, _) in bad.items()}
  for s in skipped:
    assert s.manifest == path
    assert s.reason in manifest.REASONS
    assert s.detail
  # Skipped records come in line order.
  assert [s.line for s in skipped] == sorted(s.line for s in skipped)
  # Every reason of the module is exercised.
  assert set(got.values()) == set(manifest.REASONS)


def test_read_manifest_keeps_good_rows_in_file_order(bad_manifest):
  path, _, good = bad_manifest
  entries, _ = manifest.read_manifest(path, TOKEN_TO_INDEX, _check())
  assert [(e.line, e.wav_filename) for e in entries] == good
  assert [e.transcript for e in entries] == ["cat", "dog fish", "it's blue"]
  for e in entries:
    assert e.wav_filesize == os.path.getsize(e.wav_filename)


def test_skip_details_name_the_evidence(bad_manifest):
  path, bad, _ = bad_manifest
  _, skipped = manifest.read_manifest(path, TOKEN_TO_INDEX, _check())
  details = {s.line: s.detail for s in skipped}
  by_reason = {}
  for line, (reason, wav) in bad.items():
    by_reason.setdefault(reason, []).append((line, wav))
  header_cut, manifest_cut = sorted(by_reason["truncated_audio"])
  assert "WAV header" in details[header_cut[0]]
  assert "manifest" in details[manifest_cut[0]]
  (line, _), = by_reason["wrong_sample_rate"]
  assert "8000" in details[line]
  (line, _), = by_reason["multi_channel"]
  assert "2 channels" in details[line]
  cafe, hello = sorted(by_reason["unknown_character"])
  assert "'é'" in details[cafe[0]]
  assert "'!'" in details[hello[0]]
  (line, _), = by_reason["transcript_too_long"]
  assert "60 characters" in details[line]
  (line, _), = by_reason["bad_columns"]
  assert "found 2" in details[line]
  # Audio problems name their file.
  for reason in ("missing_file", "empty_file", "not_audio",
                 "wrong_sample_rate", "multi_channel", "too_long",
                 "too_short", "transcript_too_long"):
    for line, wav in by_reason[reason]:
      assert wav in details[line], reason


def test_without_audio_check_only_text_is_checked(bad_manifest):
  path, bad, good = bad_manifest
  entries, skipped = manifest.read_manifest(path, TOKEN_TO_INDEX, None)
  text_reasons = {"bad_columns", "bad_size", "not_utf8", "empty_transcript",
                  "unknown_character"}
  assert {s.line: s.reason for s in skipped} == {
      line: reason for line, (reason, _) in bad.items()
      if reason in text_reasons}
  kept_lines = [e.line for e in entries]
  assert kept_lines == sorted(
      [line for line, _ in good] +
      [line for line, (reason, _) in bad.items()
       if reason not in text_reasons])


def test_no_length_limit_keeps_long_clip(bad_manifest):
  path, bad, _ = bad_manifest
  check = manifest.AudioCheck(featurizer.AudioFeaturizer(SR),
                              max_audio_sec=None,
                              time_reduction=TIME_REDUCTION)
  entries, skipped = manifest.read_manifest(path, TOKEN_TO_INDEX, check)
  (long_line,) = [line for line, (r, _) in bad.items() if r == "too_long"]
  assert long_line in [e.line for e in entries]
  assert "too_long" not in [s.reason for s in skipped]


def test_crlf_manifest(tmp_path):
  rng = np.random.default_rng(1)
  path, size = _wav(tmp_path, "a.wav", conftest.synthesize("cat", rng))
  manifest_path = tmp_path / "crlf.csv"
  manifest_path.write_bytes(
      b"wav_filename\twav_filesize\ttranscript\r\n" +
      ("%s\t%d\tcat\r\n" % (path, size)).encode("utf-8"))
  entries, skipped = manifest.read_manifest(str(manifest_path),
                                            TOKEN_TO_INDEX, _check())
  assert skipped == []
  assert entries == [manifest.ManifestEntry(path, size, "cat", 2)]


def test_missing_manifest_raises(tmp_path):
  missing = str(tmp_path / "nope.csv")
  with pytest.raises(manifest.ManifestError, match="nope.csv"):
    manifest.read_manifest(missing, TOKEN_TO_INDEX)


@pytest.mark.parametrize("content", [
    b"",
    b"/a.wav\t100\tcat\n",
    b"wav_filename,wav_filesize,transcript\n/a.wav,100,cat\n",
    b"wav_filename\twav_filesize\n/a.wav\t100\n",
    b"filename\tsize\ttranscript\n/a.wav\t100\tcat\n",
])
def test_missing_or_wrong_header_raises(tmp_path, content):
  path = tmp_path / "headerless.csv"
  path.write_bytes(content)
  with pytest.raises(manifest.ManifestError) as info:
    manifest.read_manifest(str(path), TOKEN_TO_INDEX)
  assert str(path) in str(info.value)
  assert "header" in str(info.value)


def test_ctc_required_frames_counts_repeats():
  def labels(text):
    return featurizer.compute_label_feature(text, TOKEN_TO_INDEX)
  assert manifest.ctc_required_frames(labels("hello")) == 6
  assert manifest.ctc_required_frames(labels("abc")) == 3
  assert manifest.ctc_required_frames(labels("aaa")) == 5
  assert manifest.ctc_required_frames(labels("a")) == 1
  assert manifest.ctc_required_frames([]) == 0
  assert manifest.ctc_required_frames(labels("see  bee")) == 11


def test_audio_check_ctc_frames():
  check = manifest.AudioCheck(featurizer.AudioFeaturizer(SR),
                              time_reduction=TIME_REDUCTION)
  # 1 s: 99 spectrogram frames, 24 after the two stride-2 convolutions.
  assert check.ctc_frames(SR) == 24
  assert check.ctc_frames(4800) == 7
  assert check.ctc_frames(319) == 0
  assert check.ctc_frames(320) == 0
  # 4 frames (800 samples) make one output frame.
  assert check.ctc_frames(800) == 1
  assert check.ctc_frames(799) == 0
  assert manifest.AudioCheck(featurizer.AudioFeaturizer(SR),
                             time_reduction=2).ctc_frames(SR) == 49
  assert manifest.AudioCheck(
      featurizer.AudioFeaturizer(8000),
      time_reduction=TIME_REDUCTION).ctc_frames(8000) == 24


def test_transcript_exactly_at_the_limit_is_kept(tmp_path):
  """A clip whose CTC frames just cover its labels is usable; one more is not."""
  rng = np.random.default_rng(2)
  samples = 0.1 * rng.standard_normal(4800)  # 7 CTC frames
  path, size = _wav(tmp_path, "edge.wav", samples)
  manifest_path = conftest.write_manifest(
      tmp_path / "edge.csv",
      [(path, size, "abcdefg"), (path, size, "abcdefgh"),
       (path, size, "aabbc"), (path, size, "aabbcc")])
  entries, skipped = manifest.read_manifest(manifest_path, TOKEN_TO_INDEX,
                                            _check())
  assert [e.transcript for e in entries] == ["abcdefg", "aabbc"]
  assert [(s.line, s.reason) for s in skipped] == [
      (3, "transcript_too_long"), (5, "transcript_too_long")]
  assert soundfile.info(path).frames == 4800


def test_report_skipped_names_the_list_and_removes_a_stale_one(tmp_path):
  item = manifest.Skipped("/d/train.csv", 3, "empty_transcript", "empty")
  path = manifest.report_skipped([item], "/d/train.csv", 5, str(tmp_path))
  assert path == str(tmp_path / "skipped_train.tsv")
  with open(path) as f:
    assert f.read().splitlines() == [
        "manifest\tline\treason\tdetail",
        "/d/train.csv\t3\tempty_transcript\tempty"]
  other = manifest.report_skipped([item], "/e/train.csv", 5, str(tmp_path),
                                  name="train_eval")
  assert other.endswith("skipped_train_eval.tsv") and os.path.exists(path)
  assert manifest.report_skipped([], "/d/train.csv", 5, str(tmp_path)) is None
  assert not os.path.exists(path)


def test_without_a_vocabulary_every_character_is_kept(tmp_path):
  manifest_path = conftest.write_manifest(
      tmp_path / "any.csv", [("/a.wav", 10, "Ça va"), ("/b.wav", 10, "a-b"),
                             ("/c.wav", 10, " ")])
  entries, skipped = manifest.read_manifest(manifest_path, None)
  assert [(e.transcript, e.line) for e in entries] == [("Ça va", 2),
                                                       ("a-b", 3)]
  assert [(s.line, s.reason) for s in skipped] == [(4, "empty_transcript")]


def test_write_manifest_round_trips_and_refuses_a_tab(tmp_path):
  rows = [manifest.ManifestEntry("/d/a b.wav", 12, "it's a-ok", 2),
          manifest.ManifestEntry("/d/c.wav", 0, "Ünïcode", 3)]
  path = str(tmp_path / "out.csv")
  manifest.write_manifest(path, rows)
  with open(path, encoding="utf-8") as f:
    assert f.read() == ("wav_filename\twav_filesize\ttranscript\n"
                        "/d/a b.wav\t12\tit's a-ok\n/d/c.wav\t0\tÜnïcode\n")
  assert manifest.read_manifest(path, None) == (rows, [])
  before = open(path, "rb").read()
  bad = rows + [manifest.ManifestEntry("/d/e.wav", 1, "two\nlines", 4)]
  with pytest.raises(manifest.ManifestError,
                     match="cannot write .* to the tab-separated manifest"):
    manifest.write_manifest(path, bad)
  assert open(path, "rb").read() == before
  assert os.listdir(tmp_path) == ["out.csv"]


def test_a_wav_with_the_streaming_placeholder_size_is_kept(tmp_path):
  audio = conftest.synthesize("cat", np.random.default_rng(3))
  path = str(tmp_path / "piped.wav")
  size = conftest.write_streaming_wav(path, audio)
  with open(path, "rb") as f:
    head = f.read(64)
  assert head[4:8] == b"\xff\xff\xff\xff"
  assert head[head.index(b"data") + 4:][:4] == b"\xff\xff\xff\xff"
  assert soundfile.info(path).frames == len(audio)  # libsndfile reads it
  assert manifest.wav_data_shortfall(path, size) == 0
  # Cut short, a file with the placeholder still reads (to its end), so
  # only the manifest's size can tell.
  listed = str(tmp_path / "m.csv")
  with open(listed, "wb") as f:
    f.write(("\t".join(manifest.HEADER) + "\n").encode("utf-8"))
    f.write(_row(path, size, "cat"))
    f.write(_row(path, size + 10, "cat"))
  entries, skipped = manifest.read_manifest(listed, TOKEN_TO_INDEX, _check())
  assert [(e.wav_filename, e.line) for e in entries] == [(path, 2)]
  assert [(s.line, s.reason) for s in skipped] == [(3, "truncated_audio")]


def test_a_text_policy_normalizes_transcripts_before_the_check(tmp_path):
  path = tmp_path / "m.csv"
  path.write_text("\t".join(manifest.HEADER) + "\n/a.wav\t10\tGRU\u0308SSE\n"
                  "/b.wav\t10\tÉté\n", encoding="utf-8")
  token_to_index = {c: i for i, c in enumerate(" abcdegrstuüé-")}
  entries, skipped = manifest.read_manifest(
      str(path), token_to_index, text_policy=text_normalization.DEFAULT)
  assert [e.transcript for e in entries] == ["grüsse", "été"]
  assert not skipped
  # Without a policy the rows stay as written, capitals unknown.
  entries, skipped = manifest.read_manifest(str(path), token_to_index)
  assert not entries
  assert [s.reason for s in skipped] == ["unknown_character"] * 2
  entries, _ = manifest.read_manifest(
      str(path), None, text_policy=text_normalization.TextPolicy(
          strip_accents=True))
  assert [e.transcript for e in entries] == ["grusse", "ete"]

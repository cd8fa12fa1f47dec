"""Tests for data/manifest_ops.py on real manifests and real WAV files."""

import collections
import os

import pytest

from data import manifest
from data import manifest_ops
from data import vocabulary
from tests.helpers import manifests


def _two_manifests(tmp_path):
  a = tmp_path / "a.csv"
  b = tmp_path / "b.csv"
  a_lines = manifests.make_manifest(a, [("84-121-0000.wav", 0.5, "go do"),
                                        ("84-121-0001.wav", 1.0, "you hear")])
  b_lines = manifests.make_manifest(b, [("174-505-0000.wav", 0.25, "forgot")])
  return str(a), str(b), a_lines, b_lines


def _read(path):
  with open(path, "rb") as f:
    return f.read()


# --- concatenate ---


def test_concatenate_writes_one_header_then_every_row_in_order(tmp_path):
  a, b, a_lines, b_lines = _two_manifests(tmp_path)
  before = _read(a), _read(b)
  out = str(tmp_path / "out" / "all.csv")
  assert manifest_ops.concatenate([a, b, a], out) == 5
  assert manifests.data_lines(out) == a_lines + b_lines + a_lines
  assert (_read(a), _read(b)) == before


def test_concatenate_keeps_characters_outside_the_vocabulary(tmp_path):
  a = tmp_path / "a.csv"
  lines = manifests.make_manifest(a, [("1-2-3.wav", 0.2, "Café ÜBER-all")])
  out = str(tmp_path / "all.csv")
  manifest_ops.concatenate([str(a)], out)
  assert manifests.data_lines(out) == lines


@pytest.mark.parametrize("spelling", ["same", "dotted", "symlink"])
def test_an_output_that_is_an_input_is_refused(tmp_path, spelling):
  a, b, _, _ = _two_manifests(tmp_path)
  out = {"same": b,
         "dotted": str(tmp_path / "sub" / ".." / "b.csv"),
         "symlink": str(tmp_path / "link.csv")}[spelling]
  if spelling == "symlink":
    os.symlink(b, out)
  before = _read(b)
  with pytest.raises(ValueError) as error:
    manifest_ops.concatenate([a, b], out)
  assert str(error.value) == "refusing to write %s: it is the input %s" % (
      out, b)
  assert _read(b) == before
  assert sorted(os.listdir(tmp_path)) == sorted(
      ["a.csv", "b.csv", "84-121-0000.wav", "84-121-0001.wav",
       "174-505-0000.wav"] + (["link.csv"] if spelling == "symlink" else []))


@pytest.mark.parametrize("raw, message", [
    ("x.wav\t12\n", "bad_columns: expected 3 tab-separated columns, found 2"),
    ("x.wav\ttwelve\tgo\n", "bad_size: wav_filesize 'twelve' is not a number"),
    ("x.wav\t12\t \n", "empty_transcript: empty transcript for x.wav"),
])
def test_a_row_that_is_no_manifest_row_names_file_and_line(tmp_path, raw,
                                                           message):
  a, b, _, _ = _two_manifests(tmp_path)
  with open(b, "a", encoding="utf-8") as f:
    f.write(raw)
  out = tmp_path / "all.csv"
  with pytest.raises(manifest.ManifestError) as error:
    manifest_ops.concatenate([a, b], str(out))
  assert str(error.value) == "%s:3: %s" % (b, message)
  assert not out.exists()


def test_a_wrong_header_or_a_missing_input_is_refused(tmp_path):
  a, b, _, _ = _two_manifests(tmp_path)
  with open(b, encoding="utf-8") as f:
    text = f.read()
  with open(b, "w", encoding="utf-8") as f:
    f.write(text.replace("wav_filesize", "size", 1))
  out = tmp_path / "all.csv"
  with pytest.raises(manifest.ManifestError, match=r"^%s:1: expected the "
                     r"header" % b):
    manifest_ops.concatenate([a, b], str(out))
  with pytest.raises(manifest.ManifestError,
                     match=r"^manifest not found: %s$" % (a + ".missing")):
    manifest_ops.concatenate([a, a + ".missing"], str(out))
  assert not out.exists()


# --- filter_by_duration ---


def test_filter_keeps_clips_up_to_the_limit_by_their_wav_header(tmp_path):
  a = tmp_path / "a.csv"
  lines = manifests.make_manifest(a, [
      ("1-1-0.wav", 26.5, "under"), ("1-1-1.wav", 27.0, "exactly"),
      ("1-1-2.wav", 27.5, "over"), ("1-1-3.wav", 1.0, "short")])
  # A 28 s clip written by the real sox, and a 20 s clip at 8 kHz: its
  # wav_filesize is that of 10 s at 16 kHz, so a size-based duration would
  # keep it.
  loud = str(tmp_path / "2-1-0.wav")
  slow = str(tmp_path / "2-1-1.wav")
  extra = ["%s\t%d\tsox made" % (loud, manifests.sox_wav(loud, 28)),
           "%s\t%d\teight k" % (slow, manifests.tone_wav(slow, 20, 8000))]
  with open(a, "a", encoding="utf-8") as f:
    f.writelines(line + "\n" for line in extra)
  out = str(tmp_path / "final.csv")
  kept, dropped, hours = manifest_ops.filter_by_duration([str(a)], out, 27.0)
  assert (kept, dropped) == (4, 2)
  assert hours == pytest.approx((26.5 + 27.0 + 1.0 + 20.0) / 3600.0)
  assert manifests.data_lines(out) == [lines[0], lines[1], lines[3], extra[1]]
  assert manifest_ops.filter_by_duration([str(a)], out, 15.0)[:2] == (1, 5)
  assert manifests.data_lines(out) == [lines[3]]


def test_filter_fails_on_unreadable_audio_naming_file_and_line(tmp_path):
  a, b, _, _ = _two_manifests(tmp_path)
  os.remove(str(tmp_path / "84-121-0001.wav"))
  not_audio = tmp_path / "174-505-0000.wav"
  not_audio.write_bytes(b"this is no wav file at all")
  out = tmp_path / "final.csv"
  with pytest.raises(manifest.ManifestError) as error:
    manifest_ops.filter_by_duration([a, b], str(out), 27.0)
  assert str(error.value) == (
      "%s:3: %s does not exist (and 1 more unreadable)"
      % (a, tmp_path / "84-121-0001.wav"))
  assert not out.exists()


@pytest.mark.parametrize("limit", [0, -1.0])
def test_filter_refuses_a_limit_that_is_not_positive(tmp_path, limit):
  a, _, _, _ = _two_manifests(tmp_path)
  out = tmp_path / "final.csv"
  with pytest.raises(ValueError, match="must be positive"):
    manifest_ops.filter_by_duration([a], str(out), limit)
  assert not out.exists()


# --- split_by_speaker ---


def _five_speakers(tmp_path):
  clips = []
  for speaker in ("19", "26", "84", "174", "251"):
    for utt in range(3 if speaker == "84" else 2):
      clips.append(("%s-100-%04d.wav" % (speaker, utt), 0.1, "text"))
  path = tmp_path / "all.csv"
  return str(path), manifests.make_manifest(path, clips)


def _speakers(lines):
  return {os.path.basename(line.split("\t")[0]).split("-")[0]
          for line in lines}


def test_split_puts_each_speaker_on_one_side_and_keeps_every_row(tmp_path):
  path, lines = _five_speakers(tmp_path)
  train, dev = str(tmp_path / "train.csv"), str(tmp_path / "dev.csv")
  counts = manifest_ops.split_by_speaker([path], train, dev, 0.4, seed=1)
  train_lines = manifests.data_lines(train)
  dev_lines = manifests.data_lines(dev)
  assert counts == (len(train_lines), len(dev_lines), 3, 2)
  assert not _speakers(train_lines) & _speakers(dev_lines)
  assert len(_speakers(dev_lines)) == 2
  assert sorted(train_lines + dev_lines) == sorted(lines)
  assert train_lines == [line for line in lines if line in train_lines]
  assert dev_lines == [line for line in lines if line in dev_lines]


def test_split_is_seeded(tmp_path):
  path, _ = _five_speakers(tmp_path)
  train, dev = str(tmp_path / "train.csv"), str(tmp_path / "dev.csv")
  dev_sets = []
  for seed in (1, 1, 2, 3, 4, 5):
    manifest_ops.split_by_speaker([path], train, dev, 0.2, seed=seed)
    dev_sets.append(frozenset(_speakers(manifests.data_lines(dev))))
  assert dev_sets[0] == dev_sets[1]
  assert all(len(s) == 1 for s in dev_sets)
  assert len(set(dev_sets)) > 1  # other seeds draw other speakers


def test_split_by_a_speaker_regex_on_the_folder(tmp_path):
  path = tmp_path / "all.csv"
  lines = manifests.make_manifest(path, [
      ("spk_a/one.wav", 0.1, "a"), ("spk_b/one.wav", 0.1, "b"),
      ("spk_a/two.wav", 0.1, "a")])
  train, dev = str(tmp_path / "train.csv"), str(tmp_path / "dev.csv")
  counts = manifest_ops.split_by_speaker([str(path)], train, dev, 0.5,
                                         speaker_regex=r"/(spk_\w+)/")
  assert counts[2:] == (1, 1)
  groups = sorted([manifests.data_lines(train), manifests.data_lines(dev)])
  assert groups == sorted([[lines[0], lines[2]], [lines[1]]])


def test_split_refuses_rows_without_a_speaker_and_a_single_speaker(tmp_path):
  path = tmp_path / "all.csv"
  manifests.make_manifest(path, [("84-1-0.wav", 0.1, "a"),
                                 ("noise.wav", 0.1, "b")])
  train, dev = tmp_path / "train.csv", tmp_path / "dev.csv"
  with pytest.raises(manifest.ManifestError) as error:
    manifest_ops.split_by_speaker([str(path)], str(train), str(dev))
  assert str(error.value) == (
      "%s:3: no speaker in %s: the speaker pattern %r does not match it" % (
          path, tmp_path / "noise.wav", manifest_ops.DEFAULT_SPEAKER_REGEX))
  one = tmp_path / "one.csv"
  manifests.make_manifest(one, [("84-1-0.wav", 0.1, "a"),
                                ("84-2-0.wav", 0.1, "b")])
  with pytest.raises(manifest.ManifestError,
                     match="1 speaker.* needs at least two"):
    manifest_ops.split_by_speaker([str(one)], str(train), str(dev))
  assert not train.exists() and not dev.exists()


@pytest.mark.parametrize("kwargs, message", [
    ({"dev_fraction": 1.0}, "dev fraction must be between 0 and 1"),
    ({"dev_fraction": 0.0}, "dev fraction must be between 0 and 1"),
    ({"speaker_regex": "("}, "bad speaker pattern '\\('"),
    ({"dev_output": "TRAIN"}, "two outputs name the same file"),
])
def test_split_refuses_bad_arguments_before_writing(tmp_path, kwargs,
                                                    message):
  path, _ = _five_speakers(tmp_path)
  train = str(tmp_path / "train.csv")
  args = {"dev_output": str(tmp_path / "dev.csv")}
  args.update(kwargs)
  if args["dev_output"] == "TRAIN":
    args["dev_output"] = train
  with pytest.raises(ValueError, match=message):
    manifest_ops.split_by_speaker([path], train, **args)
  assert not os.path.exists(train)
  assert not os.path.exists(str(tmp_path / "dev.csv"))


# --- statistics ---


def test_statistics_counts_hours_speakers_and_unknown_characters(tmp_path):
  a, b, _, _ = _two_manifests(tmp_path)
  c = tmp_path / "c.csv"
  manifests.make_manifest(c, [("251-1-0000.wav", 3.0, "Ça va-t-il"),
                              ("251-1-0001.wav", 0.75, "it's fine")])
  os.remove(str(tmp_path / "84-121-0001.wav"))
  rows = manifest_ops.read_rows([a, b, str(c)])
  stats = manifest_ops.statistics(rows, manifest_ops.audio_seconds(rows),
                                  vocabulary.characters(
                                      vocabulary.VOCABULARY_FILE))
  assert stats == manifest_ops.Stats(
      utterances=5, hours=pytest.approx((0.5 + 0.25 + 3.0 + 0.75) / 3600),
      speakers=3, unreadable=1,
      first_unreadable="%s:3: %s does not exist" % (
          a, tmp_path / "84-121-0001.wav"),
      unknown_rows=1,
      # "-" is the CTC blank: never a character of a transcript.
      unknown_characters=collections.Counter({"Ç": 1, "-": 2}))
  assert manifest_ops.format_stats("all", stats).split("\n") == [
      "all: 5 utterances, 0.00 hours (4 s), 3 speakers",
      "  1 utterances with characters outside the vocabulary: '-' x2, 'Ç' x1",
      "  1 utterances with unreadable audio (not in the hours), first: "
      + stats.first_unreadable]

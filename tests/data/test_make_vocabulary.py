"""Tests for data/make_vocabulary.py and data/vocabulary_counts.py."""

import os

import pytest

from data import manifest
from data import text_normalization
from data import vocabulary
from data import vocabulary_counts
from tests.helpers import cli


def _manifest(path, transcripts):
  rows = ["\t".join(manifest.HEADER)] + [
      "/data/u%d.wav\t1000\t%s" % (i, t) for i, t in enumerate(transcripts)]
  path.write_text("\n".join(rows) + "\n", encoding="utf-8")
  return str(path)


def _make(*args):
  return cli.run_script("data/make_vocabulary.py", *args)


def test_english_transcripts_give_the_default_vocabulary(tmp_path):
  train = _manifest(tmp_path / "train.csv",
                    ["the quick brown fox jumps over", "the lazy dog's back"])
  dev = _manifest(tmp_path / "dev.csv", ["Zebras quiz jack vexing"])
  out = tmp_path / "vocabulary.txt"
  proc = _make("--manifest=" + train, "--manifest=" + dev,
               "--vocabulary_out=" + str(out))
  assert proc.returncode == 0, proc.stderr
  tokens = vocabulary.read_tokens(str(out))
  assert "".join(tokens) == "".join(
      vocabulary.read_tokens(vocabulary.VOCABULARY_FILE))
  text = out.read_text(encoding="utf-8")
  assert "# U+0020 SPACE: 11\n \n" in text
  assert "# U+0027 APOSTROPHE: 1\n'\n" in text
  assert "#   %s (2 transcripts)" % train in text


def test_german_and_russian_letters_are_tokens_and_capitals_fold(tmp_path):
  data = _manifest(tmp_path / "de.csv", ["Größe Straße Äpfel", "ёж Щи"])
  out = tmp_path / "v.txt"
  proc = _make("--manifest=" + data, "--vocabulary_out=" + str(out))
  assert proc.returncode == 0, proc.stderr
  tokens = vocabulary.read_tokens(str(out))
  assert tokens == [" "] + sorted(set("größestraßeäpfelёжщи")) + ["-"]
  assert "# U+00DF LATIN SMALL LETTER SHARP S: 2\nß\n" in out.read_text(
      encoding="utf-8")
  # NFKD: the umlauts become the base letter and a combining mark.
  proc = _make("--manifest=" + data, "--vocabulary_out=" + str(out),
               "--unicode_form=NFKD", "--nolowercase")
  assert proc.returncode == 0, proc.stderr
  tokens = vocabulary.read_tokens(str(out))
  assert "\u0308" in tokens and "ä" not in tokens and "G" in tokens
  # Letters (capitals kept) first, then the combining marks.
  assert tokens.index("\u0308") > tokens.index("\u0429") > tokens.index("G")
  assert "# Text policy: unicode_form=NFKD, strip_accents=false, " \
      "lowercase=false" in out.read_text(encoding="utf-8")


def test_unusable_and_rare_characters_are_left_out_and_named(tmp_path):
  data = _manifest(tmp_path / "m.csv", ["ab c", "a\tb #1", "a\u00a0b"])
  found = vocabulary_counts.count_characters([data],
                                             text_normalization.DEFAULT)
  tokens, left_out = vocabulary_counts.choose_tokens(found, min_count=2)
  assert tokens == [" ", "a", "b"]
  assert [(c, where) for c, _, where in left_out] == [
      ("\t", data + ":3"), ("#", data + ":3"), ("1", data + ":3"),
      ("c", data + ":2"), ("\u00a0", data + ":4")]
  reasons = {c: reason for c, reason, _ in left_out}
  assert reasons["1"] == "seen 1 times, fewer than the minimum 2"
  assert "starts a comment line" in reasons["#"]
  assert "U+00A0 NO-BREAK SPACE is whitespace" in reasons["\u00a0"]
  out = tmp_path / "v.txt"
  proc = _make("--manifest=" + data, "--vocabulary_out=" + str(out),
               "--min_count=2")
  assert proc.returncode == 0, proc.stderr
  assert "%s:3: left '#' out of the vocabulary" % data in proc.stderr
  assert vocabulary.read_tokens(str(out)) == [" ", "a", "b", "-"]


def test_a_transcript_holding_the_blank_is_refused_naming_the_line(tmp_path):
  data = _manifest(tmp_path / "m.csv", ["ok", "x-ray", "a_b"])
  out = tmp_path / "v.txt"
  proc = _make("--manifest=" + data, "--vocabulary_out=" + str(out))
  assert proc.returncode == 2
  assert proc.stderr.strip().splitlines()[-1] == (
      "make_vocabulary.py: error: --blank: %s:3: the transcript holds '-', "
      "the CTC blank; choose another blank (a character no transcript "
      "holds, e.g. '~')" % data)
  assert not out.exists()
  proc = _make("--manifest=" + data, "--vocabulary_out=" + str(out),
               "--blank=~")
  assert proc.returncode == 0, proc.stderr
  assert vocabulary.read_tokens(str(out))[-1] == "~"
  assert "-" in vocabulary.characters(str(out))


def test_outputs_that_are_inputs_and_bad_manifests_are_refused(tmp_path):
  data = _manifest(tmp_path / "m.csv", ["ab"])
  before = open(data, "rb").read()
  proc = _make("--manifest=" + data, "--vocabulary_out=" + data)
  assert proc.returncode == 2
  assert "--vocabulary_out %s is the same file as --manifest" % data in \
      proc.stderr
  assert open(data, "rb").read() == before
  bad = tmp_path / "bad.csv"
  bad.write_bytes(b"wav_filename\twav_filesize\ttranscript\n/a.wav\t1\tab\n"
                  b"/b.wav\tten\tcd\n")
  out = tmp_path / "v.txt"
  proc = _make("--manifest=" + str(bad), "--vocabulary_out=" + str(out))
  assert proc.returncode == 2
  assert "bad.csv:3: bad_size" in proc.stderr
  assert not out.exists()
  proc = _make("--vocabulary_out=" + str(out))
  assert proc.returncode == 2 and "at least one --manifest" in proc.stderr


def test_an_old_vocabulary_stays_until_the_new_one_is_complete(tmp_path):
  data = _manifest(tmp_path / "m.csv", ["a-b"])
  out = tmp_path / "v.txt"
  out.write_text(" \na\n-\n")
  proc = _make("--manifest=" + data, "--vocabulary_out=" + str(out))
  assert proc.returncode == 2
  assert out.read_text() == " \na\n-\n"
  assert sorted(os.listdir(tmp_path)) == ["m.csv", "v.txt"]


@pytest.mark.parametrize("blank", ["", "ab", " ", "#", "\t"])
def test_a_blank_that_cannot_be_a_token_is_refused(blank):
  found = vocabulary_counts.Counts({}, {}, {})
  with pytest.raises(vocabulary.VocabularyError, match="one character"):
    vocabulary_counts.check_blank(blank, found)

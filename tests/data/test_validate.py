"""Tests for data/validate.py and the training CLI on a corrupted corpus.

Every kind of bad manifest row is a real file on disk; both commands run as
subprocesses, the way a user runs them.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from data import manifest
from data import vocabulary
import deep_speech_model
from tests import conftest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
# Passed explicitly, so the command does not import TensorFlow to find it.
TIME_REDUCTION = "--time_reduction=%d" % deep_speech_model.TIME_REDUCTION
SR = conftest.SAMPLE_RATE
TINY = ["--train_epochs=1", "--batch_size=4", "--rnn_hidden_size=16",
        "--rnn_hidden_layers=1", "--export_dir=", "--show_samples=0",
        "--max_audio_sec=2"]


def _row(path, size, transcript):
  return ("%s\t%s\t%s\n" % (path, size, transcript)).encode("utf-8")


@pytest.fixture(scope="module")
def corrupted(tmp_path_factory):
  """A manifest with four good rows and one row of each bad kind.

  Returns (manifest path, {line: reason} of the bad rows, good row count).
  """
  d = str(tmp_path_factory.mktemp("corrupted"))
  rng = np.random.default_rng(3)
  lines, bad = [conftest.HEADER.encode("utf-8")], {}

  def add(raw, reason=None):
    lines.append(raw)
    if reason:
      bad[len(lines)] = reason

  def wav(name, audio, sample_rate=SR):
    path = os.path.join(d, name)
    return path, conftest.write_wav(path, audio, sample_rate)

  def good(i, text):
    add(_row(*wav("good-%d.wav" % i, conftest.synthesize(text, rng)), text))

  good(0, "cat")
  add(_row(os.path.join(d, "missing.wav"), 1000, "dog"), "missing_file")
  empty = os.path.join(d, "empty.wav")
  open(empty, "wb").close()
  add(_row(empty, 0, "dog"), "empty_file")
  # Cut in half: the WAV header still declares the whole data chunk.
  whole, size = wav("whole.wav", conftest.synthesize("red fish", rng))
  with open(whole, "rb") as f:
    head = f.read(size // 2)
  truncated = os.path.join(d, "truncated.wav")
  with open(truncated, "wb") as f:
    f.write(head)
  add(_row(truncated, len(head), "red fish"), "truncated_audio")
  text_file = os.path.join(d, "notes.wav")
  with open(text_file, "w") as f:
    f.write("not a RIFF/WAVE file\n" * 50)
  add(_row(text_file, os.path.getsize(text_file), "sun"), "not_audio")
  good(1, "dog fish")
  add(_row(*wav("8k.wav", conftest.synthesize("sun", rng, 8000), 8000),
           "sun"), "wrong_sample_rate")
  stereo = np.stack([conftest.synthesize("tree", rng)] * 2, axis=1)
  add(_row(*wav("stereo.wav", stereo), "tree"), "multi_channel")
  add(_row(os.path.join(d, "good-0.wav"), 10, " "), "empty_transcript")
  add(_row(os.path.join(d, "good-0.wav"), 10, "café!"), "unknown_character")
  # The CTC blank is in the vocabulary file but is no character.
  add(_row(os.path.join(d, "good-0.wav"), 10, "well-known"),
      "unknown_character")
  # 0.3 s leaves 7 frames after the convolutions; 60 letters need 60.
  add(_row(*wav("short.wav", conftest.synthesize("a", rng)[:4800]),
           "abcdefghij" * 6), "transcript_too_long")
  # 2.5 s, over --max_audio_sec=2.
  add(_row(*wav("long.wav", 0.1 * rng.standard_normal(int(2.5 * SR))),
           "cat"), "too_long")
  add(_row(*wav("tiny.wav", 0.1 * rng.standard_normal(320)), "a"), "too_short")
  good(2, "blue")
  add(b"/data/two-columns.wav\t123\n", "bad_columns")
  add(b"/data/size.wav\tbig\tcat\n", "bad_size")
  add(b"/data/latin1.wav\t123\tcaf\xe9\n", "not_utf8")
  good(3, "it's red")
  path = os.path.join(d, "bad.csv")
  with open(path, "wb") as f:
    f.write(b"".join(lines))
  return path, bad, 4


def validate(*args, time_reduction=TIME_REDUCTION):
  extra = [time_reduction] if time_reduction else []
  proc = subprocess.run([sys.executable, "data/validate.py"] + list(args) +
                        extra,
                        cwd=ROOT, capture_output=True, text=True, timeout=300)
  output = proc.stdout + proc.stderr
  assert "Traceback" not in output
  return proc.returncode, output


def train(tmp_path, train_manifest, eval_manifest, *flags):
  model_dir = str(tmp_path / "model")
  proc = subprocess.run(
      [sys.executable, "deep_speech.py", "--train_data_dir=" + train_manifest,
       "--eval_data_dir=" + eval_manifest, "--model_dir=" + model_dir] +
      TINY + list(flags), cwd=ROOT, capture_output=True, text=True,
      timeout=600)
  output = proc.stdout + proc.stderr
  assert "Traceback" not in output
  return proc.returncode, output, model_dir


def read_tsv(path):
  with open(path, encoding="utf-8") as f:
    rows = [line.rstrip("\n").split("\t") for line in f]
  assert rows[0] == ["manifest", "line", "reason", "detail"]
  return rows[1:]


def test_every_bad_kind_is_reported_with_its_line(corrupted, tmp_path):
  path, bad, num_good = corrupted
  skipped_file = str(tmp_path / "skipped.tsv")
  status, output = validate(path, "--max_audio_sec=2",
                            "--skipped_file=" + skipped_file)
  assert status == 1, output
  # Every kind of bad row of data/manifest.py is in this corpus.
  assert len(set(bad.values())) == 14
  rows = read_tsv(skipped_file)
  assert {int(line): reason for _, line, reason, _ in rows} == bad
  assert all(manifest_path == path and detail for manifest_path, _, _, detail
             in rows)
  # The printed report: the count per reason, then the first rows.
  counts = {}
  for reason in bad.values():
    counts[reason] = counts.get(reason, 0) + 1
  assert "skipped %d of %d rows (%s)" % (
      len(bad), len(bad) + num_good,
      ", ".join("%s: %d" % kv for kv in sorted(counts.items()))) in output
  for line in sorted(bad)[:5]:
    assert "%s:%d: %s: " % (path, line, bad[line]) in output
  assert "... and %d more" % (len(bad) - 5) in output
  assert "%s: %d usable rows" % (path, num_good) in output
  assert "%d bad row(s) listed in %s" % (len(bad), skipped_file) in output


def test_clean_manifest_exits_zero_with_its_hours(corpus):
  status, output = validate(corpus)
  assert status == 0, output
  assert "%s: 16 usable rows, 0.00 hours of audio (" % corpus in output
  assert "skipped" not in output


def test_limits_follow_the_flags(corrupted, tmp_path):
  path, bad, num_good = corrupted
  listed = str(tmp_path / "skipped.tsv")

  def reasons(*flags):
    status, output = validate(path, "--skipped_file=" + listed, *flags)
    assert status == 1, output
    return sorted(reason for _, _, reason, _ in read_tsv(listed))

  # No --max_audio_sec: the 2.5 s clip is usable.
  assert reasons() == sorted(r for r in bad.values() if r != "too_long")
  # At 8 kHz the 8 kHz clip is the usable one, and the four good clips, the
  # long, short and tiny ones have the wrong rate instead (stereo too: the
  # rate is checked before the channels).
  at_8k = reasons("--sample_rate=8000", "--max_audio_sec=2")
  assert at_8k.count("wrong_sample_rate") == 8
  assert len(at_8k) == len(bad) + num_good - 1
  assert "multi_channel" not in at_8k


def test_time_reduction_defaults_to_the_models(corrupted):
  path, bad, _ = corrupted
  # Without the flag the command reads deep_speech_model.TIME_REDUCTION.
  def report(*args, **kwargs):
    # TensorFlow's start-up lines aside.
    status, output = validate(*args, **kwargs)
    return status, [line for line in output.splitlines() if path in line]
  default = report(path, "--max_audio_sec=2", time_reduction=None)
  assert default == report(path, "--max_audio_sec=2")
  # A coarser reduction leaves too few frames for the good clips' labels.
  assert default[0] == 1 and "skipped %d of" % len(bad) in default[1][0]
  status, output = validate(path, "--max_audio_sec=2",
                            time_reduction="--time_reduction=64")
  assert status == 2 and "no usable rows" in output


@pytest.mark.parametrize("content, message", [
    (None, "manifest not found"),
    (b"", "expected the header"),
    (b"/a.wav\t100\tcat\n", "expected the header"),
    (conftest.HEADER.encode("utf-8"), "no usable rows"),
    (conftest.HEADER.encode("utf-8") + b"/nowhere.wav\t1\tcat\n",
     "no usable rows (1 skipped)"),
])
def test_unusable_manifest_exits_two(tmp_path, content, message):
  path = str(tmp_path / "m.csv")
  if content is not None:
    with open(path, "wb") as f:
      f.write(content)
  status, output = validate(path)
  assert status == 2, output
  assert path in output and message in output


def test_several_manifests_exit_with_the_worst(corrupted, corpus, tmp_path):
  path, _, _ = corrupted
  assert validate(corpus, corpus)[0] == 0
  assert validate(corpus, path)[0] == 1
  status, output = validate(path, str(tmp_path / "nope.csv"), corpus,
                            "--max_audio_sec=2")
  assert status == 2
  # Each manifest still gets its report.
  assert "%s: 16 usable rows" % corpus in output
  assert "%s: 4 usable rows" % path in output


def test_usage_errors_exit_two_without_traceback(corpus, tmp_path):
  assert validate()[0] == 2
  assert validate(corpus, "--no_such_flag")[0] == 2
  status, output = validate(corpus, "--vocabulary_file=" + str(
      tmp_path / "none.txt"))
  assert status == 2 and "vocabulary file" in output
  status, output = validate(corpus, "--stride_ms=30")
  assert status == 2 and "--stride_ms" in output


@pytest.mark.slow
def test_training_skips_bad_rows_and_lists_them(corrupted, corpus, tmp_path):
  path, bad, num_good = corrupted
  status, output, model_dir = train(tmp_path, path, corpus)
  assert status == 0, output[-3000:]
  listed = os.path.join(model_dir, "skipped_bad.tsv")
  assert "skipped %d of %d rows" % (len(bad), len(bad) + num_good) in output
  assert "Full list: " + listed in output
  assert "Iteration 1: WER" in output
  # The same rows, reasons and details as data/validate.py reports.
  validated = str(tmp_path / "validated.tsv")
  validate(path, "--max_audio_sec=2", "--skipped_file=" + validated)
  assert read_tsv(listed) == read_tsv(validated)
  # The clean eval manifest leaves no list behind.
  assert not os.path.exists(os.path.join(model_dir, "skipped_train.tsv"))


@pytest.mark.slow
def test_strict_data_fails_naming_the_first_bad_row(corrupted, corpus,
                                                     tmp_path):
  path, bad, _ = corrupted
  status, output, model_dir = train(tmp_path, path, corpus, "--strict_data")
  assert status == 1
  (error,) = [line for line in output.splitlines()
              if "and the dataset is strict" in line]
  first = min(bad)
  assert "%d bad row(s) in %s" % (len(bad), path) in error
  assert "first: %s:%d: %s: " % (path, first, bad[first]) in error
  assert not os.path.exists(os.path.join(model_dir, "checkpoint"))


@pytest.mark.slow
@pytest.mark.parametrize("content, message", [
    (conftest.HEADER.encode("utf-8") + b"/nowhere.wav\t1\tcat\n",
     "no usable rows in %s (1 skipped)"),
    (b"/a.wav\t100\tcat\n", "%s:1: expected the header"),
])
def test_training_without_usable_rows_fails_clearly(tmp_path, corpus, content,
                                                    message):
  path = str(tmp_path / "m.csv")
  with open(path, "wb") as f:
    f.write(content)
  status, output, _ = train(tmp_path, path, corpus)
  assert status == 1
  assert message % path in output


def test_a_vocabulary_with_a_bom_is_read_and_a_bad_token_named(corpus,
                                                              tmp_path):
  tokens = vocabulary.read_tokens(vocabulary.VOCABULARY_FILE)
  vocab = tmp_path / "vocabulary.txt"
  vocab.write_bytes(("\ufeff# saved by an editor that writes a BOM\r\n" +
                     "\r\n".join(tokens) + "\r\n").encode("utf-8"))
  status, output = validate(corpus, "--vocabulary_file=%s" % vocab)
  assert status == 0, output
  vocab.write_text("\n".join(tokens[:3] + ["ch"] + tokens[3:]) + "\n",
                   encoding="utf-8")
  status, output = validate(corpus, "--vocabulary_file=%s" % vocab)
  assert status == 2
  assert output.strip() == (
      "vocabulary file %s cannot be used: %s:4: token 'ch' is 2 characters; "
      "each line holds one character (a line holding one space is the "
      "space token)" % (vocab, vocab))
  assert sorted(os.listdir(tmp_path)) == ["corpus", "vocabulary.txt"]


def test_transcripts_are_judged_under_the_text_policy(tmp_path):
  d = str(tmp_path)
  rng = np.random.default_rng(5)
  size = conftest.write_wav(os.path.join(d, "a.wav"),
                            conftest.synthesize("red fish", rng))
  path = os.path.join(d, "de.csv")
  with open(path, "w", encoding="utf-8") as f:
    f.write("\t".join(manifest.HEADER) + "\n%s\t%d\tGRÜN\n" % (
        os.path.join(d, "a.wav"), size))
  vocab = tmp_path / "v.txt"
  vocab.write_text(" \ng\nn\nr\nü\n-\n", encoding="utf-8")
  status, output = validate(path, "--vocabulary_file=%s" % vocab)
  assert status == 0, output
  status, output = validate(path, "--vocabulary_file=%s" % vocab,
                            "--strip_accents")
  assert status == 2
  assert "characters not in the vocabulary: 'u' in 'grun'" in output
  status, output = validate(path, "--vocabulary_file=%s" % vocab,
                            "--nolowercase")
  assert status == 2
  assert "characters not in the vocabulary: 'G', 'N', 'R', 'Ü'" in output

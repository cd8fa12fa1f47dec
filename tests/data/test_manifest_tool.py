"""Tests for data/manifest_tool.py: the real command line in a subprocess."""

import os
import subprocess
import sys

import pytest

from tests.helpers import manifests

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO_ROOT, "data", "manifest_tool.py")


def _run(*args):
  return subprocess.run([sys.executable, SCRIPT] + [str(a) for a in args],
                        cwd=REPO_ROOT, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True, timeout=120,
                        check=False)


@pytest.fixture
def two_manifests(tmp_path):
  a, b = tmp_path / "a.csv", tmp_path / "b.csv"
  a_lines = manifests.make_manifest(a, [("84-1-0000.wav", 2.0, "go do"),
                                        ("84-1-0001.wav", 28.0, "long one")])
  b_lines = manifests.make_manifest(b, [("174-2-0000.wav", 1.0, "Über"),
                                        ("116-3-0000.wav", 0.5, "nothing")])
  return a, b, a_lines, b_lines


def test_concat_filter_split_stats_from_the_command_line(tmp_path,
                                                         two_manifests):
  a, b, a_lines, b_lines = two_manifests
  all_csv, final = tmp_path / "all.csv", tmp_path / "final.csv"
  result = _run("concat", a, b, "--output=%s" % all_csv)
  assert (result.returncode, result.stdout, result.stderr) == (
      0, "%s: 4 rows from 2 manifests\n" % all_csv, "")
  assert manifests.data_lines(all_csv) == a_lines + b_lines

  result = _run("filter", all_csv, "--max_audio_sec=27", "--output", final)
  assert (result.returncode, result.stdout) == (
      0, "%s: kept 3 rows (0.00 hours, 4 s), dropped 1 longer than 27 s\n"
      % final)
  assert manifests.data_lines(final) == [a_lines[0]] + b_lines

  train, dev = tmp_path / "train.csv", tmp_path / "dev.csv"
  result = _run("split", final, "--train_output=%s" % train,
                "--dev_output=%s" % dev, "--dev_fraction=0.3", "--seed=7")
  assert result.returncode == 0, result.stderr
  train_lines, dev_lines = (manifests.data_lines(train),
                            manifests.data_lines(dev))
  assert len(dev_lines) == 1
  assert sorted(train_lines + dev_lines) == sorted([a_lines[0]] + b_lines)
  assert result.stdout == "%s: 2 rows, 2 speakers; %s: 1 rows, 1 speakers\n" % (
      train, dev)

  result = _run("stats", a, b)
  assert result.returncode == 0, result.stderr
  assert result.stdout.split("\n") == [
      "%s: 2 utterances, 0.01 hours (30 s), 1 speakers" % a,
      "  every character is in the vocabulary",
      "%s: 2 utterances, 0.00 hours (2 s), 2 speakers" % b,
      "  1 utterances with characters outside the vocabulary: 'Ü' x1",
      "total: 4 utterances, 0.01 hours (32 s), 3 speakers",
      "  1 utterances with characters outside the vocabulary: 'Ü' x1", ""]


def test_stats_counts_against_the_given_vocabulary(tmp_path, two_manifests):
  _, b, _, _ = two_manifests
  vocab = tmp_path / "vocab.txt"
  # Tokens: Ü b e r n o t h i g, and the blank last.
  vocab.write_text("".join(c + "\n" for c in "Übernothig_"),
                   encoding="utf-8")
  result = _run("stats", b, "--vocabulary=%s" % vocab)
  assert result.returncode == 0, result.stderr
  assert result.stdout.split("\n")[1] == "  every character is in the vocabulary"


@pytest.mark.parametrize("args, code, message", [
    (["filter", "{a}", "--max_audio_sec=27", "--output={a}"], 2,
     "refusing to write {a}: it is the input {a}"),
    (["concat", "{a}", "{bad}", "--output={out}"], 1,
     "{bad}:2: bad_columns: expected 3 tab-separated columns, found 1"),
    (["filter", "{a}", "--output={out}"], 2, "filter needs --max_audio_sec"),
    (["filter", "{a}", "--max_audio_sec=0", "--output={out}"], 2,
     "the longest clip must be positive, got 0.0"),
    (["split", "{a}", "--train_output={out}", "--dev_output={out}2"], 1,
     "{a}: 1 speaker(s); a split by speaker needs at least two"),
    (["stats", "{a}", "--speaker_regex=("], 2,
     "bad speaker pattern '(': missing ), unterminated subpattern at "
     "position 0"),
    (["stats", "{a}", "--vocabulary={tmp}/nothing.txt"], 1,
     "vocabulary file {tmp}/nothing.txt cannot be used: [Errno 2] No such "
     "file or directory: '{tmp}/nothing.txt'"),
    (["merge", "{a}"], 2, "unknown command 'merge'; expected one of concat, "
     "filter, split, stats"),
    (["concat", "--output={out}"], 2, "concat needs at least one input "
     "manifest"),
    ([], 2, "give a command (concat, filter, split, stats) and input "
     "manifests"),
])
def test_mistakes_are_one_line_and_write_nothing(tmp_path, two_manifests,
                                                 args, code, message):
  a = two_manifests[0]
  bad = tmp_path / "bad.csv"
  bad.write_text("wav_filename\twav_filesize\ttranscript\njust one column\n")
  names = {"a": a, "bad": bad, "out": tmp_path / "out.csv", "tmp": tmp_path}
  before = sorted(os.listdir(tmp_path)), a.read_bytes()
  result = _run(*[arg.format(**names) for arg in args])
  assert (result.returncode, result.stdout, result.stderr) == (
      code, "", "manifest_tool.py: error: %s\n" % message.format(**names))
  assert (sorted(os.listdir(tmp_path)), a.read_bytes()) == before

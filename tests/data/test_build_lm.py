"""Tests for data/build_lm.py, the LM builder CLI (real ARPA files, real
subprocesses)."""

import json
import os

import pytest

from decoding import lm
from tests.helpers import cli
from tests.helpers import lm_text


def test_cli_takes_the_vocabulary_and_policy_of_a_model(tmp_path):
  train = lm_text.write_manifest(tmp_path / "train.csv", ["Große Äpfel", "kleine äpfel",
                                             "Ёлка"])
  arpa = str(tmp_path / "lm.arpa")
  # The default vocabulary (a..z) holds no row of it.
  proc = _build_lm("--manifest=" + train, "--order=2", "--lm_out=" + arpa)
  assert proc.returncode == 2
  assert "0 transcripts (3 rows left out)" in proc.stderr
  vocab = tmp_path / "v.txt"
  vocab.write_text(" \nabcdefgijklmnoprsßäёлк\n-\n", encoding="utf-8")
  proc = _build_lm("--manifest=" + train, "--order=2", "--lm_out=" + arpa,
                   "--vocabulary_file=" + str(vocab))
  assert proc.returncode == 2
  assert proc.stderr.strip().splitlines()[-1].startswith(
      "build_lm.py: error: --vocabulary_file: %s:2: token " % vocab)
  assert not os.path.exists(arpa)
  settings = tmp_path / "deep_speech_features.json"
  settings.write_text(json.dumps({
      "sample_rate": 16000, "window_ms": 20, "stride_ms": 10,
      "speech_labels": " abcdefgijklmnoprsßäёлка-",
      "text_policy": {"unicode_form": "NFC", "strip_accents": False,
                      "lowercase": True}}), encoding="utf-8")
  proc = _build_lm("--manifest=" + train, "--order=2", "--lm_out=" + arpa,
                   "--model_settings=" + str(settings),
                   "--vocabulary_file=" + str(vocab))
  assert proc.returncode == 0, proc.stderr
  assert set(lm.arpa_words(arpa)) == {"große", "kleine", "äpfel", "ёлка"}
  # Capitals kept: the model's labels have none, so only one row fits.
  settings.write_text(settings.read_text(encoding="utf-8").replace(
      '"lowercase": true', '"lowercase": false'), encoding="utf-8")
  proc = _build_lm("--manifest=" + train, "--order=2", "--lm_out=" + arpa,
                   "--model_settings=" + str(settings))
  assert proc.returncode == 0, proc.stderr
  assert set(lm.arpa_words(arpa)) == {"kleine", "äpfel"}
  settings.write_text("{}")
  proc = _build_lm("--manifest=" + train, "--lm_out=" + str(tmp_path / "x"),
                   "--model_settings=" + str(settings))
  assert proc.returncode == 2
  assert proc.stderr.strip().splitlines()[-1] == (
      "build_lm.py: error: --model_settings: %s: missing keys sample_rate, "
      "window_ms, stride_ms, speech_labels" % settings)
  assert not os.path.exists(tmp_path / "x")


def _build_lm(*args):
  return cli.run_script("data/build_lm.py", *args)


def test_cli_drops_the_evaluation_sentences_and_writes_words(tmp_path):
  train = lm_text.write_manifest(tmp_path / "train.csv", lm_text.SENTENCES + ["the owl flew"])
  dev = lm_text.write_manifest(tmp_path / "dev.csv", ["the owl flew", "a bat flew"])
  arpa, words = str(tmp_path / "lm.arpa"), str(tmp_path / "words.txt")
  proc = _build_lm("--manifest=" + train, "--exclude_manifest=" + dev,
                   "--order=3", "--lm_out=" + arpa, "--vocab_out=" + words)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "Dropped 1 sentences" in proc.stderr
  ngrams = lm_text.arpa_ngrams(arpa)
  assert ("owl",) not in ngrams and ("flew",) not in ngrams
  assert ("the", "cat", "sat") in ngrams
  vocab = open(words).read().split()
  assert vocab[0] == "the" and "owl" not in vocab and "fish" in vocab


def test_cli_drops_the_sentences_of_every_dev_set(tmp_path):
  # A run with two dev sets (synthesized and real speech) keeps both out.
  train = lm_text.write_manifest(tmp_path / "train.csv",
                    lm_text.SENTENCES + ["the owl flew", "a bat sang"])
  dev = lm_text.write_manifest(tmp_path / "dev.csv", ["the owl flew"])
  real_dev = lm_text.write_manifest(tmp_path / "real-dev.csv", ["a bat sang"])
  arpa = str(tmp_path / "lm.arpa")
  proc = _build_lm("--manifest=" + train, "--exclude_manifest=" + dev,
                   "--exclude_manifest=" + real_dev, "--order=3",
                   "--lm_out=" + arpa)
  assert proc.returncode == 0, proc.stderr[-3000:]
  ngrams = lm_text.arpa_ngrams(arpa)
  assert ("owl",) not in ngrams and ("sang",) not in ngrams
  assert ("the", "cat", "sat") in ngrams
  proc = _build_lm("--manifest=" + real_dev, "--exclude_manifest=" + dev,
                   "--exclude_manifest=" + real_dev, "--lm_out=" + arpa)
  assert proc.returncode == 2
  assert "real-dev.csv is the evaluation manifest" in proc.stderr


def test_cli_refuses_the_evaluation_manifest_as_source(tmp_path):
  dev = lm_text.write_manifest(tmp_path / "dev.csv", lm_text.SENTENCES)
  text = tmp_path / "extra.txt"
  text.write_text("the owl flew\n")
  proc = _build_lm("--manifest=" + dev, "--text_file=" + str(text),
                   "--exclude_manifest=" + str(tmp_path / "." / "dev.csv"),
                   "--lm_out=" + str(tmp_path / "lm.arpa"))
  assert proc.returncode == 2
  assert "dev.csv is the evaluation manifest" in proc.stderr
  assert not os.path.exists(tmp_path / "lm.arpa")
  proc = _build_lm("--lm_out=" + str(tmp_path / "lm.arpa"))
  assert proc.returncode == 2 and "--manifest, --text_file or --synthesis_text" in proc.stderr
  proc = _build_lm("--manifest=" + str(tmp_path / "none.csv"),
                   "--lm_out=" + str(tmp_path / "lm.arpa"))
  assert proc.returncode == 2 and "manifest not found" in proc.stderr


@pytest.mark.parametrize("link", ["same", "symlink", "hardlink"])
def test_cli_refuses_an_output_that_is_an_input(tmp_path, link):
  train = lm_text.write_manifest(tmp_path / "train.csv", lm_text.SENTENCES)
  before = open(train, "rb").read()
  out = str(tmp_path / "lm.arpa")
  if link == "same":
    out = train
  elif link == "symlink":
    os.symlink(train, out)
  else:
    os.link(train, out)
  proc = _build_lm("--manifest=" + train, "--order=2", "--lm_out=" + out)
  assert proc.returncode == 2
  assert proc.stderr.splitlines()[-1] == (
      "build_lm.py: error: --lm_out %s is the same file as --manifest %s; "
      "writing it would destroy that input. Choose another --lm_out."
      % (out, train))
  assert open(train, "rb").read() == before


def test_cli_builds_a_character_lm(tmp_path):
  train = lm_text.write_manifest(tmp_path / "train.csv", lm_text.SENTENCES)
  arpa = str(tmp_path / "char.arpa")
  proc = _build_lm("--manifest=" + train, "--unit=char", "--order=6",
                   "--lm_out=" + arpa)
  assert proc.returncode == 0, proc.stderr[-3000:]
  ngrams = lm_text.arpa_ngrams(arpa)
  assert ("c", "a", "t", "|", "s", "a") in ngrams
  assert ("cat",) not in ngrams


def test_cli_learns_the_synthesis_text_less_the_dev_sentences(tmp_path):
  from data.synthesis import text as synthesis_text  # pylint: disable=g-import-not-at-top
  pool = [lm.normalize(s) for s in
          synthesis_text.load_sentences(use_dictionary=False)]
  train = lm_text.write_manifest(tmp_path / "train.csv", lm_text.SENTENCES)
  dev = lm_text.write_manifest(tmp_path / "dev.csv", pool[:1])
  arpa, words = str(tmp_path / "lm.arpa"), str(tmp_path / "words.txt")
  proc = _build_lm("--manifest=" + train, "--synthesis_text",
                   "--exclude_manifest=" + dev, "--order=2",
                   "--lm_out=" + arpa, "--vocab_out=" + words)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "Dropped 1 sentences" in proc.stderr
  vocab = set(open(words).read().split())
  pool_words = {w for s in pool[1:] for w in s.split()}
  assert len(vocab) > len(pool_words) // 2 and "fish" in vocab

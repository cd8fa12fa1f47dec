"""Tests for decoding/lm.py and its CLI data/build_lm.py (real ARPA files)."""

import json
import os
import sys

import pytest

from decoding import lm
from data import manifest
from data import text_normalization
from tests.helpers import cli
from tests.helpers import durability

SENTENCES = ["the cat sat on the mat", "the dog sat on the log",
             "a cat and a dog", "the cat ate the fish"]


def _manifest(path, transcripts):
  rows = ["\t".join(manifest.HEADER)] + [
      "/data/u%d.wav\t1000\t%s" % (i, t) for i, t in enumerate(transcripts)]
  path.write_text("\n".join(rows) + "\n")
  return str(path)


def _arpa_ngrams(path):
  """The n-grams of an ARPA file's sections, as a set of word tuples."""
  ngrams, section = set(), False
  for line in open(path):
    line = line.rstrip("\n")
    if line.endswith("-grams:"):
      section = True
    elif section and line and not line.startswith("\\"):
      ngrams.add(tuple(line.split("\t")[1].split()))
  return ngrams


def test_build_arpa_loads_in_kenlm_and_prefers_seen_text(tmp_path):
  path = str(tmp_path / "3gram.arpa")
  counts = lm.build_arpa(SENTENCES, 3, path)
  assert [n for n, _ in counts] == [1, 2, 3] and all(c > 0 for _, c in counts)
  assert set(lm.arpa_words(path)) == {w for s in SENTENCES for w in s.split()}
  from flashlight.lib.text.decoder import kenlm  # pylint: disable=g-import-not-at-top
  from flashlight.lib.text import dictionary  # pylint: disable=g-import-not-at-top
  words = dictionary.create_word_dict(
      {w: [list(w)] for w in lm.arpa_words(path) + ["<unk>"]})
  model = kenlm.KenLM(path, words)

  def score(sentence):
    state, total = model.start(False), 0.0
    for word in sentence.split():
      state, s = model.score(state, words.get_index(word))
      total += s
    return total + model.finish(state)[1]
  assert score("the cat sat on the mat") > score("mat the on sat cat the")


def test_count_cutoffs_and_pruning_shrink_the_model(tmp_path):
  full = dict(lm.build_arpa(SENTENCES * 2 + ["the cat sat"], 3,
                            str(tmp_path / "full.arpa")))
  cut = dict(lm.build_arpa(SENTENCES * 2 + ["the cat sat"], 3,
                           str(tmp_path / "cut.arpa"), min_counts=[0, 0, 3]))
  assert cut[3] < full[3]
  pruned = dict(lm.build_arpa(SENTENCES * 2 + ["the cat sat"], 3,
                              str(tmp_path / "pruned.arpa"),
                              prune_threshold=0.05))
  assert pruned[3] < full[3]
  with pytest.raises(lm.LmError, match="removed every [23]-gram"):
    lm.build_arpa(SENTENCES, 3, str(tmp_path / "gone.arpa"),
                  prune_threshold=0.9)
  assert not os.path.exists(tmp_path / "gone.arpa")


def test_build_arpa_rejects_bad_requests(tmp_path):
  with pytest.raises(lm.LmError, match="no sentences"):
    lm.build_arpa([], 3, str(tmp_path / "x.arpa"))
  with pytest.raises(lm.LmError, match="1..5"):
    lm.build_arpa(SENTENCES, 6, str(tmp_path / "x.arpa"))
  assert not os.path.exists(tmp_path / "x.arpa")


def test_missing_kaldingram_names_the_pip_line(monkeypatch, tmp_path):
  monkeypatch.setitem(sys.modules, "kaldingram", None)
  with pytest.raises(ImportError, match="pip install kaldingram"):
    lm.build_arpa(SENTENCES, 3, str(tmp_path / "x.arpa"))


def test_text_file_sentences_leave_out_unknown_characters(tmp_path):
  path = tmp_path / "corpus.txt"
  path.write_text("The Cat  SAT\n\nprice: 42 dollars\nit's fine\n")
  sentences, bad = lm.text_file_sentences(str(path))
  assert sentences == ["the cat sat", "it's fine"]
  assert bad == [(3, "price: 42 dollars")]
  path.write_bytes(b"ok\n\xff\xfe\n")
  with pytest.raises(lm.LmError, match="corpus.txt:2: bytes that are not"):
    lm.text_file_sentences(str(path))


def test_sentences_of_another_alphabet_follow_the_text_policy(tmp_path):
  labels = list(" abcdefghijklmnopqrstuvwxyzäöüß-")
  path = tmp_path / "de.txt"
  path.write_text("Große  ÄPFEL\nA\u0308pfel sind süß\nCafé\n",
                  encoding="utf-8")
  sentences, bad = lm.text_file_sentences(str(path), labels)
  assert sentences == ["große äpfel", "äpfel sind süß"]
  assert bad == [(3, "café")]
  stripped = text_normalization.TextPolicy(strip_accents=True)
  sentences, bad = lm.text_file_sentences(str(path), labels, stripped)
  assert sentences == ["große apfel", "apfel sind suß", "cafe"] and not bad
  data = _manifest(tmp_path / "m.csv", ["Die GROSSE Straße", "Ёлка"])
  assert lm.manifest_sentences(data, labels) == (
      ["die grosse straße"], [manifest.Skipped(
          data, 3, "unknown_character",
          "characters not in the vocabulary: 'а', 'к', 'л', 'ё' in "
          "'ёлка'")])


def test_cli_takes_the_vocabulary_and_policy_of_a_model(tmp_path):
  train = _manifest(tmp_path / "train.csv", ["Große Äpfel", "kleine äpfel",
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
  train = _manifest(tmp_path / "train.csv", SENTENCES + ["the owl flew"])
  dev = _manifest(tmp_path / "dev.csv", ["the owl flew", "a bat flew"])
  arpa, words = str(tmp_path / "lm.arpa"), str(tmp_path / "words.txt")
  proc = _build_lm("--manifest=" + train, "--exclude_manifest=" + dev,
                   "--order=3", "--lm_out=" + arpa, "--vocab_out=" + words)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "Dropped 1 sentences" in proc.stderr
  ngrams = _arpa_ngrams(arpa)
  assert ("owl",) not in ngrams and ("flew",) not in ngrams
  assert ("the", "cat", "sat") in ngrams
  vocab = open(words).read().split()
  assert vocab[0] == "the" and "owl" not in vocab and "fish" in vocab


def test_cli_drops_the_sentences_of_every_dev_set(tmp_path):
  # A run with two dev sets (synthesized and real speech) keeps both out.
  train = _manifest(tmp_path / "train.csv",
                    SENTENCES + ["the owl flew", "a bat sang"])
  dev = _manifest(tmp_path / "dev.csv", ["the owl flew"])
  real_dev = _manifest(tmp_path / "real-dev.csv", ["a bat sang"])
  arpa = str(tmp_path / "lm.arpa")
  proc = _build_lm("--manifest=" + train, "--exclude_manifest=" + dev,
                   "--exclude_manifest=" + real_dev, "--order=3",
                   "--lm_out=" + arpa)
  assert proc.returncode == 0, proc.stderr[-3000:]
  ngrams = _arpa_ngrams(arpa)
  assert ("owl",) not in ngrams and ("sang",) not in ngrams
  assert ("the", "cat", "sat") in ngrams
  proc = _build_lm("--manifest=" + real_dev, "--exclude_manifest=" + dev,
                   "--exclude_manifest=" + real_dev, "--lm_out=" + arpa)
  assert proc.returncode == 2
  assert "real-dev.csv is the evaluation manifest" in proc.stderr


def test_cli_refuses_the_evaluation_manifest_as_source(tmp_path):
  dev = _manifest(tmp_path / "dev.csv", SENTENCES)
  text = tmp_path / "extra.txt"
  text.write_text("the owl flew\n")
  proc = _build_lm("--manifest=" + dev, "--text_file=" + str(text),
                   "--exclude_manifest=" + str(tmp_path / "." / "dev.csv"),
                   "--lm_out=" + str(tmp_path / "lm.arpa"))
  assert proc.returncode == 2
  assert "dev.csv is the evaluation manifest" in proc.stderr
  assert not os.path.exists(tmp_path / "lm.arpa")
  proc = _build_lm("--lm_out=" + str(tmp_path / "lm.arpa"))
  assert proc.returncode == 2 and "--manifest or --text_file" in proc.stderr
  proc = _build_lm("--manifest=" + str(tmp_path / "none.csv"),
                   "--lm_out=" + str(tmp_path / "lm.arpa"))
  assert proc.returncode == 2 and "manifest not found" in proc.stderr


def test_pruning_happens_before_the_model_takes_its_name(tmp_path,
                                                         monkeypatch):
  path = str(tmp_path / "lm.arpa")
  lm.build_arpa(SENTENCES, 2, path)
  before = open(path, "rb").read()
  # A failed pruning leaves the older model, not an unpruned one or nothing.
  with pytest.raises(lm.LmError, match="removed every [23]-gram"):
    lm.build_arpa(SENTENCES, 3, path, prune_threshold=0.9)
  assert open(path, "rb").read() == before
  assert os.listdir(str(tmp_path)) == ["lm.arpa"]
  synced = durability.record_fsyncs(monkeypatch)
  counts = dict(lm.build_arpa(SENTENCES * 2 + ["the cat sat"], 3, path,
                              prune_threshold=0.05))
  assert durability.durably_renamed(synced, path)
  assert dict(lm.arpa_counts(path)) == counts
  assert os.listdir(str(tmp_path)) == ["lm.arpa"]


@pytest.mark.parametrize("link", ["same", "symlink", "hardlink"])
def test_cli_refuses_an_output_that_is_an_input(tmp_path, link):
  train = _manifest(tmp_path / "train.csv", SENTENCES)
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

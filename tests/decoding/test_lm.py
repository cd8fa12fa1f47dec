"""Tests for decoding/lm.py: building and reading real ARPA files."""

import os
import sys

import pytest

from data import manifest
from data import text_normalization
from decoding import lm
from tests.helpers import durability
from tests.helpers import lm_text


def test_build_arpa_loads_in_kenlm_and_prefers_seen_text(tmp_path):
  path = str(tmp_path / "3gram.arpa")
  counts = lm.build_arpa(lm_text.SENTENCES, 3, path)
  assert [n for n, _ in counts] == [1, 2, 3] and all(c > 0 for _, c in counts)
  assert set(lm.arpa_words(path)) == {w for s in lm_text.SENTENCES for w in s.split()}
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
  full = dict(lm.build_arpa(lm_text.SENTENCES * 2 + ["the cat sat"], 3,
                            str(tmp_path / "full.arpa")))
  cut = dict(lm.build_arpa(lm_text.SENTENCES * 2 + ["the cat sat"], 3,
                           str(tmp_path / "cut.arpa"), min_counts=[0, 0, 3]))
  assert cut[3] < full[3]
  pruned = dict(lm.build_arpa(lm_text.SENTENCES * 2 + ["the cat sat"], 3,
                              str(tmp_path / "pruned.arpa"),
                              prune_threshold=0.05))
  assert pruned[3] < full[3]
  with pytest.raises(lm.LmError, match="removed every [23]-gram"):
    lm.build_arpa(lm_text.SENTENCES, 3, str(tmp_path / "gone.arpa"),
                  prune_threshold=0.9)
  assert not os.path.exists(tmp_path / "gone.arpa")


def test_build_arpa_rejects_bad_requests(tmp_path):
  with pytest.raises(lm.LmError, match="no sentences"):
    lm.build_arpa([], 3, str(tmp_path / "x.arpa"))
  with pytest.raises(lm.LmError, match="1..6"):
    lm.build_arpa(lm_text.SENTENCES, 7, str(tmp_path / "x.arpa"))
  assert not os.path.exists(tmp_path / "x.arpa")


def test_missing_kaldingram_names_the_pip_line(monkeypatch, tmp_path):
  monkeypatch.setitem(sys.modules, "kaldingram", None)
  with pytest.raises(ImportError, match="pip install kaldingram"):
    lm.build_arpa(lm_text.SENTENCES, 3, str(tmp_path / "x.arpa"))


def test_read_lexicon_takes_first_fields(tmp_path):
  path = tmp_path / "lexicon.txt"
  path.write_text("HELLO HH AH L OW\nworld\n\nhello\n")
  assert lm.read_lexicon(str(path)) == ["HELLO", "world", "hello"]
  (tmp_path / "empty.txt").write_text("\n")
  with pytest.raises(ValueError, match="holds no word"):
    lm.read_lexicon(str(tmp_path / "empty.txt"))


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
  data = lm_text.write_manifest(tmp_path / "m.csv", ["Die GROSSE Straße", "Ёлка"])
  assert lm.manifest_sentences(data, labels) == (
      ["die grosse straße"], [manifest.Skipped(
          data, 3, "unknown_character",
          "characters not in the vocabulary: 'а', 'к', 'л', 'ё' in "
          "'ёлка'")])


def test_pruning_happens_before_the_model_takes_its_name(tmp_path,
                                                         monkeypatch):
  path = str(tmp_path / "lm.arpa")
  lm.build_arpa(lm_text.SENTENCES, 2, path)
  before = open(path, "rb").read()
  # A failed pruning leaves the older model, not an unpruned one or nothing.
  with pytest.raises(lm.LmError, match="removed every [23]-gram"):
    lm.build_arpa(lm_text.SENTENCES, 3, path, prune_threshold=0.9)
  assert open(path, "rb").read() == before
  assert os.listdir(str(tmp_path)) == ["lm.arpa"]
  synced = durability.record_fsyncs(monkeypatch)
  counts = dict(lm.build_arpa(lm_text.SENTENCES * 2 + ["the cat sat"], 3, path,
                              prune_threshold=0.05))
  assert durability.durably_renamed(synced, path)
  assert dict(lm.arpa_counts(path)) == counts
  assert os.listdir(str(tmp_path)) == ["lm.arpa"]

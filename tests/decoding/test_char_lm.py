"""Character n-gram LMs in the lexicon-free beam search (real flashlight,
real KenLM, ARPA files built by kaldingram)."""

import numpy as np
import pytest

import decoder
from decoding import char_lm
from decoding import lm
from tests.decoding import test_beam_search as beam_tests

LABELS = beam_tests.LABELS
SENTENCES = beam_tests.SENTENCES


@pytest.fixture(scope="module")
def lm_files(tmp_path_factory):
  folder = tmp_path_factory.mktemp("charlm")
  chars, words = str(folder / "char5.arpa"), str(folder / "word3.arpa")
  lm.build_arpa([char_lm.to_units(s) for s in SENTENCES * 3], 5, chars)
  lm.build_arpa(SENTENCES, 3, words)
  return chars, words


def _clear(text):
  """Frames that spell `text` with no doubt (a blank after each label)."""
  frames = []
  for char in text:
    frames += [(char, None, 0.0), ("-", None, 0.0)]
  return frames


def test_units_mark_the_word_boundary():
  assert char_lm.to_units(" the  cat ") == "t h e | c a t"


def test_the_kind_of_lm_is_told_from_its_unigrams(lm_files, tmp_path):
  chars, words = lm_files
  assert char_lm.is_character_lm(chars)
  assert not char_lm.is_character_lm(words)
  binary = tmp_path / "lm.bin"
  binary.write_bytes(lm.KENLM_BINARY_MAGIC + b"\0" * 64)
  assert not char_lm.is_character_lm(str(binary))


def test_a_character_lm_corrects_a_letter_and_keeps_unseen_words(lm_files):
  chars, words = lm_files
  probs = beam_tests._misspelt_cat()  # pylint: disable=protected-access
  lengths = [probs.shape[1]]
  with_chars = decoder.make_decoder("beam", LABELS, beam_width=20,
                                    lm_path=chars, alpha=1.0, beta=0.0)
  assert with_chars.decode_batch(probs, lengths) == ["the cat sat"]
  # "cot" is in no sentence: a word LM can only turn it into a word it
  # knows, the character LM leaves what was clearly said.
  unseen = beam_tests._spell(_clear("the cot sat"))[np.newaxis]  # pylint: disable=protected-access
  lengths = [unseen.shape[1]]
  with_words = decoder.make_decoder("beam", LABELS, beam_width=20,
                                    lm_path=words, alpha=1.0, beta=0.5)
  assert with_words.decode_batch(unseen, lengths) != ["the cot sat"]
  assert with_chars.decode_batch(unseen, lengths) == ["the cot sat"]


def test_weights_reweight_the_character_search(lm_files):
  chars, _ = lm_files
  probs = beam_tests._misspelt_cat()  # pylint: disable=protected-access
  lengths = [probs.shape[1]]
  with_chars = decoder.make_decoder("beam", LABELS, beam_width=20,
                                    lm_path=chars, alpha=1.0)
  off = with_chars.with_weights(0.0, 0.0)
  assert off.decode_batch(probs, lengths) == ["the cet sat"]
  assert with_chars.decode_batch(probs, lengths) == ["the cat sat"]
  # A large word bonus inserts spaces; a large penalty removes them.
  merged = with_chars.with_weights(1.0, -50.0).decode_batch(probs, lengths)
  assert " " not in merged[0]


def test_a_character_search_fed_in_pieces_ends_as_decode_batch(lm_files):
  chars, _ = lm_files
  probs, lengths = beam_tests._random_batch(7, batch=1, frames=60)  # pylint: disable=protected-access
  search = decoder.make_decoder("beam", LABELS, beam_width=16, lm_path=chars,
                                alpha=0.8, beta=0.5)
  whole = search.decode_batch(probs, lengths)[0]
  stream = search.begin()
  for start in range(0, lengths[0], 7):
    stream.step(probs[0, start:min(start + 7, lengths[0])])
  assert stream.finish() == whole


def test_a_lexicon_or_another_alphabet_is_refused(lm_files, tmp_path):
  chars, _ = lm_files
  words = tmp_path / "words.txt"
  words.write_text("cat\n")
  with pytest.raises(ValueError, match="character LM.*takes no lexicon"):
    decoder.make_decoder("beam", LABELS, lm_path=chars, lexicon=str(words))
  other = str(tmp_path / "other.arpa")
  lm.build_arpa([char_lm.to_units("große äpfel")], 3, other)
  with pytest.raises(lm.LmError, match=r"other\.arpa is a character LM of "
                     "another alphabet"):
    decoder.make_decoder("beam", LABELS, lm_path=other)
  with pytest.raises(lm.LmError, match="labels hold '\\|'"):
    decoder.make_decoder("beam", " ab|-", lm_path=chars)

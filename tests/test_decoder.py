"""Tests for decoder.py: greedy CTC decoding and its edit distances.

nltk's edit_distance, used the way the original Deep Speech code used it, is
the reference the rapidfuzz-based scoring must reproduce exactly.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import itertools
import random

from nltk.metrics import distance
import numpy as np
import pytest

import decoder
from tests.decoding import test_scoring

# The 29 labels of data/vocabulary.txt: space, a-z, apostrophe, and "-" in the
# blank's slot (index 28).
LABELS = " abcdefghijklmnopqrstuvwxyz'-"
BLANK = 28
NUM_CLASSES = len(LABELS)


def _frames(text):
  """Class indexes for a frame-by-frame spelling; "-" is the blank."""
  return [LABELS.index(c) for c in text]


def _probs(classes, num_classes=NUM_CLASSES):
  """A [time, num_classes] matrix whose per-frame argmax is `classes`."""
  probs = np.full((len(classes), num_classes), 0.1 / num_classes,
                  dtype=np.float32)
  probs[np.arange(len(classes)), classes] = 0.9
  return probs


def _random_probs(rng, batch, num_frames):
  """Random [batch, time, classes] probabilities, blank-heavy like CTC."""
  logits = rng.normal(size=(batch, num_frames, NUM_CLASSES))
  # Few distinct classes per frame and a strong blank make runs of repeats
  # and blanks between them, the cases greedy decoding must get right.
  logits[..., BLANK] += 1.5
  logits[..., 6:] -= 2.0
  return logits.astype(np.float32)


def _seed_greedy(logits):
  """The original greedy decoder: argmax, groupby, drop blanks."""
  best = list(np.argmax(logits, axis=1))
  merged = [k for k, _ in itertools.groupby(best)]
  return "".join(LABELS[k] for k in merged if k != BLANK)


@pytest.fixture
def greedy():
  return decoder.DeepSpeechDecoder(LABELS)


def test_decoder_attributes(greedy):
  assert greedy.labels == LABELS
  assert greedy.blank_index == 28
  assert greedy.int_to_char[0] == " "
  assert greedy.int_to_char[1] == "a"
  assert greedy.int_to_char[27] == "'"
  assert len(greedy.int_to_char) == NUM_CLASSES


def test_convert_to_string(greedy):
  assert greedy.convert_to_string([8, 9, 0, 20, 8, 5, 18, 5]) == "hi there"
  assert greedy.convert_to_string(np.array([4, 15, 14, 27, 20])) == "don't"
  assert greedy.convert_to_string([]) == ""


def test_decode_merges_repeats_and_drops_blanks(greedy):
  assert greedy.decode(_probs(_frames("cc-aaa-tt--"))) == "cat"
  assert greedy.decode(_probs(_frames("--h-ee--  -ii"))) == "he i"


def test_decode_needs_blank_between_double_letters(greedy):
  assert greedy.decode(_probs(_frames("aaa"))) == "a"
  assert greedy.decode(_probs(_frames("aa-a"))) == "aa"
  assert greedy.decode(_probs(_frames("bo-oo-k"))) == "book"
  assert greedy.decode(_probs(_frames("booook"))) == "bok"


def test_decode_stops_at_length(greedy):
  probs = _probs(_frames("hh-i-") + _frames("xyz"))
  assert greedy.decode(probs, length=5) == "hi"
  assert greedy.decode(probs) == "hixyz"
  # Zero-padded frames argmax to class 0, the space: decoding them (as the
  # original did) appended a junk space to every padded utterance.
  padded = np.concatenate([_probs(_frames("hi")), np.zeros((4, NUM_CLASSES))])
  assert greedy.decode(padded) == "hi "
  assert greedy.decode(padded, length=2) == "hi"
  assert greedy.decode(padded, length=0) == ""


def test_decode_rejects_bad_length(greedy):
  probs = _probs(_frames("abc"))
  with pytest.raises(ValueError):
    greedy.decode(probs, length=4)
  with pytest.raises(ValueError):
    greedy.decode(probs, length=-1)


def test_decode_batch_hand_built(greedy):
  short = _frames("ok-")
  long_ = _frames("gg-oo-o-d")
  probs = np.zeros((2, len(long_), NUM_CLASSES), dtype=np.float32)
  probs[0, :len(short)] = _probs(short)
  probs[1] = _probs(long_)
  # Without the length cut the padded row would gain a space.
  assert greedy.decode_batch(probs, [len(short), len(long_)]) == [
      "ok", "good"]
  assert greedy.decode_batch(probs, np.array([0, 2])) == ["", "g"]


@pytest.mark.parametrize("seed", range(5))
def test_decode_batch_matches_decode(greedy, seed):
  rng = np.random.RandomState(seed)
  batch, num_frames = rng.randint(1, 12), rng.randint(1, 80)
  probs = _random_probs(rng, batch, num_frames)
  lengths = rng.randint(0, num_frames + 1, size=batch)
  lengths[0] = num_frames  # At least one row uses every frame.
  got = greedy.decode_batch(probs, lengths)
  assert got == [greedy.decode(p, n) for p, n in zip(probs, lengths)]
  # And both agree with the original algorithm run on the real frames.
  assert got == [_seed_greedy(p[:n]) for p, n in zip(probs, lengths)]
  assert any(got)  # Guard against a generator that decodes to nothing.


@pytest.mark.parametrize("chunk", [1, 3, 80])
def test_begin_decodes_pieces_as_decode_batch_decodes_the_whole(greedy,
                                                                chunk):
  rng = np.random.RandomState(chunk)
  probs = _random_probs(rng, 1, 80)[0]
  # A repeat across a piece boundary stays merged, a blank between keeps two.
  probs[10:12] = _probs(_frames("aa"))
  probs[20:23] = _probs(_frames("a-a"))
  decode = greedy.begin()
  partials = []
  for start in range(0, 80, chunk):
    decode.step(probs[start:start + chunk])
    partials.append(decode.partial())
  (whole,) = greedy.decode_batch(probs[np.newaxis], [80])
  assert decode.finish() == whole and whole
  assert partials[-1] == whole and all(whole.startswith(p) for p in partials)
  with pytest.raises(ValueError, match="finished"):
    decode.step(probs[:1])


def test_decode_batch_empty_batch(greedy):
  assert greedy.decode_batch(np.zeros((0, 5, NUM_CLASSES)), []) == []


def test_decode_batch_rejects_bad_input(greedy):
  probs = np.zeros((2, 5, NUM_CLASSES))
  with pytest.raises(ValueError):
    greedy.decode_batch(probs, [5, 6])
  with pytest.raises(ValueError):
    greedy.decode_batch(probs, [5, -1])
  with pytest.raises(ValueError):
    greedy.decode_batch(probs, [5])
  with pytest.raises(ValueError):
    greedy.decode_batch(probs[0], [5])


def test_wer_cer_match_nltk_on_random_pairs(greedy):
  rng = random.Random(0)
  pairs = [(test_scoring.random_sentence(rng, 8), test_scoring.random_sentence(rng, 8))
           for _ in range(300)]
  pairs += [("", test_scoring.random_sentence(rng, 8)) for _ in range(20)]
  pairs += [(s, s) for s in (test_scoring.random_sentence(rng, 8) for _ in range(20))]
  for hyp, ref in pairs:
    assert greedy.wer(hyp, ref) == test_scoring.seed_word_distance(
        hyp, ref), (hyp, ref)
    assert greedy.cer(hyp, ref) == distance.edit_distance(hyp, ref), (hyp, ref)


SENTENCE_PAIRS = [
    # (decoded, reference, word distance, char distance)
    ("the cat sat on the mat", "the cat sat on the mat", 0, 0),
    ("the cat sat on mat", "the cat sat on the mat", 1, 4),
    ("a cat sat on the hat", "the cat sat on the mat", 2, 4),
    ("he cat sat on the mat today", "the cat sat on the mat", 2, 7),
    ("", "chapter one missus rachel lynde is surprised", 7, 44),
    # won->one 2, mrs->missus 4, lind->lynde 2, surprized->surprised 1.
    ("chapter won mrs rachel lind is surprized",
     "chapter one missus rachel lynde is surprised", 4, 9),
    ("don't stop me now", "dont stop me now", 1, 1),
    ("stop me now don't", "don't stop me now", 2, 12),
    ("  extra   spaces here ", "extra spaces here", 0, 5),
]


@pytest.mark.parametrize("hyp,ref,words,chars", SENTENCE_PAIRS)
def test_wer_cer_on_sentences(greedy, hyp, ref, words, chars):
  assert greedy.wer(hyp, ref) == words == test_scoring.seed_word_distance(
      hyp, ref)
  assert greedy.cer(hyp, ref) == chars == distance.edit_distance(hyp, ref)

def test_make_decoder_greedy_is_the_seed_decoder():
  greedy = decoder.make_decoder("greedy", LABELS)
  assert isinstance(greedy, decoder.DeepSpeechDecoder)
  assert greedy.blank_index == BLANK
  with pytest.raises(ValueError, match="needs the beam decoder"):
    decoder.make_decoder("greedy", LABELS, lm_path="x.arpa")
  with pytest.raises(ValueError, match="unknown decoder 'viterbi'"):
    decoder.make_decoder("viterbi", LABELS)

"""Tests for decoder.py: greedy CTC decoding and WER/CER scoring.

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


def _seed_wer(decode, target):
  """The original word distance: words mapped to chr() codes, nltk."""
  words = set(decode.split() + target.split())
  word2char = dict(zip(words, range(len(words))))
  new_decode = "".join(chr(word2char[w]) for w in decode.split())
  new_target = "".join(chr(word2char[w]) for w in target.split())
  return distance.edit_distance(new_decode, new_target)


def _seed_rates(decoded, targets):
  """The original evaluate_model arithmetic: mean per-utterance WER/CER."""
  total_wer, total_cer = 0, 0
  for hyp, ref in zip(decoded, targets):
    total_cer += distance.edit_distance(hyp, ref) / float(len(ref))
    total_wer += _seed_wer(hyp, ref) / float(len(ref.split()))
  return total_wer / len(targets), total_cer / len(targets)


def _random_sentence(rng, max_words):
  # Words from a two-letter alphabet collide often, so substitutions of one
  # word by an equal-looking one and repeated words are well exercised.
  return " ".join("".join(rng.choice("ab") for _ in range(rng.randint(1, 3)))
                  for _ in range(rng.randint(0, max_words)))


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
  pairs = [(_random_sentence(rng, 8), _random_sentence(rng, 8))
           for _ in range(300)]
  pairs += [("", _random_sentence(rng, 8)) for _ in range(20)]
  pairs += [(s, s) for s in (_random_sentence(rng, 8) for _ in range(20))]
  for hyp, ref in pairs:
    assert greedy.wer(hyp, ref) == _seed_wer(hyp, ref), (hyp, ref)
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
  assert greedy.wer(hyp, ref) == words == _seed_wer(hyp, ref)
  assert greedy.cer(hyp, ref) == chars == distance.edit_distance(hyp, ref)


def test_compute_error_rates_hand_computed():
  decoded = ["the cat sat", "a dog", "hello world"]
  targets = ["the cat sat on the mat", "the dog", "hello world"]
  # Word distances 3, 1, 0 over 6, 2, 2 words; char distances 11, 3, 0 over
  # 22, 7, 11 characters.
  rates = decoder.compute_error_rates(decoded, targets)
  assert rates["WER"] == pytest.approx((3 / 6 + 1 / 2 + 0 / 2) / 3)
  assert rates["CER"] == pytest.approx((11 / 22 + 3 / 7 + 0 / 11) / 3)
  # Corpus rates weigh each utterance by its length, so they differ.
  assert rates["corpus_WER"] == pytest.approx(4 / 10)
  assert rates["corpus_CER"] == pytest.approx(14 / 40)
  assert (rates["word_errors"], rates["ref_words"]) == (4, 10)
  assert (rates["char_errors"], rates["ref_chars"]) == (14, 40)
  assert rates["utts"] == 3


def test_compute_error_rates_matches_seed_loop():
  rng = random.Random(1)
  targets = [_random_sentence(rng, 20) or "a" for _ in range(200)]
  decoded = [_random_sentence(rng, 20) for _ in range(200)]
  rates = decoder.compute_error_rates(decoded, targets)
  seed_wer, seed_cer = _seed_rates(decoded, targets)
  # Same float operations in the same order: bit-for-bit equal.
  assert rates["WER"] == seed_wer
  assert rates["CER"] == seed_cer
  assert rates["word_errors"] == sum(
      _seed_wer(h, r) for h, r in zip(decoded, targets))
  assert rates["corpus_CER"] == sum(
      distance.edit_distance(h, r) for h, r in zip(decoded, targets)) / float(
          sum(len(r) for r in targets))


def test_compute_error_rates_perfect_and_empty_hypothesis():
  targets = ["one two three", "four"]
  assert decoder.compute_error_rates(targets, targets)["WER"] == 0.0
  rates = decoder.compute_error_rates(["", ""], targets)
  assert rates["WER"] == 1.0
  assert rates["CER"] == 1.0
  assert rates["corpus_WER"] == 1.0


@pytest.mark.parametrize("empty", ["", "   "])
def test_compute_error_rates_rejects_empty_reference(empty):
  with pytest.raises(ValueError, match="utterance 1"):
    decoder.compute_error_rates(["a", "b", "c"], ["a", empty, "c"])


def test_compute_error_rates_rejects_mismatched_lists():
  with pytest.raises(ValueError, match="2 decoded .* 3 references"):
    decoder.compute_error_rates(["a", "b"], ["a", "b", "c"])
  with pytest.raises(ValueError):
    decoder.compute_error_rates([], [])


def test_error_breakdown_sums_to_the_edit_distance():
  rng = random.Random(3)
  from rapidfuzz.distance import Levenshtein  # pylint: disable=g-import-not-at-top
  pairs = [(_random_sentence(rng, 8), _random_sentence(rng, 8) or "a")
           for _ in range(300)]
  decoded, targets = zip(*pairs)
  breakdown = decoder.compute_error_breakdown(list(decoded), list(targets))
  for (hyp, ref), entry in zip(pairs, breakdown["utterances"]):
    assert entry["reference"] == ref and entry["hypothesis"] == hyp
    words, chars = entry["words"], entry["chars"]
    assert (words["substitutions"] + words["deletions"] +
            words["insertions"]) == Levenshtein.distance(hyp.split(),
                                                         ref.split())
    assert (chars["substitutions"] + chars["deletions"] +
            chars["insertions"]) == Levenshtein.distance(hyp, ref)
  rates = decoder.compute_error_rates(list(decoded), list(targets))
  assert breakdown["words"]["errors"] == rates["word_errors"]
  assert breakdown["chars"]["errors"] == rates["char_errors"]
  assert breakdown["words"]["rate"] == rates["corpus_WER"]
  assert breakdown["chars"]["ref_length"] == rates["ref_chars"]


def test_error_breakdown_hand_counted():
  # "the cat sat" -> "a cat sat down": one substitution, one insertion.
  counts = decoder.error_counts("a cat sat down".split(), "the cat sat".split())
  assert counts == decoder.ErrorCounts(1, 0, 1, 3)
  counts = decoder.error_counts("cat".split(), "the cat sat".split())
  assert counts == decoder.ErrorCounts(0, 2, 0, 3)
  assert decoder.error_counts("kat", "cart") == decoder.ErrorCounts(1, 1, 0, 4)
  with pytest.raises(ValueError, match="2 decoded"):
    decoder.compute_error_breakdown(["a", "b"], ["a"])


def test_make_decoder_greedy_is_the_seed_decoder():
  greedy = decoder.make_decoder("greedy", LABELS)
  assert isinstance(greedy, decoder.DeepSpeechDecoder)
  assert greedy.blank_index == BLANK
  with pytest.raises(ValueError, match="needs the beam decoder"):
    decoder.make_decoder("greedy", LABELS, lm_path="x.arpa")
  with pytest.raises(ValueError, match="unknown decoder 'viterbi'"):
    decoder.make_decoder("viterbi", LABELS)


def test_lm_settings_round_trip(tmp_path):
  path = str(tmp_path / "lm" / "lm_settings.json")
  decoder.write_lm_settings(path, "4gram.arpa", 0.8, 1.5, beam_width=64,
                            lexicon="/abs/words.txt")
  settings = decoder.read_lm_settings(path)
  # A relative LM path is read relative to the settings file.
  assert settings == {"lm_path": str(tmp_path / "lm" / "4gram.arpa"),
                      "alpha": 0.8, "beta": 1.5, "beam_width": 64,
                      "lexicon": "/abs/words.txt"}
  decoder.write_lm_settings(path, "/x/3gram.arpa", 1, 0)
  assert decoder.read_lm_settings(path) == {"lm_path": "/x/3gram.arpa",
                                            "alpha": 1.0, "beta": 0.0}


@pytest.mark.parametrize("text,message", [
    ("{", "cannot read"),
    ("[]", "JSON object"),
    ('{"lm_path": "a", "alpha": 1}', "missing keys beta"),
    ('{"lm_path": "a", "alpha": 1, "beta": 0, "gamma": 2}',
     "unknown keys gamma"),
    ('{"lm_path": "a", "alpha": "1", "beta": 0}', "alpha must be a number"),
    ('{"lm_path": "a", "alpha": 1, "beta": 0, "beam_width": 0}',
     "beam_width must be a positive"),
    ('{"lm_path": 3, "alpha": 1, "beta": 0}', "lm_path must be a path"),
])
def test_read_lm_settings_rejects_bad_files(tmp_path, text, message):
  path = tmp_path / "bad.json"
  path.write_text(text)
  with pytest.raises(ValueError, match=message) as raised:
    decoder.read_lm_settings(str(path))
  assert str(path) in str(raised.value)

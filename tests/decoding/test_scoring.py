"""Tests for decoding/scoring.py: WER/CER and their error breakdown.

nltk's edit_distance, used the way the original Deep Speech code used it, is
the reference the rapidfuzz-based scoring must reproduce exactly.
"""

import random

from nltk.metrics import distance
import pytest

from decoding import scoring


def seed_word_distance(decode, target):
  """The original word distance: words mapped to chr() codes, nltk."""
  words = set(decode.split() + target.split())
  word2char = dict(zip(words, range(len(words))))
  new_decode = "".join(chr(word2char[w]) for w in decode.split())
  new_target = "".join(chr(word2char[w]) for w in target.split())
  return distance.edit_distance(new_decode, new_target)


def seed_rates(decoded, targets):
  """The original evaluate_model arithmetic: mean per-utterance WER/CER."""
  total_wer, total_cer = 0, 0
  for hyp, ref in zip(decoded, targets):
    total_cer += distance.edit_distance(hyp, ref) / float(len(ref))
    total_wer += seed_word_distance(hyp, ref) / float(len(ref.split()))
  return total_wer / len(targets), total_cer / len(targets)


def random_sentence(rng, max_words):
  # Words from a two-letter alphabet collide often, so substitutions of one
  # word by an equal-looking one and repeated words are well exercised.
  return " ".join("".join(rng.choice("ab") for _ in range(rng.randint(1, 3)))
                  for _ in range(rng.randint(0, max_words)))


def test_compute_error_rates_hand_computed():
  decoded = ["the cat sat", "a dog", "hello world"]
  targets = ["the cat sat on the mat", "the dog", "hello world"]
  # Word distances 3, 1, 0 over 6, 2, 2 words; char distances 11, 3, 0 over
  # 22, 7, 11 characters.
  rates = scoring.compute_error_rates(decoded, targets)
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
  targets = [random_sentence(rng, 20) or "a" for _ in range(200)]
  decoded = [random_sentence(rng, 20) for _ in range(200)]
  rates = scoring.compute_error_rates(decoded, targets)
  seed_wer, seed_cer = seed_rates(decoded, targets)
  # Same float operations in the same order: bit-for-bit equal.
  assert rates["WER"] == seed_wer
  assert rates["CER"] == seed_cer
  assert rates["word_errors"] == sum(
      seed_word_distance(h, r) for h, r in zip(decoded, targets))
  assert rates["corpus_CER"] == sum(
      distance.edit_distance(h, r) for h, r in zip(decoded, targets)) / float(
          sum(len(r) for r in targets))


def test_compute_error_rates_perfect_and_empty_hypothesis():
  targets = ["one two three", "four"]
  assert scoring.compute_error_rates(targets, targets)["WER"] == 0.0
  rates = scoring.compute_error_rates(["", ""], targets)
  assert rates["WER"] == 1.0
  assert rates["CER"] == 1.0
  assert rates["corpus_WER"] == 1.0


@pytest.mark.parametrize("empty", ["", "   "])
def test_compute_error_rates_rejects_empty_reference(empty):
  with pytest.raises(ValueError, match="utterance 1"):
    scoring.compute_error_rates(["a", "b", "c"], ["a", empty, "c"])


def test_compute_error_rates_rejects_mismatched_lists():
  with pytest.raises(ValueError, match="2 decoded .* 3 references"):
    scoring.compute_error_rates(["a", "b"], ["a", "b", "c"])
  with pytest.raises(ValueError):
    scoring.compute_error_rates([], [])


def test_error_breakdown_sums_to_the_edit_distance():
  rng = random.Random(3)
  from rapidfuzz.distance import Levenshtein  # pylint: disable=g-import-not-at-top
  pairs = [(random_sentence(rng, 8), random_sentence(rng, 8) or "a")
           for _ in range(300)]
  decoded, targets = zip(*pairs)
  breakdown = scoring.compute_error_breakdown(list(decoded), list(targets))
  for (hyp, ref), entry in zip(pairs, breakdown["utterances"]):
    assert entry["reference"] == ref and entry["hypothesis"] == hyp
    words, chars = entry["words"], entry["chars"]
    assert (words["substitutions"] + words["deletions"] +
            words["insertions"]) == Levenshtein.distance(hyp.split(),
                                                         ref.split())
    assert (chars["substitutions"] + chars["deletions"] +
            chars["insertions"]) == Levenshtein.distance(hyp, ref)
  rates = scoring.compute_error_rates(list(decoded), list(targets))
  assert breakdown["words"]["errors"] == rates["word_errors"]
  assert breakdown["chars"]["errors"] == rates["char_errors"]
  assert breakdown["words"]["rate"] == rates["corpus_WER"]
  assert breakdown["chars"]["ref_length"] == rates["ref_chars"]


def test_error_breakdown_hand_counted():
  # "the cat sat" -> "a cat sat down": one substitution, one insertion.
  counts = scoring.error_counts("a cat sat down".split(), "the cat sat".split())
  assert counts == scoring.ErrorCounts(1, 0, 1, 3)
  counts = scoring.error_counts("cat".split(), "the cat sat".split())
  assert counts == scoring.ErrorCounts(0, 2, 0, 3)
  assert scoring.error_counts("kat", "cart") == scoring.ErrorCounts(1, 1, 0, 4)
  with pytest.raises(ValueError, match="2 decoded"):
    scoring.compute_error_breakdown(["a", "b"], ["a"])


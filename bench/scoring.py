"""Benchmark: WER/CER scoring and greedy decoding, the original way vs ours.

Scores 2,700 LibriSpeech-sized utterance pairs (test-clean has 2,620, about
20 words each) twice: the way the original evaluate_model did it (nltk's
pure-Python edit_distance, words mapped to chr() codes, per-utterance loop)
and with scoring.compute_error_rates (rapidfuzz). The per-utterance mean WER
and CER must come out identical, bit for bit. It then greedy-decodes random
padded batches the original way (argmax + itertools.groupby per utterance) and
with DeepSpeechDecoder.decode_batch, and checks the strings agree.

Run from the repository root:

  .venv/bin/python -m bench.scoring
  .venv/bin/python -m bench.scoring --utts 300           # quick look
  .venv/bin/python -m bench.scoring --manifest test-clean.csv

The last line printed is one JSON object with the figures.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

import argparse
import itertools
import json
import os
import random
import string
import sys
import time

from nltk.metrics import distance
import numpy as np

# Runs as `python bench/scoring.py`: the project root holds decoder.py.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import decoder  # pylint: disable=g-import-not-at-top,wrong-import-position
from decoding import scoring  # pylint: disable=g-import-not-at-top,wrong-import-position

# The 29 labels of data/vocabulary.txt; class 28 is the CTC blank.
LABELS = " abcdefghijklmnopqrstuvwxyz'-"
BLANK_INDEX = 28


def make_vocabulary(rng, size=3000):
  """A fixed list of made-up words, 1 to 10 letters, weighted to short ones."""
  lengths = [1, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 6, 6, 7, 8, 9, 10]
  return ["".join(rng.choice(string.ascii_lowercase)
                  for _ in range(rng.choice(lengths)))
          for _ in range(size)]


def make_references(rng, vocabulary, num_utts):
  """Reference sentences of 5 to 35 words (20 on average).

  Words are drawn with Zipf-like weights so that, as in real text, a few words
  recur in most sentences.
  """
  weights = [1.0 / (rank + 1) for rank in range(len(vocabulary))]
  return [" ".join(rng.choices(vocabulary, weights, k=rng.randint(5, 35)))
          for _ in range(num_utts)]


def corrupt_word(rng, word):
  """Substitutes, inserts or deletes one letter of `word`."""
  pos = rng.randrange(len(word))
  letter = rng.choice(string.ascii_lowercase)
  op = rng.randrange(3)
  if op == 0:
    return word[:pos] + letter + word[pos + 1:]
  if op == 1:
    return word[:pos] + letter + word[pos:]
  return (word[:pos] + word[pos + 1:]) or letter


def make_hypothesis(rng, vocabulary, reference):
  """A plausible recognizer output: a reference with word and letter errors.

  Rates are set for roughly 15% WER, a middling Deep Speech 2 model's figure;
  one utterance in a hundred decodes to nothing, as silence-heavy clips do.
  """
  if rng.random() < 0.01:
    return ""
  words = []
  for word in reference.split():
    r = rng.random()
    if r < 0.04:
      continue  # Deletion.
    if r < 0.08:
      words.append(rng.choice(vocabulary))  # Substitution by another word.
    elif r < 0.14:
      words.append(corrupt_word(rng, word))  # Misspelling.
    else:
      words.append(word)
    if rng.random() < 0.03:
      words.append(rng.choice(vocabulary))  # Insertion.
  return " ".join(words)


def read_manifest(path):
  """Transcripts from a tab-separated manifest (header, then file, size, text).

  Empty transcripts are skipped, as the training input pipeline skips them.
  """
  with open(path) as f:
    lines = f.read().splitlines()[1:]
  transcripts = [line.split("\t")[-1].strip() for line in lines]
  return [t for t in transcripts if t.split()]


def seed_wer(decode, target):
  """The original DeepSpeechDecoder.wer: each word becomes one chr() code."""
  words = set(decode.split() + target.split())
  word2char = dict(zip(words, range(len(words))))
  new_decode = [chr(word2char[w]) for w in decode.split()]
  new_target = [chr(word2char[w]) for w in target.split()]
  return distance.edit_distance("".join(new_decode), "".join(new_target))


def seed_error_rates(decoded, targets):
  """The original evaluate_model loop: mean of per-utterance WER and CER."""
  total_wer, total_cer = 0, 0
  for decoded_str, target in zip(decoded, targets):
    total_cer += distance.edit_distance(decoded_str, target) / float(
        len(target))
    total_wer += seed_wer(decoded_str, target) / float(len(target.split()))
  num_of_examples = len(targets)
  return total_wer / num_of_examples, total_cer / num_of_examples


def seed_decode(logits):
  """The original DeepSpeechDecoder.decode: argmax, groupby, drop blanks."""
  best = list(np.argmax(logits, axis=1))
  merge = [k for k, _ in itertools.groupby(best)]
  return "".join(LABELS[k] for k in merge if k != BLANK_INDEX)


def best_time(fn, repeats):
  """Smallest wall time of `repeats` calls (least disturbed by other load)."""
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    result = fn()
    times.append(time.perf_counter() - start)
  return min(times), result


def bench_decoding(np_rng, num_utts, batch_size, repeats):
  """Times greedy decoding of random padded batches, original way vs ours.

  Utterances have 100 to 800 frames after the convolutions (LibriSpeech's
  2 to 16 s at 10 ms hops and stride 2). They are batched in order of length,
  as the input pipeline sorts manifest entries by size, so batches carry
  little padding. Batches are generated one at a time to keep memory small;
  only decoding is timed.

  Returns:
    (seed seconds, our seconds, whether all strings matched).
  """
  greedy = decoder.DeepSpeechDecoder(LABELS, BLANK_INDEX)
  seed_s = ours_s = 0.0
  identical = True
  all_lengths = np.sort(np_rng.randint(100, 801, size=num_utts))
  for first in range(0, num_utts, batch_size):
    lengths = all_lengths[first:first + batch_size]
    logits = np_rng.normal(size=(len(lengths), lengths.max(), len(LABELS)))
    # A strong blank, as in a trained CTC model, gives realistic runs.
    logits[..., BLANK_INDEX] += 2.0
    logits = logits.astype(np.float32)
    # The original decoded the padded frames too; it is given only the real
    # ones here so both sides produce the same strings.
    t_seed, seed_out = best_time(
        lambda: [seed_decode(p[:n]) for p, n in zip(logits, lengths)],
        repeats)
    t_ours, ours_out = best_time(
        lambda: greedy.decode_batch(logits, lengths), repeats)
    seed_s += t_seed
    ours_s += t_ours
    identical = identical and seed_out == ours_out
  return seed_s, ours_s, identical


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--utts", type=int, default=2700,
                      help="Number of synthetic utterance pairs.")
  parser.add_argument("--manifest", default=None,
                      help="Take references from this manifest (all of its "
                      "non-empty transcripts) instead of synthesizing them.")
  parser.add_argument("--seed", type=int, default=0, help="Random seed.")
  parser.add_argument("--repeats", type=int, default=5,
                      help="Timing repeats for the fast paths (best is kept;"
                      " the nltk loop runs once, it takes seconds).")
  parser.add_argument("--batch_size", type=int, default=32,
                      help="Batch size for the decoding benchmark.")
  parser.add_argument("--skip_decode", action="store_true",
                      help="Only benchmark scoring.")
  return parser.parse_args(argv)


def main(argv=None):
  args = parse_args(argv)
  rng = random.Random(args.seed)
  vocabulary = make_vocabulary(rng)
  if args.manifest:
    targets = read_manifest(args.manifest)
  else:
    targets = make_references(rng, vocabulary, args.utts)
  decoded = [make_hypothesis(rng, vocabulary, t) for t in targets]

  seed_s, (seed_wer_mean, seed_cer_mean) = best_time(
      lambda: seed_error_rates(decoded, targets), 1)
  ours_s, rates = best_time(
      lambda: scoring.compute_error_rates(decoded, targets), args.repeats)
  identical = rates["WER"] == seed_wer_mean and rates["CER"] == seed_cer_mean

  result = {
      "utts": len(targets),
      "mean_ref_words": round(rates["ref_words"] / len(targets), 1),
      "seed_nltk_s": round(seed_s, 4),
      "ours_s": round(ours_s, 5),
      "speedup": round(seed_s / ours_s, 1),
      "identical": identical,
      "WER": rates["WER"],
      "CER": rates["CER"],
      "corpus_WER": rates["corpus_WER"],
      "corpus_CER": rates["corpus_CER"],
  }
  if not args.skip_decode:
    dec_seed_s, dec_ours_s, dec_identical = bench_decoding(
        np.random.RandomState(args.seed), len(targets), args.batch_size,
        args.repeats)
    result.update({
        "decode_seed_s": round(dec_seed_s, 4),
        "decode_ours_s": round(dec_ours_s, 4),
        "decode_speedup": round(dec_seed_s / dec_ours_s, 1),
        "decode_identical": dec_identical,
    })

  print("scoring %d utts: nltk %.3f s, rapidfuzz %.4f s (%.0fx), identical=%s;"
        " WER %.4f (corpus %.4f), CER %.4f (corpus %.4f)" % (
            result["utts"], seed_s, ours_s, result["speedup"], identical,
            rates["WER"], rates["corpus_WER"], rates["CER"],
            rates["corpus_CER"]))
  if not args.skip_decode:
    print("greedy decoding: groupby loop %.3f s, decode_batch %.3f s (%.1fx),"
          " identical=%s" % (result["decode_seed_s"], result["decode_ours_s"],
                             result["decode_speedup"], dec_identical))
  print(json.dumps(result))
  return 0 if identical and result.get("decode_identical", True) else 1


if __name__ == "__main__":
  raise SystemExit(main())

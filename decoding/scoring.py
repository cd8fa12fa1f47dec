"""Scoring transcripts: WER/CER and their substitution/deletion/insertion split.

Edit distances come from `rapidfuzz`, which computes the same Levenshtein
distance (unit cost insertions, deletions and substitutions, no
transpositions) as the `nltk.metrics.distance.edit_distance` the original
used, in compiled code.
"""

import collections

from rapidfuzz.distance import Levenshtein

# The metric names of scores, evaluation results and cycle records (the
# seed's "WER"/"CER" keys).
WER_KEY = "WER"
CER_KEY = "CER"
CORPUS_WER_KEY = "corpus_WER"
CORPUS_CER_KEY = "corpus_CER"


def compute_error_rates(decoded, targets):
  """Scores decoded transcripts against their references.

  Args:
    decoded: list of decoded strings, one per utterance.
    targets: list of reference transcripts, in the same order.

  Returns:
    A dict with
      "WER", "CER": the mean over utterances of each utterance's error rate
        (its edit distance over its reference length). These are the metrics
        the original Deep Speech code reported.
      "corpus_WER", "corpus_CER": total edit distance over total reference
        length, the usual corpus-level figures (what jiwer or sclite report);
        short utterances weigh less here than in the per-utterance mean.
      "word_errors", "char_errors": total edit distances.
      "ref_words", "ref_chars": total reference lengths.
      "utts": the number of utterances.

  Raises:
    ValueError: if the lists differ in length, are empty, or a reference has
      no words (its error rate would divide by zero).
  """
  if len(decoded) != len(targets):
    raise ValueError("got %d decoded transcripts for %d references"
                     % (len(decoded), len(targets)))
  if not targets:
    raise ValueError("no utterances to score")

  word_errors = char_errors = ref_words = ref_chars = 0
  wer_sum = cer_sum = 0.0
  for i, (hyp, ref) in enumerate(zip(decoded, targets)):
    ref_tokens = ref.split()
    # The input pipeline drops empty transcripts, so an empty one here is a
    # bug upstream; fail loudly rather than score it as 0 or inf.
    # (No words also covers no characters.)
    if not ref_tokens:
      raise ValueError("reference of utterance %d is empty: %r" % (i, ref))
    word_dist = Levenshtein.distance(hyp.split(), ref_tokens)
    char_dist = Levenshtein.distance(hyp, ref)
    # Plain left-to-right float accumulation, as the original loop did, so
    # the means match its figures to the last bit.
    wer_sum += word_dist / float(len(ref_tokens))
    cer_sum += char_dist / float(len(ref))
    word_errors += word_dist
    char_errors += char_dist
    ref_words += len(ref_tokens)
    ref_chars += len(ref)

  num_utts = len(targets)
  return {
      WER_KEY: wer_sum / num_utts,
      CER_KEY: cer_sum / num_utts,
      CORPUS_WER_KEY: word_errors / float(ref_words),
      CORPUS_CER_KEY: char_errors / float(ref_chars),
      "word_errors": word_errors,
      "char_errors": char_errors,
      "ref_words": ref_words,
      "ref_chars": ref_chars,
      "utts": num_utts,
  }


ErrorCounts = collections.namedtuple(
    "ErrorCounts", ["substitutions", "deletions", "insertions", "ref_length"])


def error_counts(hypothesis, reference):
  """Substitutions, deletions and insertions of one alignment.

  Args:
    hypothesis, reference: sequences (a string for characters, a list of
      words for words).

  Returns:
    An ErrorCounts whose three counts sum to the edit distance.
  """
  subs = dels = ins = 0
  # Edit operations that turn the reference into the hypothesis: a "delete"
  # is a reference token the hypothesis lacks, an "insert" an extra one.
  for op in Levenshtein.editops(reference, hypothesis):
    if op.tag == "replace":
      subs += 1
    elif op.tag == "delete":
      dels += 1
    else:
      ins += 1
  return ErrorCounts(subs, dels, ins, len(reference))


def _counts_dict(counts):
  errors = counts.substitutions + counts.deletions + counts.insertions
  return {"substitutions": counts.substitutions,
          "deletions": counts.deletions, "insertions": counts.insertions,
          "errors": errors, "ref_length": counts.ref_length,
          "rate": errors / float(counts.ref_length) if counts.ref_length
                  else 0.0}


def compute_error_breakdown(decoded, targets):
  """Per-utterance and corpus substitutions/deletions/insertions.

  Args:
    decoded: list of decoded strings, one per utterance.
    targets: list of reference transcripts, in the same order.

  Returns:
    A dict with "utterances": one dict per utterance ("reference",
    "hypothesis", "words" and "chars" counts), and "words", "chars": the
    corpus totals. Each counts dict holds "substitutions", "deletions",
    "insertions", "errors" (their sum, the edit distance), "ref_length" and
    "rate" (errors / ref_length; corpus "rate" is compute_error_rates'
    corpus_WER / corpus_CER).

  Raises:
    ValueError: the lists differ in length.
  """
  if len(decoded) != len(targets):
    raise ValueError("got %d decoded transcripts for %d references"
                     % (len(decoded), len(targets)))
  utterances = []
  totals = {"words": [0, 0, 0, 0], "chars": [0, 0, 0, 0]}
  for hyp, ref in zip(decoded, targets):
    entry = {"reference": ref, "hypothesis": hyp}
    for unit, h, r in (("words", hyp.split(), ref.split()),
                       ("chars", hyp, ref)):
      counts = error_counts(h, r)
      entry[unit] = _counts_dict(counts)
      totals[unit] = [a + b for a, b in zip(totals[unit], counts)]
    utterances.append(entry)
  result = {"utterances": utterances}
  for unit, sums in totals.items():
    result[unit] = _counts_dict(ErrorCounts(*sums))
  return result

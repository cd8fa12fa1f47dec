"""CTC decoders and WER/CER scoring for the Deep Speech 2 model.

Every decoder has one method, `decode_batch(probabilities, lengths)`: the
model's softmax outputs, float [batch, time, num_classes] (the blank is the
last class), and each utterance's real frame count, int [batch], in; one
transcript per utterance out. `make_decoder` builds one from plain arguments:
"greedy" (the seed's `DeepSpeechDecoder`) or "beam" (`decoding/beam_search.py`,
optionally with a KenLM n-gram and a lexicon). An LM settings file (JSON)
carries a tuned LM setup between the tuning command and the CLIs.

The decoder turns the model's per-frame class probabilities into text the same
way as the original TensorFlow Models code (best class per frame, merge
repeats, drop blanks), with one fix: only the first `length` frames of each
utterance are decoded, so the padding that batching adds to short utterances
can no longer leak characters into the transcript.

Edit distances come from `rapidfuzz`, which computes the same Levenshtein
distance (unit cost insertions, deletions and substitutions, no
transpositions) as the `nltk.metrics.distance.edit_distance` the original
used, in compiled code.
"""


import collections
import json
import os

import numpy as np
from rapidfuzz.distance import Levenshtein

from decoding import beam_search
from data import atomic_file
from data import vocabulary

DECODERS = ("greedy", "beam")


class DeepSpeechDecoder(object):
  """Greedy decoder and per-utterance error counts for Deep Speech.

  Attributes:
    labels: the speech labels; `labels[i]` is the character of class `i`.
    blank_index: the class index of the CTC blank.
    int_to_char: dict from class index to character.
  """

  def __init__(self, labels, blank_index=28):
    """Decoder initialization.

    Args:
      labels: a string (or sequence of one-character strings) with the speech
        labels in class order, e.g. " abcdefghijklmnopqrstuvwxyz'-".
      blank_index: an integer, the class index of the CTC blank. Defaults to
        28, the last class of the 29-label English vocabulary, which is where
        TensorFlow's CTC loss puts the blank.
    """
    self.labels = labels
    self.blank_index = blank_index
    self.int_to_char = dict(enumerate(labels))
    # An object array lets decode_batch turn many class indexes into
    # characters with one fancy-indexing call.
    self._label_array = np.array(list(labels), dtype=object)

  def convert_to_string(self, sequence):
    """Converts a sequence of class indexes into the corresponding string.

    Args:
      sequence: an iterable of integer class indexes.

    Returns:
      The string of their characters, in order.
    """
    return "".join([self.int_to_char[int(i)] for i in sequence])

  def wer(self, decode, target):
    """Computes the word-level edit distance between two transcripts.

    This is the numerator of the Word Error Rate: the minimum number of word
    substitutions, insertions and deletions that turn `decode` into `target`,
    after splitting both on whitespace.

    Args:
      decode: a string, the decoded output.
      target: a string, the ground truth transcript.

    Returns:
      An integer, the word edit distance. Divide by the number of words in
      `target` for the WER of this pair.
    """
    # Levenshtein over token lists compares whole words, which is what the
    # original achieved by mapping each distinct word to one chr() code.
    return Levenshtein.distance(decode.split(), target.split())

  def cer(self, decode, target):
    """Computes the character-level edit distance between two transcripts.

    Args:
      decode: a string, the decoded output.
      target: a string, the ground truth transcript.

    Returns:
      An integer, the character edit distance (spaces count as characters).
      Divide by `len(target)` for the CER of this pair.
    """
    return Levenshtein.distance(decode, target)

  def decode(self, logits, length=None):
    """Greedy-decodes one utterance.

    Args:
      logits: array of shape [time, num_classes], the model's probabilities
        (or logits; only the argmax matters) for one utterance.
      length: an integer, the number of real frames, i.e. the utterance's
        length after the convolutions. Frames from `length` on are batch
        padding and are ignored. None decodes all frames.

    Returns:
      The decoded string.

    Raises:
      ValueError: if `length` is negative or longer than `logits`.
    """
    logits = np.asarray(logits)
    num_frames = logits.shape[0]
    if length is None:
      length = num_frames
    length = int(length)
    if not 0 <= length <= num_frames:
      raise ValueError(
          "length %d is outside [0, %d] frames" % (length, num_frames))
    best = np.argmax(logits[:length], axis=1)
    # Repeats are merged before blanks are removed, so a blank between two
    # equal classes ("a - a") keeps both characters.
    is_new = np.ones(length, dtype=bool)
    is_new[1:] = best[1:] != best[:-1]
    return self.convert_to_string(best[is_new & (best != self.blank_index)])

  def decode_batch(self, probs, lengths):
    """Greedy-decodes a padded batch, vectorized over the whole batch.

    Gives the same strings as calling `decode(probs[i], lengths[i])` for every
    row, without a Python loop over frames.

    Args:
      probs: array of shape [batch, time, num_classes], the model's
        probabilities (or logits) for a padded batch.
      lengths: integer array of shape [batch], each utterance's number of real
        frames (its length after the convolutions).

    Returns:
      A list of `batch` decoded strings.

    Raises:
      ValueError: if `probs` is not 3-D, `lengths` does not have one entry per
        utterance, or a length is negative or longer than the time axis.
    """
    probs = np.asarray(probs)
    lengths = np.asarray(lengths).astype(np.int64).reshape(-1)
    if probs.ndim != 3:
      raise ValueError("probs must be [batch, time, num_classes], got shape %s"
                       % (probs.shape,))
    batch, num_frames = probs.shape[:2]
    if lengths.shape[0] != batch:
      raise ValueError("got %d lengths for a batch of %d"
                       % (lengths.shape[0], batch))
    if batch and (lengths.min() < 0 or lengths.max() > num_frames):
      raise ValueError("lengths must lie in [0, %d] frames" % num_frames)

    best = np.argmax(probs, axis=2)  # [batch, time]
    keep = best != self.blank_index
    keep[:, 1:] &= best[:, 1:] != best[:, :-1]
    keep &= np.arange(num_frames)[np.newaxis, :] < lengths[:, np.newaxis]

    # Row-major order keeps each utterance's characters contiguous, so one
    # join builds all transcripts and per-row counts say where to cut it.
    text = "".join(self._label_array[best[keep]])
    ends = np.cumsum(keep.sum(axis=1)).tolist()
    starts = [0] + ends[:-1]
    return [text[s:e] for s, e in zip(starts, ends)]


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
      "WER": wer_sum / num_utts,
      "CER": cer_sum / num_utts,
      "corpus_WER": word_errors / float(ref_words),
      "corpus_CER": char_errors / float(ref_chars),
      "word_errors": word_errors,
      "char_errors": char_errors,
      "ref_words": ref_words,
      "ref_chars": ref_chars,
      "utts": num_utts,
  }


def make_decoder(kind, labels, beam_width=100, lm_path=None, alpha=0.0,
                 beta=0.0, lexicon=None):
  """Builds a decoder; the CLIs' one way to get one.

  Args:
    kind: "greedy" or "beam".
    labels: the model's labels in class order, blank last.
    beam_width, lm_path, alpha, beta, lexicon: the beam search's settings
      (see beam_search.BeamSearchDecoder); greedy takes none of them.

  Returns:
    An object with `decode_batch(probabilities, lengths) -> list of str`.

  Raises:
    ValueError: an unknown kind, or an LM or lexicon for the greedy decoder.
    beam_search.DecoderLibraryError: flashlight-text is missing (an
      ImportError whose message names the pip line).
  """
  if kind == "greedy":
    if lm_path or lexicon:
      raise ValueError("a language model or lexicon needs the beam decoder, "
                       "not greedy decoding")
    return DeepSpeechDecoder(labels, vocabulary.blank_index(labels))
  if kind == "beam":
    return beam_search.BeamSearchDecoder(
        labels, beam_width=beam_width, lm_path=lm_path, alpha=alpha,
        beta=beta, lexicon=lexicon)
  raise ValueError("unknown decoder %r; expected one of %s"
                   % (kind, ", ".join(DECODERS)))


# The LM settings file: what the tuning command writes and the CLIs read.
LM_SETTINGS_KEYS = ("lm_path", "alpha", "beta", "beam_width", "lexicon")


def write_lm_settings(path, lm_path, alpha, beta, beam_width=None,
                      lexicon=None):
  """Writes an LM settings file (JSON, atomically).

  Paths are stored as given; relative ones are read back relative to the
  settings file's folder, so a folder holding the LM and its settings can be
  moved as a whole.
  """
  settings = {"lm_path": lm_path, "alpha": float(alpha), "beta": float(beta)}
  if beam_width is not None:
    settings["beam_width"] = int(beam_width)
  if lexicon is not None:
    settings["lexicon"] = lexicon
  atomic_file.write_json(path, settings)


def read_lm_settings(path):
  """Reads an LM settings file.

  Returns:
    A dict with "lm_path" (absolute), "alpha", "beta" (floats) and, when
    present, "beam_width" (int) and "lexicon" (absolute path); the keys match
    `make_decoder`'s arguments.

  Raises:
    ValueError: not JSON, unknown or missing keys, wrong types (naming the
      file).
  """
  try:
    with open(path, encoding="utf-8") as f:
      settings = json.load(f)
  except (OSError, ValueError) as e:
    raise ValueError("cannot read the LM settings file %s: %s" % (path, e))
  if not isinstance(settings, dict):
    raise ValueError("%s: LM settings must be a JSON object" % path)
  unknown = sorted(set(settings) - set(LM_SETTINGS_KEYS))
  missing = [k for k in ("lm_path", "alpha", "beta") if k not in settings]
  if unknown or missing:
    raise ValueError("%s: %s" % (path, "; ".join(
        ["unknown keys " + ", ".join(unknown)] * bool(unknown) +
        ["missing keys " + ", ".join(missing)] * bool(missing))))
  folder = os.path.dirname(os.path.abspath(path))
  result = {}
  for key, value in settings.items():
    if key in ("lm_path", "lexicon"):
      if not isinstance(value, str) or not value:
        raise ValueError("%s: %s must be a path" % (path, key))
      result[key] = os.path.join(folder, value)  # absolute paths stay.
    elif key == "beam_width":
      if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError("%s: beam_width must be a positive integer" % path)
      result[key] = value
    else:
      if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError("%s: %s must be a number" % (path, key))
      result[key] = float(value)
  return result


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

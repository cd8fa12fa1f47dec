"""CTC decoders for the Deep Speech 2 model: the seed's interface.

Every decoder is a `Decoder`: its method `decode_batch(probabilities,
lengths)`: the model's softmax outputs, float [batch, time, num_classes] (the
blank is the last class), and each utterance's real frame count, int
[batch], in; one transcript per utterance out. A stream decodes with
`begin()` instead: one utterance fed its frames in pieces, with the same
text at the end as `decode_batch`. `make_decoder` builds one from
plain arguments: "greedy" (the seed's `DeepSpeechDecoder`) or "beam"
(decoding/beam_search.py, optionally with a KenLM n-gram and a lexicon).
Scoring, LMs, the LM settings file and tuning live in the decoding/ package.

The greedy decoder turns the model's per-frame class probabilities into text
the same way as the original TensorFlow Models code (best class per frame,
merge repeats, drop blanks), with one fix: only the first `length` frames of
each utterance are decoded, so the padding that batching adds to short
utterances can no longer leak characters into the transcript.

Edit distances (`wer`, `cer`) come from `rapidfuzz`; see decoding/scoring.py.
"""


import numpy as np
from rapidfuzz.distance import Levenshtein

from data import vocabulary

DECODERS = ("greedy", "beam")
DEFAULT_BEAM_WIDTH = 100
# The decoder settings' one home for defaults: the CLIs' flags, the LM
# settings and export settings readers fill what is not given from here.
DEFAULTS = {"kind": "greedy", "beam_width": DEFAULT_BEAM_WIDTH,
            "lm_path": None, "alpha": 0.0, "beta": 0.0, "lexicon": None}


class Decoder(object):
  """A CTC decoder: `decode_batch(probabilities, lengths)`, list of str out.

  Subclasses share `check_batch`, so every decoder refuses the same bad
  shapes with the same messages.
  """

  def decode_batch(self, probabilities, lengths):
    """Decodes a padded batch; see the module docstring."""
    raise NotImplementedError

  def begin(self):
    """One utterance decoded as its frames arrive: an object with
    `step(probabilities [time, num_classes])`, `partial()` (the text so
    far) and `finish()` (the text, as `decode_batch` gives it)."""
    raise NotImplementedError

  @staticmethod
  def check_batch(probabilities, lengths, num_classes=None):
    """The batch as arrays, after checking its shapes.

    Args:
      probabilities: array-like [batch, time, num_classes].
      lengths: array-like [batch] (or [batch, 1]) of real frame counts.
      num_classes: the class count the decoder expects, or None for any.

    Returns:
      (probabilities as an ndarray, lengths as int64 [batch]).

    Raises:
      ValueError: `probabilities` is not 3-D (or has another class count),
        `lengths` does not have one entry per utterance, or a length is
        negative or longer than the time axis.
    """
    probabilities = np.asarray(probabilities)
    lengths = np.asarray(lengths).astype(np.int64).reshape(-1)
    if probabilities.ndim != 3 or (num_classes is not None and
                                   probabilities.shape[2] != num_classes):
      raise ValueError("probabilities must be [batch, time, %s], got shape %s"
                       % (num_classes or "num_classes",
                          probabilities.shape,))
    batch, num_frames = probabilities.shape[:2]
    if lengths.shape[0] != batch:
      raise ValueError("got %d lengths for a batch of %d"
                       % (lengths.shape[0], batch))
    if batch and (lengths.min() < 0 or lengths.max() > num_frames):
      raise ValueError("lengths must lie in [0, %d] frames" % num_frames)
    return probabilities, lengths


class DeepSpeechDecoder(Decoder):
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
    probs, lengths = self.check_batch(probs, lengths)
    num_frames = probs.shape[1]

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


  def begin(self):
    """A `GreedyDecode` of one utterance whose frames arrive in pieces."""
    return GreedyDecode(self)


class GreedyDecode(object):
  """Greedy decoding of one utterance, fed its frames in pieces.

  The decoders' incremental interface (`Decoder.begin()`'s result):
  `step(probabilities)` per piece of [time, num_classes] frames,
  `partial()` the text so far, `finish()` the text of all the frames, the
  one `decode_batch` gives them at once: a repeat is merged across pieces.
  """

  def __init__(self, greedy):
    self._greedy = greedy
    self._chars = []
    self._last_class = None
    self._finished = False

  def step(self, probabilities):
    if self._finished:
      raise ValueError("the decode is finished; begin another")
    for cls in np.argmax(np.asarray(probabilities), axis=1).tolist():
      if cls != self._last_class and cls != self._greedy.blank_index:
        self._chars.append(self._greedy.int_to_char[cls])
      self._last_class = cls

  def partial(self):
    return "".join(self._chars)

  def finish(self):
    self._finished = True
    return self.partial()


def make_decoder(kind, labels, beam_width=DEFAULT_BEAM_WIDTH, lm_path=None,
                 alpha=0.0, beta=0.0, lexicon=None):
  """Builds a decoder; the CLIs' one way to get one.

  Args:
    kind: "greedy" or "beam".
    labels: the model's labels in class order, blank last.
    beam_width, lm_path, alpha, beta, lexicon: the beam search's settings
      (see beam_search.BeamSearchDecoder); greedy takes none of them.

  Returns:
    A `Decoder`.

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
    # Imported here: the beam search builds on this module's `Decoder`.
    from decoding import beam_search  # pylint: disable=g-import-not-at-top
    return beam_search.BeamSearchDecoder(
        labels, beam_width=beam_width, lm_path=lm_path, alpha=alpha,
        beta=beta, lexicon=lexicon)
  raise ValueError("unknown decoder %r; expected one of %s"
                   % (kind, ", ".join(DECODERS)))

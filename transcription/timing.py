"""Word start and end times and confidences from the model's CTC outputs.

The model's output frame j sees the spectrogram frames around 4j (the two
convolutions stride 2 in time each: `time_reduction` = 4), and spectrogram
frame k is centred at k * stride + window / 2. So output frame j stands for
the `time_reduction * stride` seconds centred at
j * time_reduction * stride + window / 2.

Timings follow the greedy path: each frame's most probable class. A
character starts at the frame where it first wins and lasts while it keeps
winning; a word runs from its first character's first frame to the end of
its last character's run. A word's confidence is the mean, over its
characters, of the highest probability the character reached on its run.
"""

import difflib

import numpy as np


class Word(object):
  """A decoded word with its place in the recording (seconds)."""

  def __init__(self, word, start, end, confidence):
    self.word = word
    self.start = start
    self.end = end
    self.confidence = confidence

  def to_dict(self):
    return {"word": self.word, "start": round(self.start, 3),
            "end": round(self.end, 3),
            "confidence": (None if self.confidence is None
                           else round(float(self.confidence), 4))}

  def __repr__(self):
    return "Word(%r, %.3f, %.3f, %s)" % (self.word, self.start, self.end,
                                         self.confidence)


class FrameClock(object):
  """Seconds of the model's output frames.

  Args:
    stride_ms, window_ms: spectrogram hop and window, in ms.
    time_reduction: input frames per output frame (the model's
      TIME_REDUCTION).
  """

  def __init__(self, stride_ms, window_ms, time_reduction):
    self.frame_sec = time_reduction * stride_ms / 1000.0
    self._centre0 = window_ms / 2000.0

  def start(self, frame):
    """Start, in seconds, of output frame `frame` (never below 0)."""
    return max(0.0, self._centre0 + (frame - 0.5) * self.frame_sec)

  def end(self, frame):
    """End, in seconds, of output frame `frame`."""
    return self._centre0 + (frame + 0.5) * self.frame_sec


def greedy_words(probabilities, length, labels, blank_index, clock,
                 offset_sec=0.0, end_sec=None):
  """The greedy transcript of one chunk and its words with times.

  Args:
    probabilities: float [time, num_classes], the model's softmax outputs.
    length: the number of real frames (the rest is batch padding).
    labels: the speech labels, `labels[i]` the character of class i.
    blank_index: the CTC blank's class.
    clock: a `FrameClock`.
    offset_sec: where the chunk starts in the recording.
    end_sec: where the chunk ends (word ends are clipped to it), or None.

  Returns:
    (text, words): the greedy transcript (as `DeepSpeechDecoder` decodes it)
    and a list of `Word`s in order.
  """
  probabilities = np.asarray(probabilities)[:int(length)]
  if probabilities.shape[0] == 0:
    return "", []
  best = np.argmax(probabilities, axis=1)
  best_prob = probabilities[np.arange(best.shape[0]), best]
  # Runs of one class: [starts[i], ends[i]) frames holding class runs[i].
  changes = np.flatnonzero(np.diff(best)) + 1
  starts = np.concatenate([[0], changes]).astype(int)
  ends = np.concatenate([changes, [best.shape[0]]]).astype(int)
  text = []
  words = []
  current = None  # [characters, start_sec, end_sec, confidences]
  for run_start, run_end in zip(starts, ends):
    cls = int(best[run_start])
    if cls == blank_index:
      continue
    char = labels[cls]
    text.append(char)
    if char.isspace():
      if current is not None:
        words.append(_word(current, end_sec))
        current = None
      continue
    confidence = float(best_prob[run_start:run_end].max())
    start = offset_sec + clock.start(run_start)
    end = offset_sec + clock.end(run_end - 1)
    if current is None:
      current = [[char], start, end, [confidence]]
    else:
      current[0].append(char)
      current[2] = end
      current[3].append(confidence)
  if current is not None:
    words.append(_word(current, end_sec))
  return "".join(text), words


def _word(current, end_sec):
  chars, start, end, confidences = current
  if end_sec is not None:
    end = min(end, end_sec)
    start = min(start, end)
  return Word("".join(chars), start, end, float(np.mean(confidences)))


def align_words(text, timed_words):
  """Timings for the words of `text` (another decoder's) from greedy words.

  Words that the greedy transcript also has, in the same order, keep their
  times; the others share evenly the span of the greedy words they replace
  (or the gap where they were inserted) and take their mean confidence
  (None for insertions).

  Args:
    text: a transcript, e.g. from a beam search with a language model.
    timed_words: the greedy path's `Word`s of the same audio.

  Returns:
    A list of `Word`s, one per word of `text`.
  """
  tokens = text.split()
  greedy = [w.word for w in timed_words]
  matcher = difflib.SequenceMatcher(None, greedy, tokens, autojunk=False)
  aligned = []
  for tag, g0, g1, t0, t1 in matcher.get_opcodes():
    if tag == "equal":
      aligned.extend(timed_words[g0:g1])
      continue
    if t0 == t1:  # greedy words the other decoder dropped
      continue
    if g1 > g0:
      start, end = timed_words[g0].start, timed_words[g1 - 1].end
      confidence = float(np.mean([w.confidence for w in timed_words[g0:g1]]))
    else:
      start = timed_words[g0 - 1].end if g0 else (
          timed_words[0].start if timed_words else 0.0)
      end = timed_words[g0].start if g0 < len(timed_words) else start
      confidence = None
    step = (end - start) / (t1 - t0)
    for i, token in enumerate(tokens[t0:t1]):
      aligned.append(Word(token, start + i * step, start + (i + 1) * step,
                          confidence))
  return aligned

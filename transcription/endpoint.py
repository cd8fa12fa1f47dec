"""Pauses in a stream's output frames, for endpointing (streaming.py).

An output frame is a pause when the model's best class is the blank (or
the space), or when its audio is below `SILENCE_FLOOR_DBFS`: the
spectrogram windows it stands for and those of the `SILENCE_LOOKBACK_SEC`
before, so that a unidirectional model's late letters, which come after
their sound, still count as speech. The model decides in the pauses of
real rooms, whose noise it was trained to ignore, with no level to
calibrate; the floor catches near-digital silence (a muted microphone, a
generated pause), which no training recording has and on which a model's
output is arbitrary (it may hold a letter through it).
"""

import math

import numpy as np

import deep_speech_model
from data import vocabulary

# Audio below this RMS level (dB relative to full scale) is a pause,
# whatever the model makes of it.
SILENCE_FLOOR_DBFS = -60.0
SILENCE_LOOKBACK_SEC = 0.3


class PauseCounter(object):
  """Counts an utterance's trailing pause frames, frame by frame.

  Attributes:
    spoke: whether a frame of the utterance was not a pause.
  """

  def __init__(self, silence_sec, labels, stride_ms, frame_sec):
    """Args:

      silence_sec: the pause, in seconds, that ends an utterance.
      labels: the model's labels (the blank last, " " the word separator).
      stride_ms: the spectrogram's hop, in ms.
      frame_sec: seconds per output frame.
    """
    self._needed = max(1, int(math.ceil(silence_sec / frame_sec - 1e-9)))
    self._silent = {vocabulary.blank_index(labels)}
    if " " in labels:
      self._silent.add(labels.index(" "))
    self._back = int(round(1000.0 * SILENCE_LOOKBACK_SEC / stride_ms))
    self.reset()

  def reset(self):
    """For a new utterance."""
    self._levels = np.zeros(0)  # dBFS per spectrogram window not yet done
    self._levels_from = 0  # the window of self._levels[0]
    self._frames = 0  # output frames counted
    self._run = 0  # output frames since the last spoken one
    self.spoke = False

  def add_windows(self, samples, count, window, stride):
    """The levels of the next `count` windows of `samples` [n]."""
    starts = np.arange(count) * stride
    squares = np.concatenate([[0.0], np.cumsum(
        samples.astype(np.float64) ** 2)])
    mean = (squares[starts + window] - squares[starts]) / window
    self._levels = np.concatenate([
        self._levels, 10.0 * np.log10(np.maximum(mean, 1e-20))])

  def ended(self, probabilities):
    """Counts the next output frames (float [frames, classes]); whether the
    pause is now long enough to end the utterance."""
    ended = False
    best = np.argmax(probabilities, axis=1).tolist()
    for cls, quiet in zip(best, self._quiet(len(best))):
      if cls not in self._silent and not quiet:
        self._run, self.spoke = 0, True
      else:
        self._run += 1
        ended = ended or self._run >= self._needed
    return ended

  def _quiet(self, count):
    """Whether each of the next `count` output frames' audio is silent."""
    reduction = deep_speech_model.TIME_REDUCTION
    quiet = []
    for i in range(count):
      first = (self._frames + i) * reduction - self._levels_from
      levels = self._levels[max(0, first - self._back):max(0, first +
                                                           reduction)]
      # The closing frames stand for the padding after the audio: silent.
      quiet.append(not levels.size or levels.max() < SILENCE_FLOOR_DBFS)
    self._frames += count
    # The next output frame looks back to here; older windows are done.
    done = self._frames * reduction - self._back
    drop = min(max(0, done - self._levels_from), self._levels.shape[0])
    self._levels = self._levels[drop:]
    self._levels_from += drop
    return quiet

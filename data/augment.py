"""Augmentation of training features (optional, off by default).

`SpecAugment` masks bands of bins and runs of frames; `Warp` rescales the
time and frequency axes; `Chain` applies several in order.

Small corpora let DeepSpeech2 memorize whole utterances instead of learning to
spell: on the synthesized sample corpus a 3 x 256 BiGRU reaches CER 0.06 on
training sentences while dev CER stays at 0.40. Masking random bands of
frequency bins and runs of frames (Park et al., 2019, "SpecAugment") makes
that memorization harder. Masks are drawn with stateless random ops seeded by
(the run's seed, the utterance's position in the cycle), so a resumed run
masks the same way as an uninterrupted one. Masked values are 0, the mean of
the per-utterance normalized features.
"""

import tensorflow as tf

# Masks of each kind per utterance.
NUM_MASKS = 2


class SpecAugment(object):
  """Frequency and time masking with widths up to `freq_mask` / `time_mask`.

  Attributes:
    freq_mask: widest frequency mask, in bins (0: none).
    time_mask: widest time mask, in frames (0: none); never more than a
      fifth of the utterance.
    seed: the run's seed.
  """

  def __init__(self, freq_mask, time_mask, seed):
    if freq_mask < 0 or time_mask < 0:
      raise ValueError("mask widths must be >= 0, got %d and %d" % (
          freq_mask, time_mask))
    self.freq_mask = freq_mask
    self.time_mask = time_mask
    self.seed = seed or 0

  @property
  def enabled(self):
    return self.freq_mask > 0 or self.time_mask > 0

  def __call__(self, features, index, min_frames=0):  # pylint: disable=unused-argument
    """Masks one utterance.

    Args:
      features: float32 [frames, bins, 1].
      index: int64 scalar, the utterance's position (seeds the masks).
      min_frames: unused (masking keeps every frame); see `Warp`.

    Returns:
      The masked features, same shape.
    """
    frames, bins = tf.shape(features)[0], tf.shape(features)[1]
    keep = tf.ones_like(features)
    for i in range(NUM_MASKS):
      for axis, size, widest in ((1, bins, self.freq_mask),
                                 (0, frames, self.time_mask)):
        if widest <= 0:
          continue
        if axis == 0:
          widest = tf.minimum(widest, size // 5)
        seed = tf.stack([tf.cast(self.seed, tf.int64) * 4 + 2 * i + axis,
                         tf.cast(index, tf.int64)])
        width = tf.random.stateless_uniform(
            [], seed, minval=0, maxval=widest + 1, dtype=tf.int32)
        start = tf.random.stateless_uniform(
            [], seed + [0, 1 << 40], minval=0,
            maxval=tf.maximum(size - width, 0) + 1, dtype=tf.int32)
        positions = tf.range(size)
        band = tf.logical_and(positions >= start, positions < start + width)
        shape = [-1, 1, 1] if axis == 0 else [1, -1, 1]
        keep *= 1.0 - tf.reshape(tf.cast(band, features.dtype), shape)
    return features * keep


def _interpolate(values, positions, axis):
  """Linear interpolation of `values` at fractional `positions` along `axis`.

  Args:
    values: float tensor.
    positions: float32 [n], each within [0, size - 1] of that axis.
    axis: 0 or 1.

  Returns:
    `values` with that axis resampled to n entries.
  """
  low = tf.floor(positions)
  frac = positions - low
  low = tf.cast(low, tf.int32)
  high = tf.minimum(low + 1, tf.shape(values)[axis] - 1)
  shape = [-1, 1, 1] if axis == 0 else [1, -1, 1]
  frac = tf.reshape(tf.cast(frac, values.dtype), shape)
  return (tf.gather(values, low, axis=axis) * (1.0 - frac) +
          tf.gather(values, high, axis=axis) * frac)


class Warp(object):
  """Random tempo and frequency scaling of training features.

  The sample corpus's speakers differ from each other by speaking rate and a
  pitch shift that moves the whole spectrum (formants included), so a model
  trained on a few hundred of them does not carry over to new ones. Scaling
  each utterance's time axis (tempo) and frequency axis (like vocal tract
  length perturbation) by a fresh random factor per presentation turns every
  training utterance into many speakers. Works on cached features; factors
  are drawn with stateless random ops seeded by (the run's seed, the
  utterance's position in the cycle), as for `SpecAugment`.

  Attributes:
    tempo: largest relative change of the utterance's length (0.1: the
      frames are resampled to between 90% and 110% of their number).
    freq: largest relative change of the frequency scale (0.1: bin k shows
      what was at k / a, a in [0.9, 1.1]; bins past the top repeat it).
    seed: the run's seed.
  """

  def __init__(self, tempo, freq, seed):
    if not 0 <= tempo < 1 or not 0 <= freq < 1:
      raise ValueError("tempo and frequency warps must be in [0, 1), got "
                       "%r and %r" % (tempo, freq))
    self.tempo = tempo
    self.freq = freq
    self.seed = seed or 0

  @property
  def enabled(self):
    return self.tempo > 0 or self.freq > 0

  def _factor(self, width, salt, index):
    seed = tf.stack([tf.cast(self.seed, tf.int64),
                     tf.cast(index, tf.int64) + (salt << 40)])
    return tf.random.stateless_uniform(
        [], seed, minval=1.0 - width, maxval=1.0 + width)

  def __call__(self, features, index, min_frames=0):
    """Warps one utterance.

    Args:
      features: float32 [frames, bins, 1].
      index: int64 scalar, the utterance's position (seeds the factors).
      min_frames: int scalar; the tempo change never leaves fewer frames
        than this (or than the utterance had, if that is fewer), so the
        transcript still fits CTC.

    Returns:
      float32 [new_frames, bins, 1].
    """
    if self.tempo > 0:
      frames = tf.shape(features)[0]
      wanted = tf.cast(tf.round(
          tf.cast(frames, tf.float32) * self._factor(self.tempo, 2, index)),
                       tf.int32)
      new_frames = tf.maximum(wanted, tf.minimum(frames, min_frames))
      new_frames = tf.maximum(new_frames, 1)
      positions = tf.linspace(0.0, tf.cast(frames - 1, tf.float32),
                              new_frames)
      features = _interpolate(features, positions, axis=0)
    if self.freq > 0:
      bins = tf.shape(features)[1]
      top = tf.cast(bins - 1, tf.float32)
      positions = tf.minimum(
          tf.range(tf.cast(bins, tf.float32)) / self._factor(
              self.freq, 3, index), top)
      features = _interpolate(features, positions, axis=1)
    return features


class Chain(object):
  """Applies augmentations in order (the enabled ones)."""

  def __init__(self, *augments):
    self.augments = [a for a in augments if a.enabled]

  @property
  def enabled(self):
    return bool(self.augments)

  def __call__(self, features, index, min_frames=0):
    for augment in self.augments:
      features = augment(features, index, min_frames)
    return features

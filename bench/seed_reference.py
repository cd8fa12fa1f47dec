"""The seed's featurization, re-implemented as the numerical reference.

Used by the featurizer and dataset tests and by bench/input_pipeline.py (the
seed's generator pipeline), so that both compare against one definition.
"""

import numpy as np


def reference_spectrogram(samples, sample_rate, stride_ms=10.0, window_ms=20.0,
                          max_freq=None, eps=1e-14):
  """The seed's log power spectrogram, [frames, bins], in float64."""
  hop = int(0.001 * sample_rate * stride_ms)
  width = int(0.001 * sample_rate * window_ms)
  samples = np.ascontiguousarray(samples, dtype=np.float64)
  # Drop the samples that do not fill a whole hop after the last window.
  samples = samples[:len(samples) - (len(samples) - width) % hop]
  count = (len(samples) - width) // hop + 1
  item = samples.strides[0]
  # Column j is the window starting at sample j * hop.
  windows = np.lib.stride_tricks.as_strided(
      samples, shape=(width, count), strides=(item, item * hop))
  hann = np.hanning(width)[:, None]
  power = np.abs(np.fft.rfft(windows * hann, axis=0)) ** 2
  norm = np.sum(hann ** 2) * sample_rate
  power[1:-1, :] *= 2.0 / norm
  power[(0, -1), :] /= norm
  freqs = float(sample_rate) / width * np.arange(power.shape[0])
  if max_freq is None:
    max_freq = sample_rate / 2
  keep = np.where(freqs <= max_freq)[0][-1] + 1
  return np.log(power[:keep, :] + eps).T


def reference_normalize(feature):
  """Per-bin normalization over time, as the training pipeline does it."""
  mean = feature.mean(axis=0, keepdims=True)
  std = feature.std(axis=0, keepdims=True)
  return (feature - mean) / (std + 1e-6)

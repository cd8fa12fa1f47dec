"""Tests for bench/seed_reference.py, the seed's featurization that the
featurizer and dataset tests and bench/input_pipeline.py compare against.

It is a module of those, not a benchmark script (nothing to run and no JSON
line), so it is checked here against what a spectrogram must be: a tone's
peak in its bin, the power of the signal spread over the bins, and
normalized bins of mean 0 and deviation 1.
"""

import numpy as np

from bench import seed_reference

RATE = 16000


def _tone(freq, seconds=1.0, amplitude=0.5):
  t = np.arange(int(seconds * RATE)) / RATE
  return amplitude * np.sin(2 * np.pi * freq * t)


def test_a_tone_peaks_in_its_bin_and_keeps_its_power():
  spectrogram = seed_reference.reference_spectrogram(_tone(1000), RATE)
  # 20 ms windows of 320 samples every 10 ms: 99 whole windows in 1 s, and
  # bins every 16000 / 320 = 50 Hz up to 8 kHz.
  assert spectrogram.shape == (99, 161)
  assert (spectrogram.argmax(axis=1) == 1000 // 50).all()
  # One-sided power density: summed over the bins (times their width) it
  # is the tone's mean power, amplitude^2 / 2.
  power = (np.exp(spectrogram) - 1e-14).sum(axis=1) * 50
  np.testing.assert_allclose(power, 0.5 ** 2 / 2, rtol=0.01)


def test_max_freq_keeps_the_bins_up_to_it_and_a_ragged_end_is_dropped():
  full = seed_reference.reference_spectrogram(_tone(440), RATE)
  low = seed_reference.reference_spectrogram(_tone(440), RATE, max_freq=4000)
  assert low.shape == (99, 81)
  np.testing.assert_array_equal(low, full[:, :81])
  # Samples that do not fill a whole hop after the last window change
  # nothing.
  samples = np.concatenate([_tone(440), np.ones(100)])
  np.testing.assert_array_equal(
      seed_reference.reference_spectrogram(samples, RATE), full)


def test_normalize_gives_each_bin_mean_0_and_deviation_1():
  rng = np.random.default_rng(0)
  feature = rng.normal(3.0, 2.0, size=(50, 161)) * np.arange(1, 162)
  normalized = seed_reference.reference_normalize(feature)
  np.testing.assert_allclose(normalized.mean(axis=0), 0, atol=1e-9)
  np.testing.assert_allclose(normalized.std(axis=0), 1, atol=1e-5)

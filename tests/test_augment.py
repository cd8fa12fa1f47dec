"""Tests for data/augment.py: SpecAugment masks in the training pipeline."""

import numpy as np
import pytest
import tensorflow as tf

from data import augment
from data import dataset
import deep_speech


def _masked(aug, index, frames=100, bins=161):
  features = tf.ones([frames, bins, 1])
  return aug(features, tf.constant(index, tf.int64)).numpy()[:, :, 0]


def test_masks_are_bands_within_the_widths_and_reproducible():
  aug = augment.SpecAugment(freq_mask=20, time_mask=30, seed=3)
  out = _masked(aug, 7)
  assert set(np.unique(out)) <= {0.0, 1.0} and out.min() == 0.0
  masked_bins = np.where((out == 0).all(axis=0))[0]
  masked_frames = np.where((out == 0).all(axis=1))[0]
  assert 0 < len(masked_bins) <= 2 * 20
  assert len(masked_frames) <= 2 * 20  # a fifth of 100 frames, twice
  # Everything zero lies in a masked row or column.
  zero_rows, zero_cols = np.where(out == 0)
  assert all(r in masked_frames or c in masked_bins
             for r, c in zip(zero_rows, zero_cols))
  np.testing.assert_array_equal(out, _masked(aug, 7))
  assert not np.array_equal(out, _masked(aug, 8))
  assert not np.array_equal(out, _masked(
      augment.SpecAugment(20, 30, seed=4), 7))


def test_disabled_or_invalid():
  assert not augment.SpecAugment(0, 0, 1).enabled
  with pytest.raises(ValueError):
    augment.SpecAugment(-1, 0, 1)


def test_pipeline_masks_training_batches_reproducibly(corpus):
  speech = deep_speech.generate_dataset(
      corpus, 16000, 20, 10, deep_speech._VOCABULARY_FILE, True)
  aug = augment.SpecAugment(freq_mask=30, time_mask=20, seed=1)
  plain = [f["features"].numpy() for f, _ in dataset.input_fn(4, speech)]
  masked = [f["features"].numpy() for f, _ in dataset.input_fn(4, speech,
                                                       augment=aug)]
  again = [f["features"].numpy() for f, _ in dataset.input_fn(4, speech,
                                                      augment=aug)]
  for p, m, a in zip(plain, masked, again):
    np.testing.assert_array_equal(m, a)
    # Masking only zeroes values: the rest is untouched.
    np.testing.assert_array_equal(m[m != 0], p[m != 0])
  assert any((m == 0).sum() > (p == 0).sum()
             for p, m in zip(plain, masked))
  # Resuming after two batches masks the remaining batches identically.
  resumed = [f["features"].numpy() for f, _ in dataset.input_fn(
      4, speech, augment=aug, skip_batches=2)]
  for m, r in zip(masked[2:], resumed):
    np.testing.assert_array_equal(m, r)

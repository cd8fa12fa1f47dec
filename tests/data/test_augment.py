"""Tests for data/augment.py: SpecAugment masks in the training pipeline."""

import numpy as np
import pytest
import tensorflow as tf

from data import augment
from data import dataset
from data import manifest
from tests import conftest


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
  speech = conftest.speech_dataset(corpus)
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


def _ramp(frames=100, bins=81):
  """Features whose value encodes (frame, bin): warps are easy to check."""
  t = np.arange(frames, dtype=np.float32)[:, None]
  f = np.arange(bins, dtype=np.float32)[None, :]
  return tf.constant((t * 1000 + f)[:, :, None])


def test_warp_rescales_time_and_frequency_reproducibly():
  aug = augment.Warp(tempo=0.2, freq=0.2, seed=3)
  lengths, tops = set(), set()
  for index in range(20):
    out = aug(_ramp(), tf.constant(index, tf.int64)).numpy()[:, :, 0]
    assert 80 <= out.shape[0] <= 120 and out.shape[1] == 81
    frames = out[:, 0] // 1000
    bins = out[0, :] - out[0, 0]
    # Time: first and last frame kept, monotone in between.
    assert frames[0] == 0 and out[-1, 0] // 1000 == 99
    assert (np.diff(out[:, 0]) >= 0).all()
    # Frequency: bin k shows what was at k / a, a in [0.8, 1.2], capped at
    # the top bin.
    a = 40.0 / bins[40]
    assert 0.8 - 1e-3 <= a <= 1.2 + 1e-3
    np.testing.assert_allclose(bins, np.minimum(np.arange(81) / a, 80),
                               atol=1e-2)
    lengths.add(out.shape[0])
    tops.add(round(float(bins[40]), 2))
    np.testing.assert_array_equal(
        out, aug(_ramp(), tf.constant(index, tf.int64)).numpy()[:, :, 0])
  assert len(lengths) > 5 and len(tops) > 5  # the factors really vary


def test_warp_keeps_the_frames_the_transcript_needs():
  aug = augment.Warp(tempo=0.5, freq=0.0, seed=1)
  for index in range(20):
    out = aug(_ramp(), tf.constant(index, tf.int64), 95)
    assert 95 <= out.shape[0] <= 150
  # An utterance already shorter than that is never shortened.
  assert aug(_ramp(frames=50), tf.constant(0, tf.int64), 95).shape[0] >= 50


def test_warp_disabled_or_invalid():
  assert not augment.Warp(0, 0, 1).enabled
  assert not augment.Chain(augment.Warp(0, 0, 1),
                           augment.SpecAugment(0, 0, 1)).enabled
  features = _ramp()
  np.testing.assert_array_equal(
      augment.Chain(augment.Warp(0, 0, 1))(features, 0), features)
  for tempo, freq in ((-0.1, 0), (0, 1.0)):
    with pytest.raises(ValueError):
      augment.Warp(tempo, freq, 1)


def test_pipeline_warps_training_batches(corpus):
  speech = conftest.speech_dataset(corpus)
  aug = augment.Chain(augment.Warp(tempo=0.15, freq=0.1, seed=2),
                      augment.SpecAugment(freq_mask=10, time_mask=0, seed=2))
  plain = [f for f, _ in dataset.input_fn(4, speech)]
  warped = [f for f, _ in dataset.input_fn(4, speech, augment=aug)]
  again = [f for f, _ in dataset.input_fn(4, speech, augment=aug)]
  changed = 0
  for p, w, a in zip(plain, warped, again):
    np.testing.assert_array_equal(w["features"].numpy(),
                                  a["features"].numpy())
    # input_length follows the warped frames.
    np.testing.assert_array_equal(
        w["input_length"].numpy()[:, 0],
        (np.abs(w["features"].numpy()).sum(axis=(2, 3)) > 0).sum(axis=1))
    changed += int(not np.array_equal(p["input_length"].numpy(),
                                      w["input_length"].numpy()))
  assert changed > 0


def test_pipeline_tells_the_warp_what_each_transcript_needs(corpus):
  # Shrinking to as little as a tenth would leave too few frames for CTC
  # without the floor input_fn passes down.
  speech = conftest.speech_dataset(corpus)
  aug = augment.Warp(tempo=0.9, freq=0.0, seed=5)
  for features, labels in dataset.input_fn(4, speech, augment=aug):
    for length, row, label_length in zip(
        features["input_length"].numpy()[:, 0], labels.numpy(),
        features["label_length"].numpy()[:, 0]):
      assert length // speech.time_reduction >= (
          manifest.ctc_required_frames(list(row[:label_length])))

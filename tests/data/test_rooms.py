"""Tests for data/rooms.py: the bank of simulated room impulse responses."""

import sys

import numpy as np
import pytest

from data import rooms


def _bank(count, rt60, seed=1):
  pytest.importorskip("pyroomacoustics")
  return rooms.simulate_rirs(count, rt60, 16000, seed)


@pytest.mark.slow
def test_rooms_decay_as_their_reverberation_time_asks():
  short = _bank(4, (0.2, 0.3))
  long = _bank(4, (0.7, 0.8))
  short_t = [rooms.decay_time(r, 16000) for r in short]
  long_t = [rooms.decay_time(r, 16000) for r in long]
  # The image source method's decay differs from Sabine's formula by up to
  # a third, so the check is the order of the two banks and a broad window.
  assert max(short_t) < min(long_t)
  assert all(0.1 < t < 0.4 for t in short_t), short_t
  assert all(0.5 < t < 1.2 for t in long_t), long_t
  for rir in short + long:
    assert rir.dtype == np.float32
    assert np.sum(rir.astype(np.float64) ** 2) == pytest.approx(1.0, 1e-5)
    # The response starts at its direct sound (kept whole: 40 taps before).
    assert int(np.argmax(np.abs(rir))) == 40


def test_same_seed_gives_the_same_bank_and_another_seed_another():
  first = _bank(2, (0.2, 0.25), seed=5)
  again = _bank(2, (0.2, 0.25), seed=5)
  other = _bank(2, (0.2, 0.25), seed=6)
  assert all(np.array_equal(a, b) for a, b in zip(first, again))
  assert not any(a.shape == b.shape and np.array_equal(a, b)
                 for a, b in zip(first, other))


def test_missing_pyroomacoustics_names_the_pip_line(monkeypatch):
  # A None entry makes `import pyroomacoustics` raise ImportError.
  monkeypatch.setitem(sys.modules, "pyroomacoustics", None)
  with pytest.raises(rooms.MissingLibraryError) as raised:
    rooms.simulate_rirs(2, (0.2, 0.3), 16000, 1)
  assert str(raised.value).startswith(
      "reverberation needs pyroomacoustics (pip install pyroomacoustics  "
      "(see requirements-extras.txt)): ")


@pytest.mark.parametrize("count,rt60", [(0, (0.2, 0.3)), (2, (0.5, 0.3)),
                                        (2, (0.0, 0.3))])
def test_bad_bank_settings_are_refused_before_any_simulation(
    monkeypatch, count, rt60):
  monkeypatch.setitem(sys.modules, "pyroomacoustics", None)
  with pytest.raises(ValueError, match="need at least one room"):
    rooms.simulate_rirs(count, rt60, 16000, 1)

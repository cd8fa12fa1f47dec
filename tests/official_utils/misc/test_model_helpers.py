"""Tests for official_utils/misc/model_helpers.py."""

import numpy as np
import pytest

from official_utils.misc import model_helpers


def test_past_stop_threshold():
  assert model_helpers.past_stop_threshold(None, 1.5) is False
  assert model_helpers.past_stop_threshold(0.5, 0.5) is True
  assert model_helpers.past_stop_threshold(0.5, 0.6) is True
  assert model_helpers.past_stop_threshold(0.5, 0.4) is False
  assert model_helpers.past_stop_threshold(0, 0) is True
  assert model_helpers.past_stop_threshold(0.5, np.float32(0.75)) is True


@pytest.mark.parametrize("threshold,value", [
    ("0.5", 0.4), (0.5, "0.4"), (0.5, None), ([0.5], 0.4)])
def test_past_stop_threshold_rejects_non_numbers(threshold, value):
  with pytest.raises(ValueError):
    model_helpers.past_stop_threshold(threshold, value)


def test_past_threshold_lower_is_better_for_wer():
  assert model_helpers.past_threshold(0.23, 0.20, higher_is_better=False)
  assert model_helpers.past_threshold(0.23, 0.23, higher_is_better=False)
  assert not model_helpers.past_threshold(0.23, 0.9, higher_is_better=False)
  assert not model_helpers.past_threshold(None, 0.0, higher_is_better=False)
  # The original's inverted test: WER 0.9 "passes" a 0.23 threshold when
  # higher is better; the WER direction must not.
  assert model_helpers.past_threshold(0.23, 0.9, higher_is_better=True)
  with pytest.raises(ValueError):
    model_helpers.past_threshold(0.23, "0.1", higher_is_better=False)

"""Smoke tests for bench/flops.py: it runs in a tiny mode and its last line is
the documented JSON (speed is measured by the script, never asserted here)."""

import os
import sys

import pytest

from tests.helpers import bench as bench_run


def test_step_flops_counts_the_matrix_products():
  sys.path.insert(0, os.path.join(bench_run.ROOT, "bench"))
  import flops  # pylint: disable=g-import-not-at-top
  import train_step  # pylint: disable=g-import-not-at-top
  params = dict(train_step.model_params("tiny"), conv_filters=4)
  # 80 frames x 161 bins: conv1 -> 40 x 81, conv2 -> 20 x 81 (see
  # deep_speech_model.CONV_LAYERS); 2 examples.
  conv1 = 2.0 * 2 * 40 * 81 * 4 * 41 * 11 * 1 * 2
  conv2 = 2.0 * 2 * 20 * 81 * 4 * 21 * 11 * 4 * 3
  gru = 3 * 2.0 * 2 * 20 * 2 * 3 * (81 * 4 + 32) * 32
  dense = 3 * 2.0 * 2 * 20 * 64 * 29
  assert flops.step_flops(params, 2, 80, 161) == pytest.approx(
      conv1 + conv2 + gru + dense)

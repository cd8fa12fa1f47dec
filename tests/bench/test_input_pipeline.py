"""Smoke tests for bench/input_pipeline.py: it runs in a tiny mode and its last line is
the documented JSON (speed is measured by the script, never asserted here)."""

import os

import pytest

from tests.helpers import bench as bench_run


@pytest.mark.slow
def test_input_pipeline_bench():
  result = bench_run.run("input_pipeline.py", "--utts", "12", "--min_sec", "1",
                "--max_sec", "3", "--batch_size", "4", "--rounds", "1")
  assert result["utts"] == 12
  assert 0 < result["audio_hours"] < 12 * 3.5 / 3600
  for key in ("seed_generator_utt_per_s", "pipeline_utt_per_s", "speedup",
              "featurizer_audio_s_per_cpu_s"):
    assert result[key] > 0, key
  for key in ("cached_fill_epoch_utt_per_s", "cached_epoch_utt_per_s",
              "cached_epoch_speedup"):
    assert result[key] > 0, key
  assert result["max_abs_diff"] is not None
  assert 0 <= result["max_abs_diff"] <= 1e-4
  assert result["cpus"] == os.cpu_count()

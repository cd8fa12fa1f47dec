"""Smoke tests for bench/augmentation.py: it runs in a tiny mode and its last line is
the documented JSON (speed is measured by the script, never asserted here)."""

import pytest

from tests.helpers import bench as bench_run


@pytest.mark.slow
def test_augmentation_bench():
  pytest.importorskip("pyroomacoustics")
  result = bench_run.run("augmentation.py", "--utts", "8", "--min_sec", "1",
                "--max_sec", "2", "--batch_size", "4", "--rooms", "2",
                "--rt60", "0.2", "0.3", timeout=300)
  assert result["utts"] == 8 and result["noise_files"] == 2
  assert set(result["utts_per_sec"]) == {
      "none", "reverb", "babble", "noise", "gain", "telephone", "codec_mp3",
      "codec_gsm", "all"}
  assert all(rate > 0 for rate in result["utts_per_sec"].values())
  assert result["sec_per_room"] > 0

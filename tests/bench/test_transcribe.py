"""Smoke tests for bench/transcribe.py: it runs in a tiny mode and its last line is
the documented JSON (speed is measured by the script, never asserted here)."""

import pytest

from tests.helpers import bench as bench_run


@pytest.mark.slow
def test_transcribe_bench():
  result = bench_run.run("transcribe.py", "--short_files", "2", "--short_sec", "1",
                "--long_min", "0.01", "--lm_sentences", "200",
                "--beam_width", "4", timeout=300)
  for case in ("greedy_short", "greedy_long", "beam_lm_short",
               "beam_lm_long"):
    assert result[case]["audio_sec"] > 0 and result[case]["rtf"] > 0
    assert result[case]["peak_rss_mb"] > 0
  assert result["greedy_long"]["audio_sec"] == 10.0

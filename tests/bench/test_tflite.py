"""Smoke tests for bench/tflite.py: it runs in a tiny mode and its last line is
the documented JSON (speed is measured by the script, never asserted here)."""

import pytest

from tests.helpers import bench as bench_run


@pytest.mark.slow
def test_tflite_bench():
  result = bench_run.run(
      "tflite.py", "--audio_sec", "3", "--threads", "1",
      "--rnn_hidden_layers", "1", "--rnn_hidden_size", "16",
      "--conv_filters", "4", "--variants", "savedmodel,int8",
      "--modes", "stream", timeout=300)
  assert [(c["variant"], c["mode"], c["threads"]) for c in result["cases"]
          ] == [("savedmodel", "stream", 1), ("int8", "stream", 1)]
  for case in result["cases"]:
    assert case["audio_sec"] == 3.0 and case["rtf"] > 0
    assert case["peak_rss_mb"] >= result["baseline"]["peak_rss_mb"] > 0
  assert list(result["file_mb"]) == ["int8"]

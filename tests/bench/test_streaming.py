"""Smoke tests for bench/streaming.py: it runs in a tiny mode and its last
line is the documented JSON (speed is measured by the script, never asserted
here)."""

import pytest

from tests.helpers import bench as bench_run


@pytest.mark.slow
def test_streaming_bench():
  result = bench_run.run("streaming.py", "--audio_sec", "2", "--chunk_ms",
                         "20,500", "--rnn_hidden_size", "16", timeout=300)
  assert result["threads"] == 1 and result["decoder"] == "greedy"
  assert "3 x 16 uniGRU" in result["model"]  # the demo's layers, made small
  assert [r["chunk_ms"] for r in result["runs"]] == [20, 500]
  for run in result["runs"]:
    assert run["audio_sec"] == 2.0
    assert run["rtf"] > 0 and run["final_latency_ms"] >= 0
    # The first output cannot come before the network has its lookahead.
    assert run["first_partial_ms"] >= result["latency_ms"]

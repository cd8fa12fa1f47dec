"""Smoke tests for bench/server.py: it runs in a tiny mode and its last line is
the documented JSON (speed is measured by the script, never asserted here)."""

import pytest

from tests.helpers import bench as bench_run


@pytest.mark.slow
def test_server_bench():
  result = bench_run.run("server.py", "--requests", "4", "--concurrency", "2",
                "--clip_sec", "1", "--batch_requests", "1,2", timeout=300)
  assert (result["requests"], result["concurrency"]) == (4, 2)
  assert [r["batch_requests"] for r in result["runs"]] == [1, 2]
  for run in result["runs"]:
    assert run["rps"] > 0 and 0 < run["p50_ms"] <= run["p99_ms"]

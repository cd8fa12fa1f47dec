"""Smoke tests for bench/synthesis.py: it runs in a tiny mode and its last line is
the documented JSON (speed is measured by the script, never asserted here)."""

from tests.helpers import bench as bench_run


def test_synthesis_bench():
  result = bench_run.run("synthesis.py", "--per_voice", "2", timeout=120)
  assert result["per_voice_utts"] == 2
  steps = ("engine", "sox", "noise", "mix", "flac")
  for figures in list(result["cpu_ms_per_utt"].values()) + [
      result["corpus_cpu_ms_per_utt"]]:
    assert all(figures[s] >= 0 for s in steps)
    assert abs(sum(figures[s] for s in steps) - figures["total"]) < 0.1
    # The engines and sox run as child processes: their CPU is counted.
    assert figures["engine"] > 0 and figures["sox"] > 0
  assert len(result["cpu_ms_per_utt"]) == 8
  assert 0.5 < result["mean_audio_s"] < 10 and result["demo_estimate_s"] > 0

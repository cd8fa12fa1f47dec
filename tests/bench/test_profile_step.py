"""Smoke tests for bench/profile_step.py: it runs in a tiny mode and its last line is
the documented JSON (speed is measured by the script, never asserted here)."""

from tests.helpers import bench as bench_run


def test_profile_step_bench():
  result = bench_run.run("profile_step.py", "--config", "tiny",
                         "--batch_size", "2", "--utt_sec", "1",
                         "--num_bins", "81", "--warmup", "1", "--steps", "2",
                         "--traced", "1", "--top", "3")
  assert (result["config"], result["batch_size"], result["num_bins"]) == (
      "tiny", 2, 81)
  assert len(result["step_s_all"]) == 2 and all(
      s > 0 for s in result["step_s_all"])
  assert min(result["step_s_all"]) <= result["step_s"] <= max(
      result["step_s_all"])
  assert result["op_seconds_per_step"] > 0
  # The op types traced, largest first, with their shares of the op time.
  assert 1 <= len(result["top_ops"]) <= 3
  seconds = [s for _, s, _ in result["top_ops"]]
  shares = [share for _, _, share in result["top_ops"]]
  assert seconds == sorted(seconds, reverse=True) and seconds[-1] >= 0
  assert all(0 <= share <= 1 for share in shares) and sum(shares) <= 1.001
  assert isinstance(result["onednn_custom_ops"], bool)

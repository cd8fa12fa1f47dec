"""Smoke tests for bench/train_step.py: it runs in a tiny mode and its last line is
the documented JSON (speed is measured by the script, never asserted here)."""

import pytest

from tests.helpers import bench as bench_run


@pytest.mark.slow
def test_train_step_bench():
  result = bench_run.run("train_step.py", "--quick", "--configs", "tiny", "--steps",
                "2", "--warmup", "1", "--utt_sec", "1.5")
  assert [r["config"] for r in result["results"]] == ["tiny"]
  (tiny,) = result["results"]
  assert tiny["params_match"]
  assert tiny["timed_steps"] == 2
  assert tiny["estimator_useful_gflops"] == pytest.approx(
      tiny["useful_gflop_per_step"] / tiny["estimator_step_s"], rel=0.01)
  for key in ("estimator_steps_per_s", "keras_loop_steps_per_s", "ratio",
              "estimator_audio_s_per_s", "keras_loop_audio_s_per_s",
              "useful_gflop_per_step", "sgemm_gflops", "fraction_of_sgemm"):
    assert tiny[key] > 0, key

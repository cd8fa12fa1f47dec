"""Smoke tests for bench/precision.py: it runs in a tiny mode and its last line is
the documented JSON (speed is measured by the script, never asserted here)."""

import pytest

from tests.helpers import bench as bench_run


@pytest.mark.slow
def test_precision_bench():
  # The environment is set explicitly, so the test holds on every CPU kind
  # (TensorFlow's oneDNN default differs between them). Where bfloat16
  # cannot run (oneDNN's custom operations on, no AVX512), the script
  # leaves it out and says so.
  env = {"ONEDNN_MAX_CPU_ISA": "AVX2", "TF_ENABLE_ONEDNN_OPTS": "1",
         "CUDA_VISIBLE_DEVICES": ""}
  result = bench_run.run("precision.py", "--dtypes", "float32,bfloat16",
                "--batch_size", "2", "--utt_sec", "1", "--steps", "1",
                "--warmup", "0", env=env, timeout=300)
  assert set(result["results"]) == {"float32"}
  assert "bfloat16" in result["skipped"]
  assert result["onednn_custom_ops"] is True
  # With them off, TensorFlow's own kernels emulate bfloat16: it is timed
  # and marked as emulated.
  env["TF_ENABLE_ONEDNN_OPTS"] = "0"
  result = bench_run.run("precision.py", "--dtypes", "float32,bfloat16",
                "--batch_size", "2", "--utt_sec", "1", "--steps", "2",
                "--warmup", "1", env=env, timeout=300)
  assert result["batch_size"] == 2 and result["steps"] == 2
  assert set(result["results"]) == {"float32", "bfloat16"}
  assert result["onednn_custom_ops"] is False
  assert result["bfloat16_native"] is False and not result["skipped"]
  for figures in result["results"].values():
    assert figures["step_s"] > 0 and figures["loss_after"] > 0
  assert result["results"]["float32"]["speedup_vs_float32"] == 1.0

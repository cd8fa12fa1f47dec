"""Smoke test of bench/gpu_check.sh in its reduced CPU mode (no GPU here)."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


@pytest.mark.slow
def test_gpu_check_without_a_gpu_runs_its_cpu_mode_and_says_so():
  env = dict(os.environ, PYTHON=sys.executable, CUDA_VISIBLE_DEVICES="")
  proc = subprocess.run(["bash", "bench/gpu_check.sh", "--tiny"], cwd=ROOT,
                        env=env, capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
  report = json.loads(proc.stdout.strip().splitlines()[-1])
  assert report["mode"] == "cpu" and "reduced CPU mode" in report["note"]
  assert report["devices"]["gpus"] == []
  assert report["cudnn_rnn_used"] is False
  assert report["precision"]["results"]["float32"]["step_s"] > 0
  assert report["precision"]["results"]["float32"]["cudnn_rnn_ops"] == []
  training = report["training"]
  assert training["train_ok"] and training["loss_fell"]
  assert len(training["train_losses"]) == 2
  assert training["train_losses"][1] < training["train_losses"][0]
  assert training["transcribe_ok"] and 0 <= training["dev_cer"]
  assert report["ok"] is True

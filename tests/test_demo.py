"""Smoke test of the quickstart: demo.sh end to end on a tiny corpus."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_demo_runs_end_to_end_and_reuses_its_work(tmp_path):
  env = dict(os.environ, PYTHON=sys.executable, DEMO_DIR=str(tmp_path / "d"),
             NUM_TRAIN="8", NUM_DEV="4", EPOCHS="1",
             # 10 ms windows, as the demo uses: transcribe.py must take the
             # featurizer settings from the export, not its own defaults.
             MODEL_FLAGS="--rnn_hidden_layers=1 --rnn_hidden_size=16 "
                         "--batch_size=4 --learning_rate=1e-3 --window_ms=10")
  run = lambda: subprocess.run(["bash", "demo.sh"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=900)
  first = run()
  out = first.stdout + first.stderr
  assert first.returncode == 0, out[-3000:]
  for step in ("1/4", "2/4", "3/4", "4/4"):
    assert "== %s" % step in out
  assert "Iteration 1: WER = " in out
  assert out.count("reference : ") >= 4 and "prediction: " in out
  assert "Traceback" not in out

  # A second run reuses corpus, wavs and checkpoints: no new training cycle.
  second = run()
  out2 = second.stdout + second.stderr
  assert second.returncode == 0, out2[-3000:]
  assert "Iteration 1: WER" not in out2
  assert out2.count("reference : ") >= 4

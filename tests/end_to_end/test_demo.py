"""Smoke test of the quickstart: demo.sh end to end on a tiny corpus."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


@pytest.mark.slow
def test_demo_runs_end_to_end_then_resumes_within_its_budget(tmp_path):
  env = dict(os.environ, PYTHON=sys.executable, DEMO_DIR=str(tmp_path / "d"),
             # The demo's own model flags (so a bad one fails here), on a
             # corpus of one batch. They include 10 ms windows: transcribe.py
             # must take the featurizer settings from the export.
             NUM_TRAIN="8", NUM_DEV="4", EPOCHS="1")
  run = lambda: subprocess.run(["bash", "demo.sh"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=900)
  first = run()
  out = first.stdout + first.stderr
  assert first.returncode == 0, out[-3000:]
  for step in ("1/4", "2/4", "3/4", "4/4", "LM 1/3", "LM 2/3", "LM 3/3"):
    assert "== %s" % step in out
  # The LM settings tuned on held-out training rows reach transcribe.py.
  assert "<- best" in out and "Best: alpha" in out
  assert "Iteration 1: WER = " in out
  assert out.count("reference : ") >= 4 and "prediction: " in out
  assert "Traceback" not in out

  # A second run reuses corpus, wavs and checkpoints, and without EPOCHS
  # trains while cycles fit the budget: with well under a minute left, one
  # more cycle (the second, resumed from the first's checkpoint), then a
  # stop.
  env.pop("EPOCHS")
  env["DEMO_MINUTES"] = "0.2"
  second = run()
  out2 = second.stdout + second.stderr
  assert second.returncode == 0, out2[-3000:]
  assert "while epochs fit 0.10 minutes" in out2
  assert "Iteration 1: WER" not in out2
  assert "Iteration 2: WER = " in out2 and "Iteration 3: WER" not in out2
  assert "Stopping after cycle 2" in out2 and "== 4/4" in out2
  assert out2.count("reference : ") >= 4
  assert "== minutes per stage (planned / actual)" in out2
  assert "  training " in out2 and "  total " in out2

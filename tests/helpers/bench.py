"""Running a benchmark of bench/ as users do, for the smoke tests."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def run(script, *args, timeout=120, env=None):
  """Runs `python bench/<script> args` from the repository root.

  Returns:
    The JSON object of its last output line.
  """
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
  proc = subprocess.run(
      [sys.executable, os.path.join("bench", script)] + list(args), cwd=ROOT,
      env=env, capture_output=True, text=True, timeout=timeout, check=False)
  assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
  lines = proc.stdout.strip().splitlines()
  assert lines, proc.stderr[-4000:]
  return json.loads(lines[-1])

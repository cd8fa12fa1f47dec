"""Running the project's command-line scripts as a user runs them."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def run_script(script, *args, timeout=120, env=None):
  """Runs `python <script> args...` from the repository root.

  Args:
    script: the script's path relative to the root, e.g. "data/build_lm.py".
    *args: its arguments.
    timeout: seconds before the run counts as hung.
    env: the environment (default: this one).

  Returns:
    The `subprocess.CompletedProcess`, text decoded as UTF-8.
  """
  return subprocess.run(
      [sys.executable, os.path.join(ROOT, script)] + list(args), cwd=ROOT,
      capture_output=True, encoding="utf-8", timeout=timeout, env=env,
      check=False)

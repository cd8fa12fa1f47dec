"""Shared helpers of the official_utils tests."""

import json
import os
import subprocess
import sys
import textwrap

import tensorflow as tf

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def run_python(args, timeout=120):
  """Runs Python in the repository root; returns (returncode, output)."""
  env = dict(os.environ, PYTHONPATH=REPO_ROOT, TF_CPP_MIN_LOG_LEVEL="2")
  proc = subprocess.run([sys.executable] + args, cwd=REPO_ROOT, env=env,
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        timeout=timeout, check=False)
  return proc.returncode, proc.stdout.decode("utf-8", "replace")


def run_python_code(code, *args):
  return run_python(["-c", textwrap.dedent(code)] + list(args))


def json_lines(path):
  with open(path) as f:
    return [json.loads(line) for line in f if line.strip()]


def visible_gpus():
  return len(tf.config.list_physical_devices("GPU"))

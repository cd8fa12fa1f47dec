"""Tests for scripts/train_real.sh, the longer real-speech recipe: its flag
file is a valid deep_speech.py configuration, and it refuses to start
without the demo's outputs, naming what is missing."""

import os
import subprocess

from tests.helpers import train as train_helpers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def test_the_flag_file_is_the_demo_s_network_with_augmentation(monkeypatch):
  monkeypatch.chdir(ROOT)
  names = ("rnn_hidden_layers", "rnn_hidden_size", "conv_filters",
           "window_ms", "learning_rate_decay_steps", "reverb_prob",
           "babble_prob", "gain_prob", "telephone_prob")
  parsed = train_helpers.parse(["--flagfile=scripts/demo.flags"])
  demo = {name: parsed[name].value for name in names}
  parsed = train_helpers.parse(["--flagfile=scripts/train_real.flags"])
  real = {name: parsed[name].value for name in names}
  train_helpers.parse([])
  # The same network, so the demo's weights warm-start it.
  assert [real[n] for n in names[:4]] == [demo[n] for n in names[:4]]
  assert real["learning_rate_decay_steps"] > demo["learning_rate_decay_steps"]
  for name in names[5:]:
    assert 0 < real[name] < 1 and demo[name] == 0


def test_it_names_the_missing_demo_outputs(tmp_path):
  proc = subprocess.run(
      ["bash", os.path.join(ROOT, "scripts", "train_real.sh")],
      env=dict(os.environ, DEMO_DIR=str(tmp_path / "demo")),
      capture_output=True, text=True, timeout=60, check=False)
  assert proc.returncode == 2
  assert proc.stderr.count("\n") == 1
  assert "train-synthesized-and-real.csv is missing: run REAL_SPEECH=1 " \
         "make demo first" in proc.stderr
  assert not (tmp_path / "demo").exists()

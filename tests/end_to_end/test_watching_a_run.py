"""Watching a run: TensorBoard and plot.py on a real deep_speech.py run."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import matplotlib.image
import pytest

from tests import conftest
from tests.helpers import events

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
METRIC_KEYS = ("WER", "CER", "corpus_WER", "corpus_CER")


def _free_port():
  with socket.socket() as sock:
    sock.bind(("127.0.0.1", 0))
    return sock.getsockname()[1]


def _served_wer(model_dir, expected_points):
  """The eval run's WER as a stock TensorBoard serves it over HTTP."""
  port = _free_port()
  tensorboard = os.path.join(os.path.dirname(sys.executable), "tensorboard")
  proc = subprocess.Popen(
      [tensorboard, "--logdir", model_dir, "--host", "127.0.0.1",
       "--port", str(port), "--reload_interval", "1"],
      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
  url = ("http://127.0.0.1:%d/data/plugin/scalars/scalars?run=eval&tag=WER"
         % port)
  points = None
  try:
    deadline = time.time() + 90
    while time.time() < deadline and proc.poll() is None:
      try:
        with urllib.request.urlopen(url, timeout=5) as response:
          points = json.loads(response.read())
        if len(points) == expected_points:
          break
      except (urllib.error.URLError, ConnectionError, ValueError):
        pass
      time.sleep(0.5)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
  finally:
    proc.terminate()
    proc.wait(timeout=30)
  return points


def test_tensorboard_and_plot_show_what_train_state_records(tmp_path):
  manifest = conftest.make_corpus(tmp_path / "data", num_utts=8)
  model_dir = str(tmp_path / "model")
  proc = subprocess.run(
      [sys.executable, "deep_speech.py", "--train_data_dir=" + manifest,
       "--eval_data_dir=" + manifest, "--model_dir=" + model_dir,
       "--export_dir=", "--train_epochs=2", "--batch_size=2",
       "--rnn_hidden_size=16", "--rnn_hidden_layers=1", "--conv_filters=4",
       "--learning_rate=3e-3", "--log_every_n_steps=2"],
      cwd=ROOT, capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  with open(os.path.join(model_dir, "train_state.json")) as f:
    cycles = json.load(f)["cycles"]
  assert [c["global_step"] for c in cycles] == [4, 8]

  # The eval run holds each cycle's figures at the step it ended on.
  evaluated = events.scalars(os.path.join(model_dir, "eval"))
  for key in METRIC_KEYS:
    assert evaluated[key] == {c["global_step"]: pytest.approx(c[key])
                              for c in cycles}, key
  assert set(evaluated["samples"]) == {4, 8}
  assert set(evaluated["spectrogram"]) == {4, 8}
  # Training scalars beside the Estimator's loss.
  trained = events.scalars(model_dir)
  assert trained["learning_rate"]
  assert list(trained["learning_rate"].values()) == pytest.approx(
      [3e-3] * len(trained["learning_rate"]))
  assert all(v > 0 for v in trained["gradient_norm"].values())
  assert all(v > 0 for v in trained["examples/sec"].values())

  points = _served_wer(model_dir, len(cycles))
  # Each point is [wall_time, step, value].
  assert [p[1] for p in points] == [c["global_step"] for c in cycles]
  assert [p[2] for p in points] == pytest.approx([c["WER"] for c in cycles])

  png = str(tmp_path / "run.png")
  proc = subprocess.run(
      [sys.executable, "plot.py", "--model_dir=" + model_dir,
       "--output=" + png], cwd=ROOT, capture_output=True, text=True,
      timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]
  image = matplotlib.image.imread(png)
  assert image.shape[:2] == (360, 1200) and image.std() > 0.05

"""A second deep_speech.py on a model directory that a run holds."""

import os
import subprocess
import sys

from tests import conftest
from training import lock

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def test_a_second_run_is_refused_naming_the_holder(tmp_path):
  manifest = conftest.make_corpus(tmp_path / "data", num_utts=4)
  model_dir = str(tmp_path / "model")
  cmd = [sys.executable, "deep_speech.py", "--train_data_dir=" + manifest,
         "--eval_data_dir=" + manifest, "--model_dir=" + model_dir,
         "--export_dir=", "--train_epochs=1", "--batch_size=2",
         "--rnn_hidden_size=8", "--rnn_hidden_layers=1", "--conv_filters=2"]
  # This process plays the first run: it holds the directory's lock.
  with lock.RunLock(model_dir):
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
  assert proc.returncode == 1, proc.stderr[-2000:]
  assert "pid %d" % os.getpid() in proc.stderr
  assert "Traceback" not in proc.stderr
  # Nothing was trained or recorded by the refused run.
  assert not any(name.startswith("model.ckpt")
                 for name in os.listdir(model_dir))
  # Once the holder is gone, the same command trains.
  proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                        timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert "Iteration 1: WER = " in proc.stderr

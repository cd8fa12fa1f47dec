"""Training killed, interrupted or fed NaN audio: nothing is lost or poisoned.

Each test runs `deep_speech.py` as a real subprocess with a tiny model on the
16-utterance corpus (batch 4: 4 steps per epoch), saving a checkpoint every
step, and signals it once a checkpoint shows that training is under way.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from tests import conftest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TINY = ["--batch_size=4", "--rnn_hidden_size=16", "--rnn_hidden_layers=1",
        "--learning_rate=2e-3", "--export_dir=", "--show_samples=0",
        "--save_checkpoints_steps=1"]
# Only a guard against a hung subprocess; no assertion depends on timing.
_HANG_GUARD_S = 600

pytestmark = pytest.mark.slow


def train_command(train, model_dir, *flags, eval_manifest=None):
  return [sys.executable, "deep_speech.py", "--train_data_dir=" + train,
          "--eval_data_dir=" + (eval_manifest or train),
          "--model_dir=" + model_dir] + TINY + list(flags)


def start(cmd, log_path):
  """Starts training with stdout and stderr going to `log_path`."""
  with open(log_path, "w") as log:
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT)


def run(cmd, log_path):
  """Runs training to the end; returns (exit status, its log)."""
  proc = start(cmd, log_path)
  proc.wait(timeout=_HANG_GUARD_S)
  return proc.returncode, read(log_path)


def read(path):
  with open(path) as f:
    return f.read()


def checkpoint_step(model_dir):
  """Global step of the latest complete checkpoint, -1 if none."""
  path = tf.train.latest_checkpoint(model_dir)
  return int(path.rsplit("-", 1)[1]) if path else -1


def wait_for_checkpoint(proc, model_dir, min_step, log_path):
  """Polls until a checkpoint at `min_step` or later exists; returns its step."""
  deadline = time.monotonic() + _HANG_GUARD_S
  while checkpoint_step(model_dir) < min_step:
    assert proc.poll() is None, (
        "training ended before a step %d checkpoint:\n%s"
        % (min_step, read(log_path)[-3000:]))
    assert time.monotonic() < deadline, "no checkpoint; training hung?"
    time.sleep(0.05)
  return checkpoint_step(model_dir)


def read_state(model_dir):
  with open(os.path.join(model_dir, "train_state.json")) as f:
    return json.load(f)


def final_weights(model_dir):
  """Every trained variable of the latest checkpoint (not Adam's slots)."""
  path = tf.train.latest_checkpoint(model_dir)
  return {name: tf.train.load_variable(path, name)
          for name, _ in tf.train.list_variables(path)
          if "Adam" not in name and "power" not in name}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
  """An uninterrupted run: (manifest, model_dir) after 2 cycles of 4 steps."""
  d = tmp_path_factory.mktemp("reference")
  corpus = conftest.make_corpus(d / "data")
  model_dir = str(d / "model")
  status, log = run(train_command(corpus, model_dir, "--train_epochs=2"),
                    d / "reference.log")
  assert status == 0, log[-3000:]
  assert checkpoint_step(model_dir) == 8
  return corpus, model_dir


# Killed once a checkpoint shows step 2 (inside the first cycle) or step 6
# (inside the second, after the first was evaluated). Each restart must cope
# with wherever the kill actually lands: mid-step, mid-save, mid-evaluation.
@pytest.mark.parametrize("kill_after_step", [2, 6])
def test_sigkill_then_same_command_resumes(tmp_path, reference,
                                           kill_after_step):
  corpus, reference_dir = reference
  model_dir = str(tmp_path / "model")
  cmd = train_command(corpus, model_dir, "--train_epochs=2")
  proc = start(cmd, tmp_path / "killed.log")
  wait_for_checkpoint(proc, model_dir, kill_after_step,
                      tmp_path / "killed.log")
  os.kill(proc.pid, signal.SIGKILL)
  proc.wait(timeout=_HANG_GUARD_S)
  assert proc.returncode == -signal.SIGKILL
  # Where the kill landed: the last checkpoint and the cycles on record.
  killed_at = checkpoint_step(model_dir)
  recorded = (read_state(model_dir)["cycles"] if os.path.exists(
      os.path.join(model_dir, "train_state.json")) else [])
  assert killed_at >= kill_after_step

  status, log = run(cmd, tmp_path / "resumed.log")
  assert status == 0, log[-3000:]
  assert "Traceback" not in log
  assert checkpoint_step(model_dir) == 8
  state = read_state(model_dir)
  assert [c["cycle"] for c in state["cycles"]] == [1, 2]
  assert [c["global_step"] for c in state["cycles"]] == [4, 8]
  # Cycles finished before the kill are kept as they were, not run again;
  # the others are evaluated by the second run, exactly once.
  assert state["cycles"][:len(recorded)] == recorded
  for cycle in (1, 2):
    done_before = cycle <= len(recorded)
    assert ("Cycle %d/2 already done" % cycle in log) == done_before
    assert log.count("Iteration %d: WER" % cycle) == (0 if done_before else 1)
  # A kill inside a cycle's training resumes that cycle at the saved step.
  cycle_start = 4 * len(recorded)
  if cycle_start < killed_at < cycle_start + 4:
    assert "Resuming the cycle at step %d of 4" % (
        killed_at - cycle_start) in log
  # Same batches in the same order: the weights match the uninterrupted run.
  expected, got = final_weights(reference_dir), final_weights(model_dir)
  assert sorted(got) == sorted(expected)
  for name in expected:
    np.testing.assert_allclose(got[name], expected[name], rtol=1e-4,
                               atol=1e-6, err_msg=name)


def test_ctrl_c_saves_a_checkpoint_and_the_rerun_completes(tmp_path, corpus):
  # One cycle of 6 epochs (24 steps), so the signal lands inside training.
  # No periodic checkpoint after the step-0 one the Estimator writes when its
  # session starts (with the signal handler installed): any later checkpoint
  # is the one Ctrl-C saved.
  model_dir = str(tmp_path / "model")
  cmd = train_command(corpus, model_dir, "--train_epochs=6",
                      "--epochs_between_evals=6",
                      "--save_checkpoints_steps=1000")
  proc = start(cmd, tmp_path / "interrupted.log")
  before = wait_for_checkpoint(proc, model_dir, 0, tmp_path / "interrupted.log")
  assert before == 0
  os.kill(proc.pid, signal.SIGINT)
  proc.wait(timeout=_HANG_GUARD_S)
  log = read(tmp_path / "interrupted.log")
  assert proc.returncode == 130, log[-3000:]
  assert "Traceback" not in log
  saved = re.findall(r"Interrupted: checkpoint saved at step (\d+)\. Run the "
                     r"same command to resume\.", log)
  assert len(saved) == 1, log[-3000:]
  step = int(saved[0])
  # It stopped after the step in flight, long before the end of the cycle,
  # and saved that step's checkpoint.
  assert 0 < step < 24
  assert checkpoint_step(model_dir) == step
  assert "Iteration 1" not in log

  status, log = run(cmd, tmp_path / "resumed.log")
  assert status == 0, log[-3000:]
  assert "Resuming the cycle at step %d of 24" % step in log
  assert checkpoint_step(model_dir) == 24
  assert [c["global_step"] for c in read_state(model_dir)["cycles"]] == [24]


def test_nan_audio_stops_training_with_the_file_and_step(tmp_path):
  data = tmp_path / "data"
  good = conftest.make_corpus(data, num_utts=15)
  # A real 32-bit float WAV whose samples are NaN. Its header is perfect, so
  # the manifest checks (headers only) pass it: decoding 280k files up front
  # would take hours. The in-graph finiteness check is the safety net. At
  # 1.5 s of float samples it is the largest file, so size-sorted batches put
  # it in the last batch of the first epoch: step 3 (steps 0-2 are good).
  nan_wav = str(data / "nan.wav")
  size = conftest.write_wav(nan_wav, np.full(24000, np.nan), subtype="FLOAT")
  assert size > max(os.path.getsize(p) for p in data.glob("train-*.wav"))
  with open(good) as f:
    rows = [line.rstrip("\n").split("\t") for line in f][1:]
  train = conftest.write_manifest(str(data / "with_nan.csv"),
                                  [(p, int(s), t) for p, s, t in rows] +
                                  [(nan_wav, size, "cat")])

  model_dir = str(tmp_path / "model")
  status, log = run(train_command(train, model_dir, "--train_epochs=1",
                                  eval_manifest=good), tmp_path / "nan.log")
  assert status == 1, log[-3000:]
  assert "Traceback" not in log
  assert "skipped" not in log  # not caught by the manifest checks
  (error,) = [line for line in log.splitlines()
              if "the loss is not finite" in line]
  assert nan_wav in error
  assert re.search(r"\bstep 3\b", error), error
  # The last checkpoint is the one before the bad step, and it is finite.
  assert checkpoint_step(model_dir) == 3
  weights = final_weights(model_dir)
  assert any("moving_mean" in name for name in weights)
  for name, value in weights.items():
    assert np.all(np.isfinite(value)), name

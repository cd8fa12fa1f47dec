"""Smoke tests for bench/convergence.py: it runs in a tiny mode and its last line is
the documented JSON (speed is measured by the script, never asserted here)."""

import pytest

from tests import conftest
from tests.helpers import bench as bench_run


@pytest.mark.slow
def test_convergence_bench_prints_its_curve_and_continues(tmp_path):
  manifest = conftest.make_corpus(tmp_path / "data", num_utts=8)
  args = ["--train_data_dir=" + manifest, "--eval_data_dir=" + manifest,
          "--model_dir=" + str(tmp_path / "model"), "--batch_size=4",
          "--rnn_hidden_size=16", "--rnn_hidden_layers=1", "--conv_filters=4",
          "--learning_rate=2e-3", "--learning_rate_decay_steps=10",
          "--export_dir="]
  first = bench_run.run("convergence.py", *(args + ["--max_epochs=2"]), timeout=300)
  assert set(first) >= {"config", "epochs", "minutes", "dev_wer", "dev_cer",
                        "curve"}
  assert first["epochs"] == 2 and len(first["curve"]) == 2
  assert first["config"]["conv_filters"] == 4
  assert first["config"]["learning_rate_decay_steps"] == 10
  minutes = [point[0] for point in first["curve"]]
  assert 0 < minutes[0] < minutes[1] == first["minutes"]
  assert [round(first["dev_wer"], 4), round(first["dev_cer"], 4)] == (
      first["curve"][-1][1:])
  # The model directory is reused: a higher cap continues the same curve.
  second = bench_run.run("convergence.py", *(args + ["--max_epochs=3"]), timeout=300)
  assert second["epochs"] == 3
  assert second["curve"][:2] == first["curve"]

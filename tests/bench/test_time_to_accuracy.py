"""Smoke tests for bench/time_to_accuracy.py: it runs in a tiny mode and its last line is
the documented JSON (speed is measured by the script, never asserted here)."""

import pytest

from tests import conftest
from tests.helpers import bench as bench_run


@pytest.mark.slow
def test_time_to_accuracy_prints_a_curve_and_the_minutes_to_each_target(
    tmp_path):
  manifest = conftest.make_corpus(tmp_path / "data", num_utts=8)
  # The demo's configuration, shrunk by flags given after its flagfile.
  result = bench_run.run(
      "time_to_accuracy.py", "--train_data_dir=" + manifest,
      "--eval_data_dir=" + manifest, "--model_dir=" + str(tmp_path / "m"),
      "--batch_size=4", "--rnn_hidden_size=16", "--rnn_hidden_layers=1",
      "--conv_filters=4", "--learning_rate=2e-3", "--export_dir=",
      "--train_epochs=2", "--target_greedy_cer=100", "--target_lm_wer=0",
      timeout=600)
  assert [row["epoch"] for row in result["epochs"]] == [1, 2]
  first, second = result["epochs"]
  assert 0 < first["train_minutes"] < second["train_minutes"]
  assert first["wall_minutes"] > first["train_minutes"]
  # Any CER is within 100: reached at the first epoch; no LM was given.
  assert result["minutes_to_greedy_cer"] == first["train_minutes"]
  assert result["minutes_to_lm_wer"] is None and first["lm_wer"] is None
  assert result["config"]["rnn_hidden_size"] == 16
  # The flagfile's other settings stayed: the demo's 10 ms windows.
  assert result["config"]["window_ms"] == 10
  assert "avx512" in result["cpu"] or "no AVX512" in result["cpu"]

"""Tests for scripts/demo_plan.py: fitting make demo into its budget."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import demo_plan  # pylint: disable=g-import-not-at-top,wrong-import-position


def test_fast_machines_keep_the_tuned_corpus():
  # Bare steps of 0.42 s fp32 / 0.33 s bf16: the tuned corpus, with the
  # epochs that fit once the real epoch's overhead is counted.
  for step_s, dtype in ((0.42, "fp32"), (0.33, "bf16")):
    num_train, epochs, reason = demo_plan.choose(step_s, 0.021, 23, dtype)
    assert num_train == 12000 and 3 < epochs <= demo_plan.TUNED_EPOCHS[dtype]
    assert demo_plan.predict_minutes(num_train, epochs, step_s, 0.021) <= 23
    assert demo_plan.predict_minutes(num_train, epochs + 1, step_s,
                                     0.021) > 23, reason
  assert demo_plan.choose(0.24, 0.021, 23, "bf16")[:2] == (12000, 7)


def test_time_left_over_goes_to_more_epochs():
  num_train, epochs, reason = demo_plan.choose(0.18, 0.021, 23, "bf16")
  assert num_train == 12000 and 7 < epochs < demo_plan.MAX_EPOCHS, reason
  assert demo_plan.predict_minutes(num_train, epochs, 0.18, 0.021) <= 23
  assert demo_plan.predict_minutes(num_train, epochs + 1, 0.18, 0.021) > 23
  assert "more epochs" in reason
  # Very fast: capped.
  assert demo_plan.choose(0.05, 0.021, 23, "bf16")[:2] == (
      12000, demo_plan.MAX_EPOCHS)


def test_the_stages_add_up_and_training_counts_more_than_the_bare_step():
  stages = demo_plan.predict_stages(12000, 5, 0.33, 0.027)
  assert set(stages) == set(demo_plan.STAGES)
  assert sum(stages.values()) / 60 == pytest.approx(
      demo_plan.predict_minutes(12000, 5, 0.33, 0.027))
  steps = 5 * 375
  assert stages["training"] > steps * 0.33
  assert stages["synthesis"] == pytest.approx(12000 * 0.027)


def test_slower_machines_trade_epochs_then_utterances():
  # A bit slower: epochs go first, the corpus stays.
  num_train, epochs, reason = demo_plan.choose(0.6, 0.021, 23, "fp32")
  assert num_train == 12000 and 3 <= epochs < 6, reason
  # A 2-core AVX2 EPYC with oneDNN on: 1.49 s/step, 906 s synthesis.
  num_train, epochs, _ = demo_plan.choose(1.49, 906 / 12200, 23, "fp32")
  assert epochs == 3 and 2000 <= num_train < 12000
  assert demo_plan.predict_minutes(num_train, epochs, 1.49,
                                   906 / 12200) <= 23
  assert demo_plan.predict_minutes(num_train + 500, epochs, 1.49,
                                   906 / 12200) > 23
  # Far too slow: the smallest plan, and the reason says so.
  num_train, epochs, reason = demo_plan.choose(6.0, 0.2, 23, "fp32")
  assert (num_train, epochs) == (2000, 3) and "too slow" in reason


@pytest.mark.slow
def test_the_script_times_this_machine_and_prints_its_choice():
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
  proc = subprocess.run(
      [sys.executable, "scripts/demo_plan.py", "--steps=1", "--minutes=23"],
      cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "demo plan: training step" in proc.stderr and "chose" in proc.stderr
  # The engines are installed here (.ci/run installs them): synthesis is
  # timed with the corpus's own code, not assumed.
  assert "per utterance (measured)" in proc.stderr
  last = proc.stdout.strip().splitlines()[-1]
  values = dict(item.split("=") for item in last.split())
  assert set(values) == {"NUM_TRAIN", "EPOCHS"} | {
      "PLAN_%s_S" % stage.upper() for stage in demo_plan.STAGES}
  # Without --real_speech its stage costs nothing; every other one does.
  assert int(values["PLAN_REAL_SPEECH_S"]) == 0
  assert all(int(values["PLAN_%s_S" % stage.upper()]) > 0
             for stage in demo_plan.STAGES if stage != "real_speech")
  assert 2000 <= int(values["NUM_TRAIN"]) <= 12000
  assert 3 <= int(values["EPOCHS"]) <= demo_plan.MAX_EPOCHS


@pytest.mark.slow
def test_synthesis_is_timed_with_the_corpus_code():
  seconds = demo_plan.time_synthesis(per_voice=2)
  # Every voice spoke: a few ms to a few tenths of a second per utterance.
  assert 0.001 < seconds < 1.0


def test_synthesis_timing_needs_two_utterances_per_voice():
  # Festival's per-utterance cost is the difference of two batches.
  with pytest.raises(ValueError, match="at least 2"):
    demo_plan.time_synthesis(per_voice=1)


def test_the_timed_step_and_the_plan_read_the_demo_configuration():
  # One home for the demo's configuration: demo.sh passes the same file.
  config = demo_plan.read_flagfile(demo_plan.DEMO_FLAGS)
  assert {"rnn_hidden_layers", "rnn_hidden_size", "conv_filters",
          "batch_size", "learning_rate", "window_ms"} <= set(config)
  with open(os.path.join(ROOT, "demo.sh")) as f:
    assert "--flagfile=scripts/demo.flags" in f.read()
  steps = 5 * -(-12000 // int(config["batch_size"]))
  stages = demo_plan.predict_stages(12000, 5, 1.0, 0.0)
  assert stages["training"] > steps


def test_real_speech_costs_its_preparation_and_longer_steps():
  synthesized = demo_plan.predict_stages(12000, 5, 0.33, 0.027)
  both = demo_plan.predict_stages(12000, 5, 0.33, 0.027, real_rows=3000)
  assert synthesized["real_speech"] == 0 and both["real_speech"] > 0
  # 3,000 rows of ~2x the synthesized length: more than 3,000 rows' steps.
  extra = both["training"] - synthesized["training"]
  assert extra > 5 * (3000 / 32) * 0.33 * demo_plan.EPOCH_OVERHEAD
  # The plan gives up epochs to fit them.
  assert (demo_plan.choose(0.33, 0.027, 23, "bf16", real_rows=6690)[1] <
          demo_plan.choose(0.33, 0.027, 23, "bf16")[1])

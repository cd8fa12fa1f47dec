"""Tests for training/cycles.py: the schedule, cycle plans and the record."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from data import featurizer
from data import vocabulary
import deep_speech
from training import cycles
from training import inputs


def test_every_cycle_trains_epochs_between_evals_passes():
  assert cycles.cycle_epochs(5, 2) == [[0, 1], [2, 3], [4]]
  assert cycles.cycle_epochs(1, 1) == [[0]]
  with pytest.raises(ValueError, match="train_epochs must be >= 1"):
    cycles.cycle_epochs(0, 1)
  with pytest.raises(ValueError, match="epochs_between_evals must be >= 1"):
    cycles.cycle_epochs(3, 0)


def test_the_record_survives_a_restart(tmp_path):
  model_dir = str(tmp_path)
  state = cycles.TrainState.load_or_start(model_dir, 0, "fp")
  # Written at once, so a run killed in its first cycle keeps base_step.
  assert os.path.exists(os.path.join(model_dir, cycles.STATE_FILE))
  state.add_cycle({"cycle": 1, "global_step": 4, "WER": 0.8})
  again = cycles.TrainState.load_or_start(model_dir, 4, "fp")
  assert again.cycles == [{"cycle": 1, "global_step": 4, "WER": 0.8}]
  assert again.cycle_start_step() == 4
  assert os.listdir(model_dir) == [cycles.STATE_FILE]


def test_changed_settings_restart_counting_and_keep_history(tmp_path):
  model_dir = str(tmp_path)
  cycles.TrainState.load_or_start(model_dir, 0, "a").add_cycle(
      {"cycle": 1, "global_step": 4})
  state = cycles.TrainState.load_or_start(model_dir, 4, "b")
  assert state.cycles == [] and state.cycle_start_step() == 4
  with open(os.path.join(model_dir, cycles.STATE_FILE)) as f:
    assert json.load(f)["history"] == [{"cycle": 1, "global_step": 4}]


def test_a_corrupt_record_starts_a_new_one(tmp_path):
  (tmp_path / cycles.STATE_FILE).write_text("{not json")
  state = cycles.TrainState.load_or_start(str(tmp_path), 7, "fp")
  assert state.cycles == [] and state.cycle_start_step() == 7


def test_a_cycle_plan_is_the_same_on_every_call(corpus):
  speech = inputs.generate_dataset(
      corpus, featurizer.AudioFeaturizer(), vocabulary.VOCABULARY_FILE, True)
  plan = cycles.plan_cycle(speech.entries, [1, 2], 4, 1, True, 1, 0, None)
  again = cycles.plan_cycle(speech.entries, [1, 2], 4, 1, True, 1, 0, None)
  assert plan.steps == 8  # two epochs of 16 utterances in batches of 4
  assert plan.bucketed == [False, False]
  assert ([[e.wav_filename for e in epoch] for epoch in plan.epoch_lists] ==
          [[e.wav_filename for e in epoch] for epoch in again.epoch_lists])
  # Epochs after the sorted first one are shuffled differently.
  assert plan.epoch_lists[0] != plan.epoch_lists[1]


def test_whole_steps_leave_no_worker_short(corpus):
  speech = inputs.generate_dataset(
      corpus, featurizer.AudioFeaturizer(), vocabulary.VOCABULARY_FILE, True)
  # 16 utterances in batches of 3: 6 batches for 4 replicas.
  args = (speech.entries, [0], 3, 4, True, 1, 0, None)
  assert cycles.plan_cycle(*args).steps == 2
  assert cycles.plan_cycle(*args, whole_steps=True).steps == 1


def test_workers_wait_for_the_chiefs_record(tmp_path):
  model_dir = str(tmp_path)
  fingerprint = cycles.fingerprint(batch_size=8)
  naps = []

  def chief_writes(seconds):
    # The chief first has another run's record, then starts its own and
    # finishes a cycle.
    naps.append(seconds)
    if len(naps) == 1:
      stale = cycles.TrainState.load_or_start(
          model_dir, 0, cycles.fingerprint(batch_size=4))
      stale.add_cycle({"cycle": 1, "global_step": 5, "WER": 0.9})
    elif len(naps) == 3:
      state = cycles.TrainState.load_or_start(model_dir, 5, fingerprint)
      state.add_cycle({"cycle": 1, "global_step": 9, "WER": 0.5})

  state = cycles.TrainState.wait_for_chief(
      model_dir, fingerprint, num_cycles=1, sleep=chief_writes)
  assert len(naps) == 3
  assert state.cycles == [{"cycle": 1, "global_step": 9, "WER": 0.5}]
  assert state.cycle_start_step() == 9


def test_waiting_for_a_missing_chief_times_out(tmp_path):
  with pytest.raises(TimeoutError, match="shared by all workers"):
    cycles.TrainState.wait_for_chief(
        str(tmp_path), "fp", poll_secs=1, timeout_secs=3,
        sleep=lambda _: None)
  assert not os.listdir(str(tmp_path))


def test_train_cycle_resumes_where_the_checkpoint_left_it(tmp_path, corpus):
  speech = inputs.generate_dataset(
      corpus, featurizer.AudioFeaturizer(), vocabulary.VOCABULARY_FILE, True)
  params = dict(num_classes=29, rnn_hidden_layers=1, rnn_type="gru",
                is_bidirectional=True, rnn_hidden_size=8, use_bias=True,
                learning_rate=1e-3, conv_filters=4)
  estimator = tf.estimator.Estimator(deep_speech.model_fn,
                                     model_dir=str(tmp_path / "model"),
                                     params=params)
  plan = cycles.plan_cycle(speech.entries, [0], 4, 1, True, 1, 0, None)
  skipped = []

  def make_input_fn(cycle_plan, done_steps):
    skipped.append(done_steps)
    return inputs.train_input_fn(speech, 4, 1, None, None, cycle_plan,
                                 done_steps)

  # A run stopped after 2 of the cycle's 4 steps ...
  estimator.train(make_input_fn(plan, 0), max_steps=2)
  # ... resumes at step 2 and skips the batches already trained on.
  loss, seconds = cycles.train_cycle(estimator, plan, 0, make_input_fn, [],
                                     False, None)
  assert skipped == [0, 2]
  assert cycles.current_step(estimator) == 4
  assert np.isfinite(loss) and seconds > 0
  # A finished cycle trains nothing more.
  loss, _ = cycles.train_cycle(estimator, plan, 0, make_input_fn, [], False,
                               None)
  assert loss is None and skipped == [0, 2]


def test_time_for_another_cycle_predicts_from_the_last_cycle():
  done = [dict(train_seconds=50.0, eval_seconds=10.0, run_seconds=90.0),
          dict(train_seconds=40.0, eval_seconds=8.0, run_seconds=140.0)]
  # The last cycle took 48 s: the next would end at 188 s (3.13 minutes).
  fits, predicted = cycles.time_for_another_cycle(3.2, done)
  assert fits and predicted == pytest.approx(188.0 / 60)
  assert cycles.time_for_another_cycle(3.1, done) == (False, predicted)
  # No budget, no cycle trained in this run yet, or a record without the
  # run's clock (written before the flag existed): no limit.
  assert cycles.time_for_another_cycle(0, done) == (True, None)
  assert cycles.time_for_another_cycle(3.1, []) == (True, None)
  assert cycles.time_for_another_cycle(
      3.1, [dict(train_seconds=1.0, eval_seconds=1.0)]) == (True, None)

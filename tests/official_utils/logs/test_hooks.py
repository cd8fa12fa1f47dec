"""Tests for official_utils/logs/hooks.py and hooks_helper.py."""

import glob
import math
import os
import types

import pytest
import tensorflow as tf

from official_utils.logs import hooks
from official_utils.logs import hooks_helper
from official_utils.logs import logger

from tests.helpers import official_utils as helpers


def test_get_train_hooks_empty():
  assert hooks_helper.get_train_hooks("") == []
  assert hooks_helper.get_train_hooks([]) == []
  assert hooks_helper.get_train_hooks(None) == []
  assert hooks_helper.get_train_hooks(" , ") == []


def test_get_train_hooks_known_names(tmp_path, fresh_logger):
  built = hooks_helper.get_train_hooks(
      "loggingtensorhook, ProfilerHook,EXAMPLESPERSECONDHOOK",
      model_dir=str(tmp_path), batch_size=8)
  assert [type(h) for h in built] == [tf.estimator.LoggingTensorHook,
                                      tf.estimator.ProfilerHook,
                                      hooks.ExamplesPerSecondHook]
  (metric_hook,) = hooks_helper.get_train_hooks(["LoggingMetricHook"])
  assert isinstance(metric_hook, hooks.LoggingMetricHook)


def test_get_train_hooks_unknown_name():
  with pytest.raises(ValueError) as info:
    hooks_helper.get_train_hooks("LoggingTensorHook,NoSuchHook",
                                 model_dir="/tmp", batch_size=8)
  message = str(info.value)
  assert "NoSuchHook" in message
  for known in ("LoggingTensorHook", "ProfilerHook", "ExamplesPerSecondHook",
                "LoggingMetricHook"):
    assert known in message


def test_get_train_hooks_tpu_is_refused():
  with pytest.raises(ValueError, match="TPU"):
    hooks_helper.get_train_hooks("LoggingTensorHook", use_tpu=True)


def _train(hook_list, steps):
  """Runs `steps` steps of a graph whose train op increments the global step.

  The graph holds a constant tensor named "loss" (2.5) for the logging hooks.
  Returns the global step at the end.
  """
  with tf.Graph().as_default():
    global_step = tf.compat.v1.train.get_or_create_global_step()
    tf.constant(2.5, name="loss")
    train_op = tf.compat.v1.assign_add(global_step, 1)
    step = None
    with tf.compat.v1.train.MonitoredSession(hooks=hook_list) as sess:
      # Every run() goes through the hooks, so only the train op is run.
      for _ in range(steps):
        step = sess.run(train_op)
    return step


def test_examples_per_second_hook_logs_metrics(tmp_path):
  file_logger = logger.BenchmarkFileLogger(str(tmp_path))
  hook = hooks.ExamplesPerSecondHook(batch_size=16, every_n_steps=2,
                                     warm_steps=0, metric_logger=file_logger)
  assert _train([hook], 12) == 12
  lines = helpers.json_lines(str(tmp_path / "metric.log"))
  names = [l["name"] for l in lines]
  assert names.count("average_examples_per_sec") >= 3
  assert (names.count("average_examples_per_sec") ==
          names.count("current_examples_per_sec"))
  assert set(names) == {"average_examples_per_sec",
                        "current_examples_per_sec"}
  steps = [l["global_step"] for l in lines]
  assert all(isinstance(s, int) and 0 <= s <= 12 for s in steps)
  assert steps == sorted(steps)
  assert all(l["value"] > 0 and math.isfinite(l["value"]) for l in lines)


def test_examples_per_second_hook_respects_warm_steps(tmp_path):
  file_logger = logger.BenchmarkFileLogger(str(tmp_path))
  hook = hooks.ExamplesPerSecondHook(batch_size=16, every_n_steps=1,
                                     warm_steps=100, metric_logger=file_logger)
  _train([hook], 6)
  assert not os.path.exists(str(tmp_path / "metric.log"))


def test_examples_per_second_hook_checks_arguments():
  with pytest.raises(ValueError):
    hooks.ExamplesPerSecondHook(batch_size=8, every_n_steps=0)
  hook = hooks.ExamplesPerSecondHook(batch_size=8, every_n_steps=1)
  with tf.Graph().as_default():
    with pytest.raises(RuntimeError, match="Global step"):
      hook.begin()


@pytest.mark.parametrize("every_n_iter,expected", [(1, 5), (2, 3)])
def test_logging_metric_hook_logs_tensor_values(tmp_path, every_n_iter,
                                                expected):
  file_logger = logger.BenchmarkFileLogger(str(tmp_path))
  hook = hooks.LoggingMetricHook(tensors={"loss": "loss"},
                                 metric_logger=file_logger,
                                 every_n_iter=every_n_iter)
  _train([hook], 5)
  lines = helpers.json_lines(str(tmp_path / "metric.log"))
  assert len(lines) == expected
  assert all(l["name"] == "loss" and l["value"] == 2.5 for l in lines)
  steps = [l["global_step"] for l in lines]
  assert all(isinstance(s, int) for s in steps)
  assert steps == sorted(steps) and len(set(steps)) == expected


def test_logging_metric_hook_at_end(tmp_path):
  file_logger = logger.BenchmarkFileLogger(str(tmp_path))
  hook = hooks.LoggingMetricHook(tensors={"loss": "loss"},
                                 metric_logger=file_logger,
                                 every_n_iter=100, at_end=True)
  _train([hook], 3)
  lines = helpers.json_lines(str(tmp_path / "metric.log"))
  # The first step and the end.
  assert [(l["name"], l["global_step"]) for l in lines][-1] == ("loss", 3)
  assert len(lines) == 2


# ProfilerHook's session.run trips a numpy FutureWarning inside TensorFlow.
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_helper_hooks_run_together(tmp_path, fresh_logger):
  log_dir = str(tmp_path / "bench")
  model_dir = str(tmp_path / "model")
  logger.config_benchmark_logger(types.SimpleNamespace(
      benchmark_logger_type="BenchmarkFileLogger",
      benchmark_log_dir=log_dir))
  built = hooks_helper.get_train_hooks(
      "LoggingTensorHook,ProfilerHook,ExamplesPerSecondHook,LoggingMetricHook",
      model_dir=model_dir, batch_size=4, every_n_iter=2, every_n_steps=2,
      warm_steps=0, save_steps=2)
  assert _train(built, 8) == 8
  names = [l["name"] for l in helpers.json_lines(os.path.join(log_dir,
                                                       "metric.log"))]
  assert "loss" in names
  assert "average_examples_per_sec" in names
  assert glob.glob(os.path.join(model_dir, "timeline-*.json"))

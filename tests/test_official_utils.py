"""Tests for official_utils: flags, benchmark loggers, hooks, distribution.

Flag groups declare into absl's global FLAGS, which a test process can define
only once, so they are checked in fresh Python processes.
"""

import datetime
import glob
import json
import logging as std_logging
import math
import os
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest
import tensorflow as tf

from official_utils.flags import core as flags_core
from official_utils.logs import hooks
from official_utils.logs import hooks_helper
from official_utils.logs import logger
from official_utils.misc import distribution_utils
from official_utils.misc import model_helpers

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Every flag NOTES.md lists for deep_speech.py, and the base flags' aliases.
DEEP_SPEECH_FLAGS = [
    "model_dir", "train_epochs", "epochs_between_evals", "stop_threshold",
    "batch_size", "num_gpus", "hooks", "export_dir",
    "benchmark_logger_type", "benchmark_test_id", "benchmark_log_dir",
    "gcp_project", "bigquery_data_set", "bigquery_run_table",
    "bigquery_run_status_table", "bigquery_metric_table",
    "seed", "train_data_dir", "eval_data_dir", "sortagrad", "sample_rate",
    "window_ms", "stride_ms", "vocabulary_file", "rnn_hidden_size",
    "rnn_hidden_layers", "use_bias", "is_bidirectional", "rnn_type",
    "learning_rate", "wer_threshold",
]
BOOL_FLAGS = {"sortagrad", "use_bias", "is_bidirectional"}
SHORT_ALIASES = {
    "md": "model_dir", "te": "train_epochs", "ebe": "epochs_between_evals",
    "bs": "batch_size", "ng": "num_gpus", "hk": "hooks", "ed": "export_dir",
    "bld": "benchmark_log_dir", "bti": "benchmark_test_id",
}


def _python(args, timeout=120):
  """Runs Python in the repository root; returns (returncode, output)."""
  env = dict(os.environ, PYTHONPATH=REPO_ROOT, TF_CPP_MIN_LOG_LEVEL="2")
  proc = subprocess.run([sys.executable] + args, cwd=REPO_ROOT, env=env,
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        timeout=timeout, check=False)
  return proc.returncode, proc.stdout.decode("utf-8", "replace")


def _python_code(code, *args):
  return _python(["-c", textwrap.dedent(code)] + list(args))


def _json_lines(path):
  with open(path) as f:
    return [json.loads(line) for line in f if line.strip()]


# Flags.


def test_help_wrap_wraps_at_80_columns():
  text = ("The number of training epochs to run between evaluations, which "
          "is a long sentence that must be wrapped so that the help output "
          "of --helpfull stays readable on an 80-column terminal; every "
          "word must survive the wrapping in its original order.")
  wrapped = flags_core.help_wrap(text)
  lines = wrapped.split("\n")
  assert len(lines) >= 3
  assert all(len(line) <= 80 for line in lines)
  # Lines are filled: a line plus the next word would overflow.
  for line, following in zip(lines, lines[1:]):
    assert len(line) + 1 + len(following.split()[0]) > 80 - 2
  assert all(line.startswith("  ") for line in lines[1:])
  assert wrapped.split() == text.split()
  assert flags_core.help_wrap("Short help.") == "Short help."
  assert all(len(line) <= 40
             for line in flags_core.help_wrap(text, width=40).split("\n"))


def test_define_groups_declare_flags_with_short_aliases():
  code = """
      import json
      from absl import flags
      from official_utils.flags import core
      groups = {"base": core.define_base(),
                "performance": core.define_performance(),
                "benchmark": core.define_benchmark()}
      F = flags.FLAGS
      declared = {n: F[n].short_name for g in groups.values() for n in g}
      core.set_defaults(batch_size=64, model_dir="/tmp/md_default",
                        train_epochs=7)
      defaults = {n: F[n].default for n in ("batch_size", "model_dir",
                                           "train_epochs", "hooks")}
      F(["prog", "-bs=16", "-md=/tmp/short", "-ebe=2", "-ng=0",
         "-hk=LoggingTensorHook,ProfilerHook", "-bld=/tmp/bld",
         "-bti=run7", "-ed=/tmp/export"])
      parsed = {n: F[n].value for n in ("batch_size", "model_dir",
                "epochs_between_evals", "num_gpus", "hooks",
                "benchmark_log_dir", "benchmark_test_id", "export_dir",
                "train_epochs")}
      print("JSON" + json.dumps({"groups": groups, "declared": declared,
                                 "defaults": defaults, "parsed": parsed}))
  """
  rc, out = _python_code(code)
  assert rc == 0, out
  result = json.loads(out.split("JSON", 1)[1])
  groups, declared = result["groups"], result["declared"]
  assert groups["base"] == ["model_dir", "train_epochs",
                            "epochs_between_evals", "stop_threshold",
                            "batch_size", "num_gpus", "hooks", "export_dir"]
  assert set(groups["performance"]) == {"num_parallel_calls", "dtype",
                                        "loss_scale"}
  assert {"benchmark_logger_type", "benchmark_test_id",
          "benchmark_log_dir"} <= set(groups["benchmark"])
  for short, name in SHORT_ALIASES.items():
    assert declared[name] == short
  # set_defaults changes the defaults, and unset flags take them.
  assert result["defaults"] == {"batch_size": 64,
                                "model_dir": "/tmp/md_default",
                                "train_epochs": 7, "hooks": []}
  assert result["parsed"] == {
      "batch_size": 16, "model_dir": "/tmp/short", "epochs_between_evals": 2,
      "num_gpus": 0, "hooks": ["LoggingTensorHook", "ProfilerHook"],
      "benchmark_log_dir": "/tmp/bld", "benchmark_test_id": "run7",
      "export_dir": "/tmp/export", "train_epochs": 7}


def test_define_base_can_leave_flags_out():
  code = """
      from absl import flags
      from official_utils.flags import core
      names = core.define_base(data_dir=True, hooks=False, export_dir=False)
      print("NAMES", sorted(names))
      print("HOOKS", "hooks" in flags.FLAGS, "DD", flags.FLAGS["dd"].name)
  """
  rc, out = _python_code(code)
  assert rc == 0, out
  assert "HOOKS False DD data_dir" in out
  assert "'data_dir'" in out and "'export_dir'" not in out


def test_dash_h_prints_short_help_in_a_minimal_app():
  code = '''
      """A tiny absl app using the base flags."""
      from absl import app
      from official_utils.flags import core
      core.define_base()
      def main(_):
        print("MAIN RAN")
      app.run(main)
  '''
  rc, out = _python_code(code, "-h")
  assert "Unknown command line flag" not in out
  assert "MAIN RAN" not in out
  assert "Try --helpfull" in out
  assert rc == 1  # absl exits 1 after printing help


def test_deep_speech_helpfull_lists_every_flag():
  rc, out = _python(["deep_speech.py", "--helpfull"])
  assert "Traceback" not in out, out
  assert rc in (0, 1), out
  for name in DEEP_SPEECH_FLAGS:
    spelled = "--[no]" + name if name in BOOL_FLAGS else "--" + name + ":"
    assert spelled in out, name
  for short, name in SHORT_ALIASES.items():
    assert "-%s,--%s:" % (short, name) in out, short
  # The deep_speech.py defaults set through set_defaults.
  assert "(default: '/tmp/deep_speech_model/')" in out
  (rnn_type,) = [l for l in out.splitlines() if "--rnn_type:" in l]
  assert all(cell in rnn_type for cell in ("gru", "lstm", "rnn"))


def test_deep_speech_dash_h():
  rc, out = _python(["deep_speech.py", "-h"])
  assert "Unknown command line flag" not in out, out
  assert "Traceback" not in out, out
  assert "--train_data_dir" in out
  assert "Try --helpfull" in out
  assert rc == 1


def _visible_gpus():
  return len(tf.config.list_physical_devices("GPU"))


def test_get_num_gpus():
  gpus = _visible_gpus()
  ns = types.SimpleNamespace
  assert flags_core.get_num_gpus(ns(num_gpus=None)) == min(1, gpus)
  assert flags_core.get_num_gpus(ns(num_gpus=-1)) == gpus
  assert flags_core.get_num_gpus(ns(num_gpus=0)) == 0
  assert flags_core.get_num_gpus(ns(num_gpus=3)) == 3
  with pytest.raises(ValueError, match="-1"):
    flags_core.get_num_gpus(ns(num_gpus=-2))


def test_get_num_gpus_on_cpu_machine():
  if _visible_gpus():
    pytest.skip("this machine has a GPU")
  ns = types.SimpleNamespace
  assert flags_core.get_num_gpus(ns(num_gpus=None)) == 0
  assert flags_core.get_num_gpus(ns(num_gpus=-1)) == 0


# Benchmark loggers.


@pytest.fixture
def fresh_logger(monkeypatch):
  """Restores the process-wide benchmark logger after the test."""
  monkeypatch.setattr(logger, "_benchmark_logger", None)


def _benchmark_records(caplog):
  return [r.getMessage() for r in caplog.records
          if r.getMessage().startswith("Benchmark metric")]


def test_base_logger_logs_metrics(caplog):
  caplog.set_level(std_logging.INFO, logger="absl")
  base = logger.BaseBenchmarkLogger()
  base.log_metric("accuracy", 0.75, unit="ratio", global_step=12,
                  extras={"split": "dev"})
  records = _benchmark_records(caplog)
  assert len(records) == 1
  assert "'name': 'accuracy'" in records[0]
  assert "'value': 0.75" in records[0]
  assert "'global_step': 12" in records[0]
  assert "'unit': 'ratio'" in records[0]
  assert "{'name': 'split', 'value': 'dev'}" in records[0]


def test_base_logger_skips_non_numbers(caplog):
  caplog.set_level(std_logging.INFO, logger="absl")
  base = logger.BaseBenchmarkLogger()
  base.log_metric("accuracy", "high")
  base.log_metric("accuracy", None)
  assert _benchmark_records(caplog) == []
  assert any("should be a number" in r.getMessage() for r in caplog.records)


def test_base_logger_evaluation_result(caplog):
  caplog.set_level(std_logging.INFO, logger="absl")
  base = logger.BaseBenchmarkLogger()
  base.log_evaluation_result({"wer": 0.5, "cer": 0.25,
                              "global_step": np.int64(40)})
  records = _benchmark_records(caplog)
  assert len(records) == 2
  assert "'name': 'cer'" in records[0] and "'name': 'wer'" in records[1]
  assert all("'global_step': 40" in r for r in records)
  base.log_evaluation_result([0.5])  # not a dict: a warning, no metric
  assert len(_benchmark_records(caplog)) == 2


def test_file_logger_writes_metric_lines(tmp_path):
  log_dir = str(tmp_path / "bench")
  file_logger = logger.BenchmarkFileLogger(log_dir)
  file_logger.log_metric("accuracy", 0.999, global_step=1000,
                         extras={"name": "value"})
  file_logger.log_metric("loss", np.float32(1.5), unit="nats")
  file_logger.log_metric("bad", "not a number")
  lines = _json_lines(os.path.join(log_dir, "metric.log"))
  assert len(lines) == 2
  for line in lines:
    assert set(line) == {"name", "value", "unit", "global_step", "timestamp",
                         "extras"}
    datetime.datetime.strptime(line["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
  assert lines[0]["name"] == "accuracy"
  assert lines[0]["value"] == pytest.approx(0.999)
  assert lines[0]["unit"] is None
  assert lines[0]["global_step"] == 1000
  assert lines[0]["extras"] == [{"name": "name", "value": "value"}]
  assert lines[1]["name"] == "loss"
  assert lines[1]["value"] == 1.5
  assert lines[1]["unit"] == "nats"
  assert lines[1]["extras"] == []


def test_file_logger_appends_and_logs_evaluation(tmp_path):
  log_dir = str(tmp_path)
  logger.BenchmarkFileLogger(log_dir).log_metric("a", 1)
  logger.BenchmarkFileLogger(log_dir).log_evaluation_result(
      {"wer": 0.4, "global_step": 9})
  lines = _json_lines(os.path.join(log_dir, "metric.log"))
  assert [(l["name"], l["value"], l["global_step"]) for l in lines] == [
      ("a", 1.0, None), ("wer", 0.4, 9)]


def test_file_logger_writes_run_info(tmp_path):
  file_logger = logger.BenchmarkFileLogger(str(tmp_path))
  file_logger.log_run_info(
      "deep_speech", "LibriSpeech",
      {"batch_size": 32, "learning_rate": 5e-4, "sortagrad": True,
       "rnn_type": "gru"}, test_id="run-1")
  (info,) = _json_lines(str(tmp_path / "benchmark_run.log"))
  assert {"model_name", "dataset", "machine_config", "run_parameters",
          "tensorflow_version", "test_id", "run_date"} <= set(info)
  assert info["model_name"] == "deep_speech"
  assert info["dataset"] == {"name": "LibriSpeech"}
  assert info["test_id"] == "run-1"
  assert info["machine_config"]["cpu_info"]["num_cores"] >= 1
  assert info["machine_config"]["gpu_info"]["count"] == _visible_gpus()
  assert info["tensorflow_version"]["version"] == tf.version.VERSION
  assert info["run_parameters"] == [
      {"name": "batch_size", "long_value": 32},
      {"name": "learning_rate", "float_value": 5e-4},
      {"name": "rnn_type", "string_value": "gru"},
      {"name": "sortagrad", "bool_value": "True"},
  ]


def test_config_benchmark_logger(tmp_path, fresh_logger):
  ns = types.SimpleNamespace
  assert isinstance(logger.config_benchmark_logger(None),
                    logger.BaseBenchmarkLogger)
  file_logger = logger.config_benchmark_logger(ns(
      benchmark_logger_type="BenchmarkFileLogger",
      benchmark_log_dir=str(tmp_path / "logs")))
  assert isinstance(file_logger, logger.BenchmarkFileLogger)
  assert logger.get_benchmark_logger() is file_logger
  assert os.path.isdir(str(tmp_path / "logs"))
  base = logger.config_benchmark_logger(ns(
      benchmark_logger_type="BaseBenchmarkLogger", benchmark_log_dir=None))
  assert type(base) is logger.BaseBenchmarkLogger  # pylint: disable=unidiomatic-typecheck


def test_get_benchmark_logger_defaults_to_base(fresh_logger):
  assert type(logger.get_benchmark_logger()) is logger.BaseBenchmarkLogger  # pylint: disable=unidiomatic-typecheck


def test_bigquery_logger_is_not_supported(fresh_logger):
  with pytest.raises(ValueError, match="not supported"):
    logger.config_benchmark_logger(types.SimpleNamespace(
        benchmark_logger_type="BenchmarkBigQueryLogger",
        benchmark_log_dir="/tmp"))


def test_file_logger_without_dir_raises(fresh_logger):
  for log_dir in (None, ""):
    with pytest.raises(ValueError, match="benchmark_log_dir"):
      logger.config_benchmark_logger(types.SimpleNamespace(
          benchmark_logger_type="BenchmarkFileLogger",
          benchmark_log_dir=log_dir))


def test_unknown_logger_type_raises(fresh_logger):
  with pytest.raises(ValueError, match="Unrecognized"):
    logger.config_benchmark_logger(types.SimpleNamespace(
        benchmark_logger_type="CsvLogger"))


def test_benchmark_context_marks_success_and_failure(monkeypatch,
                                                     fresh_logger):
  statuses = []
  monkeypatch.setattr(logger.BaseBenchmarkLogger, "on_finish",
                      lambda self, status: statuses.append(status))
  flags_obj = types.SimpleNamespace(benchmark_logger_type="BaseBenchmarkLogger")
  with logger.benchmark_context(flags_obj):
    pass
  assert statuses == [logger.RUN_STATUS_SUCCESS]
  with pytest.raises(RuntimeError, match="boom"):
    with logger.benchmark_context(flags_obj):
      raise RuntimeError("boom")
  assert statuses == [logger.RUN_STATUS_SUCCESS, logger.RUN_STATUS_FAILURE]
  assert logger.RUN_STATUS_FAILURE == "failure"


# Hooks.


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
  lines = _json_lines(str(tmp_path / "metric.log"))
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
  lines = _json_lines(str(tmp_path / "metric.log"))
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
  lines = _json_lines(str(tmp_path / "metric.log"))
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
  names = [l["name"] for l in _json_lines(os.path.join(log_dir,
                                                       "metric.log"))]
  assert "loss" in names
  assert "average_examples_per_sec" in names
  assert glob.glob(os.path.join(model_dir, "timeline-*.json"))


# Distribution.


def test_per_device_batch_size():
  assert distribution_utils.per_device_batch_size(128, 4) == 32
  assert distribution_utils.per_device_batch_size(128, 0) == 128
  assert distribution_utils.per_device_batch_size(128, 1) == 128
  assert distribution_utils.per_device_batch_size(6, 2) == 3


@pytest.mark.parametrize("batch_size,num_gpus,suggested", [
    (130, 4, 128), (33, 2, 32), (3, 4, 4)])
def test_per_device_batch_size_not_divisible(batch_size, num_gpus, suggested):
  with pytest.raises(ValueError) as info:
    distribution_utils.per_device_batch_size(batch_size, num_gpus)
  message = str(info.value)
  assert "--batch_size=%d" % suggested in message
  assert suggested % num_gpus == 0
  assert str(num_gpus) in message


def test_one_device_strategy_on_cpu():
  strategy = distribution_utils.get_distribution_strategy(0)
  assert isinstance(strategy, tf.distribute.OneDeviceStrategy)
  assert strategy.num_replicas_in_sync == 1
  (device,) = strategy.extended.worker_devices
  assert device.endswith("CPU:0")
  with pytest.raises(ValueError):
    distribution_utils.get_distribution_strategy(-1)


def test_mirrored_strategy_over_two_cpus():
  # Logical CPU devices must be configured before TensorFlow starts, so this
  # runs in a fresh process.
  code = """
      import json
      import tensorflow as tf
      cpu = tf.config.list_physical_devices("CPU")[0]
      tf.config.set_logical_device_configuration(
          cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
      from official_utils.misc import distribution_utils
      s = distribution_utils.get_distribution_strategy(
          0, devices=["/cpu:0", "/cpu:1"])
      per_replica = s.run(lambda: tf.constant(1.0))
      total = s.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)
      print("JSON" + json.dumps({
          "mirrored": isinstance(s, tf.distribute.MirroredStrategy),
          "replicas": s.num_replicas_in_sync, "total": float(total),
          "devices": list(s.extended.worker_devices)}))
  """
  rc, out = _python_code(code)
  assert rc == 0, out
  result = json.loads(out.split("JSON", 1)[1])
  assert result["mirrored"] is True
  assert result["replicas"] == 2
  assert result["total"] == 2.0
  assert [d[-5:] for d in result["devices"]] == ["CPU:0", "CPU:1"]


def test_tf_config_cluster(monkeypatch):
  monkeypatch.delenv("TF_CONFIG", raising=False)
  assert distribution_utils.tf_config_cluster() is None
  monkeypatch.setenv("TF_CONFIG", json.dumps(
      {"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker",
                                                     "index": 1}}))
  assert distribution_utils.tf_config_cluster()["task"]["index"] == 1
  monkeypatch.setenv("TF_CONFIG", "{not json")
  with pytest.raises(ValueError, match="TF_CONFIG"):
    distribution_utils.tf_config_cluster()


# Model helpers.


def test_past_stop_threshold():
  assert model_helpers.past_stop_threshold(None, 1.5) is False
  assert model_helpers.past_stop_threshold(0.5, 0.5) is True
  assert model_helpers.past_stop_threshold(0.5, 0.6) is True
  assert model_helpers.past_stop_threshold(0.5, 0.4) is False
  assert model_helpers.past_stop_threshold(0, 0) is True
  assert model_helpers.past_stop_threshold(0.5, np.float32(0.75)) is True


@pytest.mark.parametrize("threshold,value", [
    ("0.5", 0.4), (0.5, "0.4"), (0.5, None), ([0.5], 0.4)])
def test_past_stop_threshold_rejects_non_numbers(threshold, value):
  with pytest.raises(ValueError):
    model_helpers.past_stop_threshold(threshold, value)


def test_past_threshold_lower_is_better_for_wer():
  assert model_helpers.past_threshold(0.23, 0.20, higher_is_better=False)
  assert model_helpers.past_threshold(0.23, 0.23, higher_is_better=False)
  assert not model_helpers.past_threshold(0.23, 0.9, higher_is_better=False)
  assert not model_helpers.past_threshold(None, 0.0, higher_is_better=False)
  # The original's inverted test: WER 0.9 "passes" a 0.23 threshold when
  # higher is better; the WER direction must not.
  assert model_helpers.past_threshold(0.23, 0.9, higher_is_better=True)
  with pytest.raises(ValueError):
    model_helpers.past_threshold(0.23, "0.1", higher_is_better=False)

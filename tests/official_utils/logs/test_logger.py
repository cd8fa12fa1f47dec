"""Tests for official_utils/logs/logger.py: the benchmark loggers."""

import datetime
import logging as std_logging
import os
import types

import numpy as np
import pytest
import tensorflow as tf

from official_utils.logs import logger

from tests.helpers import official_utils as helpers


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
  lines = helpers.json_lines(os.path.join(log_dir, "metric.log"))
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
  lines = helpers.json_lines(os.path.join(log_dir, "metric.log"))
  assert [(l["name"], l["value"], l["global_step"]) for l in lines] == [
      ("a", 1.0, None), ("wer", 0.4, 9)]


def test_file_logger_writes_run_info(tmp_path):
  file_logger = logger.BenchmarkFileLogger(str(tmp_path))
  file_logger.log_run_info(
      "deep_speech", "LibriSpeech",
      {"batch_size": 32, "learning_rate": 5e-4, "sortagrad": True,
       "rnn_type": "gru"}, test_id="run-1")
  (info,) = helpers.json_lines(str(tmp_path / "benchmark_run.log"))
  assert {"model_name", "dataset", "machine_config", "run_parameters",
          "tensorflow_version", "test_id", "run_date"} <= set(info)
  assert info["model_name"] == "deep_speech"
  assert info["dataset"] == {"name": "LibriSpeech"}
  assert info["test_id"] == "run-1"
  assert info["machine_config"]["cpu_info"]["num_cores"] >= 1
  assert info["machine_config"]["gpu_info"]["count"] == helpers.visible_gpus()
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

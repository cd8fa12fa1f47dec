"""Benchmark loggers (after tensorflow/models official/utils/logs/logger.py).

Two loggers are supported:
  * `BaseBenchmarkLogger` writes "Benchmark metric: {...}" lines to the log.
  * `BenchmarkFileLogger` appends one JSON object per line to
    `<benchmark_log_dir>/metric.log` (keys: name, value, unit, global_step,
    timestamp, extras) and writes the run description to
    `<benchmark_log_dir>/benchmark_run.log`.
The BigQuery logger of the original needs Google Cloud credentials and is not
supported: asking for it is a clear error.
"""

import contextlib
import datetime
import json
import multiprocessing
import numbers
import os
import platform

from absl import logging

METRIC_LOG_FILE_NAME = "metric.log"
BENCHMARK_RUN_LOG_FILE_NAME = "benchmark_run.log"
_DATE_TIME_FORMAT_PATTERN = "%Y-%m-%dT%H:%M:%S.%fZ"

RUN_STATUS_SUCCESS = "success"
RUN_STATUS_FAILURE = "failure"
RUN_STATUS_RUNNING = "running"

_benchmark_logger = None


def config_benchmark_logger(flags_obj=None):
  """Creates the process-wide benchmark logger from the flags.

  Args:
    flags_obj: parsed flags with `benchmark_logger_type` and
      `benchmark_log_dir`; None gives the base logger.

  Returns:
    The configured logger.

  Raises:
    ValueError: for the unsupported BigQuery type, an unknown type, or a file
      logger without a log directory.
  """
  global _benchmark_logger
  logger_type = getattr(flags_obj, "benchmark_logger_type",
                        "BaseBenchmarkLogger")
  if logger_type == "BaseBenchmarkLogger":
    _benchmark_logger = BaseBenchmarkLogger()
  elif logger_type == "BenchmarkFileLogger":
    log_dir = getattr(flags_obj, "benchmark_log_dir", None)
    if not log_dir:
      raise ValueError("--benchmark_logger_type=BenchmarkFileLogger needs "
                       "--benchmark_log_dir.")
    _benchmark_logger = BenchmarkFileLogger(log_dir)
  elif logger_type == "BenchmarkBigQueryLogger":
    raise ValueError(
        "--benchmark_logger_type=BenchmarkBigQueryLogger is not supported by "
        "this port (it needs Google Cloud credentials and the bigquery "
        "client). Use BenchmarkFileLogger with --benchmark_log_dir and "
        "upload metric.log yourself.")
  else:
    raise ValueError("Unrecognized benchmark_logger_type: %s" % logger_type)
  return _benchmark_logger


def get_benchmark_logger():
  """Returns the configured logger (a base logger if none was configured)."""
  if _benchmark_logger is None:
    config_benchmark_logger(None)
  return _benchmark_logger


@contextlib.contextmanager
def benchmark_context(flags_obj):
  """Marks the run as successful or failed in the benchmark logger."""
  benchmark_logger = config_benchmark_logger(flags_obj)
  try:
    yield
    benchmark_logger.on_finish(RUN_STATUS_SUCCESS)
  except Exception:  # pylint: disable=broad-except
    benchmark_logger.on_finish(RUN_STATUS_FAILURE)
    raise


def _metric(name, value, unit, global_step, extras):
  """Builds the metric record, or None (with a warning) for a non-number."""
  if not isinstance(value, numbers.Number):
    logging.warning("Metric value to log should be a number. Got %s",
                    type(value))
    return None
  extras = [{"name": k, "value": v} for k, v in sorted((extras or {}).items())]
  return {
      "name": name,
      "value": float(value),
      "unit": unit,
      "global_step": global_step,
      "timestamp": datetime.datetime.utcnow().strftime(
          _DATE_TIME_FORMAT_PATTERN),
      "extras": extras,
  }


def _evaluation_metrics(eval_results):
  """Splits an evaluation dict into (global_step, {name: value})."""
  global_step = eval_results.get("global_step")
  metrics = {k: v for k, v in sorted(eval_results.items())
             if k != "global_step"}
  if global_step is not None:
    global_step = int(global_step)
  return global_step, metrics


class BaseBenchmarkLogger(object):
  """Writes benchmark metrics and run info to the log."""

  def log_evaluation_result(self, eval_results):
    """Logs every metric of an evaluation (a dict with `global_step`)."""
    if not isinstance(eval_results, dict):
      logging.warning("eval_results should be a dictionary for logging. "
                      "Got %s", type(eval_results))
      return
    global_step, metrics = _evaluation_metrics(eval_results)
    for name, value in metrics.items():
      self.log_metric(name, value, global_step=global_step)

  def log_metric(self, name, value, unit=None, global_step=None,
                 extras=None):
    """Logs one metric."""
    metric = _metric(name, value, unit, global_step, extras)
    if metric is not None:
      logging.info("Benchmark metric: %s", metric)

  def log_run_info(self, model_name, dataset_name, run_params,
                   test_id=None):
    logging.info("Benchmark run: %s", _gather_run_info(
        model_name, dataset_name, run_params, test_id))

  def on_finish(self, status):
    pass


class BenchmarkFileLogger(BaseBenchmarkLogger):
  """Appends metrics as JSON lines to files in a directory."""

  def __init__(self, logging_dir):
    super().__init__()
    self._logging_dir = logging_dir
    os.makedirs(self._logging_dir, exist_ok=True)

  def log_metric(self, name, value, unit=None, global_step=None,
                 extras=None):
    metric = _metric(name, value, unit, global_step, extras)
    if metric is None:
      return
    path = os.path.join(self._logging_dir, METRIC_LOG_FILE_NAME)
    try:
      with open(path, "a") as f:
        f.write(json.dumps(metric) + "\n")
    except (TypeError, ValueError, OSError) as e:
      logging.warning("Failed to dump metric to log file %s: %s", path, e)

  def log_run_info(self, model_name, dataset_name, run_params,
                   test_id=None):
    run_info = _gather_run_info(model_name, dataset_name, run_params, test_id)
    path = os.path.join(self._logging_dir, BENCHMARK_RUN_LOG_FILE_NAME)
    try:
      with open(path, "w") as f:
        f.write(json.dumps(run_info) + "\n")
    except (TypeError, ValueError, OSError) as e:
      logging.warning("Failed to dump benchmark run info to %s: %s", path, e)


def _gather_run_info(model_name, dataset_name, run_params, test_id):
  """The run description: model, dataset, machine, TensorFlow, parameters."""
  run_info = {
      "model_name": model_name,
      "dataset": {"name": dataset_name},
      "machine_config": {
          "cpu_info": {"num_cores": multiprocessing.cpu_count(),
                       "cpu_info": platform.processor()},
          "platform": platform.platform(),
      },
      "test_id": test_id,
      "run_date": datetime.datetime.utcnow().strftime(
          _DATE_TIME_FORMAT_PATTERN),
      "run_parameters": _run_parameters(run_params),
  }
  try:
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    run_info["tensorflow_version"] = {"version": tf.version.VERSION,
                                      "git_hash": tf.version.GIT_VERSION}
    gpus = tf.config.list_physical_devices("GPU")
    run_info["machine_config"]["gpu_info"] = {"count": len(gpus)}
  except ImportError:
    pass
  return run_info


def _run_parameters(run_params):
  """Run parameters as typed name/value records, like the original."""
  out = []
  for name, value in sorted((run_params or {}).items()):
    if isinstance(value, bool):
      out.append({"name": name, "bool_value": str(value)})
    elif isinstance(value, numbers.Integral):
      out.append({"name": name, "long_value": value})
    elif isinstance(value, numbers.Number):
      out.append({"name": name, "float_value": value})
    else:
      out.append({"name": name, "string_value": str(value)})
  return out

"""Training hooks (after official/utils/logs/hooks.py)."""

import time

from absl import logging
import tensorflow as tf

from official_utils.logs import logger


class ExamplesPerSecondHook(tf.estimator.SessionRunHook):
  """Logs the average and current examples per second every N steps.

  The count uses the global batch size, so with a distribution strategy it is
  the throughput of all devices together.
  """

  def __init__(self, batch_size, every_n_steps=100, warm_steps=0,
               metric_logger=None):
    if every_n_steps <= 0:
      raise ValueError("every_n_steps must be positive.")
    self._timer = tf.compat.v1.train.SecondOrStepTimer(
        every_steps=every_n_steps)
    self._batch_size = batch_size
    self._warm_steps = warm_steps
    self._step_train_time = 0.0
    self._total_steps = 0
    self._logger = metric_logger or logger.BaseBenchmarkLogger()
    self._global_step_tensor = None

  def begin(self):
    self._global_step_tensor = tf.compat.v1.train.get_global_step()
    if self._global_step_tensor is None:
      raise RuntimeError("Global step should be created to use "
                         "ExamplesPerSecondHook.")

  def before_run(self, run_context):  # pylint: disable=unused-argument
    return tf.estimator.SessionRunArgs(self._global_step_tensor)

  def after_run(self, run_context, run_values):  # pylint: disable=unused-argument
    global_step = run_values.results
    if not self._timer.should_trigger_for_step(global_step):
      return
    if global_step <= self._warm_steps:
      return
    elapsed_time, elapsed_steps = self._timer.update_last_triggered_step(
        global_step)
    if elapsed_time is None:
      return
    self._step_train_time += elapsed_time
    self._total_steps += elapsed_steps
    average = self._batch_size * self._total_steps / self._step_train_time
    current = self._batch_size * elapsed_steps / elapsed_time
    self._logger.log_metric("average_examples_per_sec", average,
                            global_step=int(global_step))
    self._logger.log_metric("current_examples_per_sec", current,
                            global_step=int(global_step))


class LoggingMetricHook(tf.estimator.LoggingTensorHook):
  """Sends tensor values to the benchmark logger instead of the log."""

  def __init__(self, tensors, metric_logger=None, every_n_iter=None,
               every_n_secs=None, at_end=False):
    super().__init__(tensors=tensors, every_n_iter=every_n_iter,
                     every_n_secs=every_n_secs, at_end=at_end)
    self._logger = metric_logger or logger.BaseBenchmarkLogger()

  def begin(self):
    super().begin()
    self._global_step_tensor = tf.compat.v1.train.get_global_step()
    if self._global_step_tensor is None:
      raise RuntimeError("Global step should be created to use "
                         "LoggingMetricHook.")
    if self._global_step_tensor.name not in self._current_tensors:
      self._current_tensors[self._global_step_tensor.name] = (
          self._global_step_tensor)

  def _log_tensors(self, tensor_values):
    # LoggingTensorHook restarts its every_n_iter/every_n_secs timer here;
    # without this the hook would log at every step.
    self._timer.update_last_triggered_step(self._iter_count)
    global_step = int(tensor_values[self._global_step_tensor.name])
    for tag in self._tag_order:
      self._logger.log_metric(tag, float(tensor_values[tag]),
                              global_step=global_step)
    logging.debug("LoggingMetricHook logged %d tensors.",
                  len(self._tag_order))

"""Builds training hooks by name (after official/utils/logs/hooks_helper.py).

`get_train_hooks("LoggingTensorHook,ExamplesPerSecondHook", model_dir=...,
batch_size=...)` returns ready hooks. Names are case-insensitive; an unknown
name is a ValueError that lists the known ones.
"""

import tensorflow as tf

from official_utils.logs import hooks
from official_utils.logs import logger

# The tensors model_fn names for logging; both exist in DeepSpeech's graph.
_TENSORS_TO_LOG = {"loss": "loss", "global_step": "global_step"}


def get_train_hooks(name_list, use_tpu=False, **kwargs):
  """Returns the hooks named in `name_list`.

  Args:
    name_list: a list of names or a comma-separated string; "" gives none.
    use_tpu: kept for the original's signature; TPUs are not supported.
    **kwargs: arguments for the hook builders (model_dir, batch_size,
      tensors_to_log, every_n_iter, every_n_steps, save_steps, ...).

  Returns:
    A list of `tf.estimator.SessionRunHook`.

  Raises:
    ValueError: for an unknown hook name, or use_tpu.
  """
  if use_tpu:
    raise ValueError("TPU hooks are not supported.")
  if not name_list:
    return []
  if isinstance(name_list, str):
    name_list = name_list.split(",")
  train_hooks = []
  for name in name_list:
    name = name.strip()
    if not name:
      continue
    builder = HOOKS.get(name.lower())
    if builder is None:
      raise ValueError("Unrecognized training hook requested: {}. Known "
                       "hooks: {}".format(name, ", ".join(sorted(
                           _DISPLAY_NAMES))))
    train_hooks.append(builder(**kwargs))
  return train_hooks


def get_logging_tensor_hook(every_n_iter=100, tensors_to_log=None,
                            **kwargs):  # pylint: disable=unused-argument
  """Logs the loss and global step every `every_n_iter` steps."""
  return tf.estimator.LoggingTensorHook(
      tensors=tensors_to_log or _TENSORS_TO_LOG, every_n_iter=every_n_iter)


def get_profiler_hook(model_dir, save_steps=1000, **kwargs):  # pylint: disable=unused-argument
  """Writes a Chrome trace timeline to model_dir every `save_steps` steps."""
  # ProfilerHook opens a v1 summary FileWriter as it is built, which eager
  # execution (TF2's default, where run_deep_speech builds its hooks) refuses.
  # The cached writer is not tied to a graph, so building the hook in a
  # scratch graph is enough; it profiles the Estimator's graph from begin().
  with tf.Graph().as_default():
    return tf.estimator.ProfilerHook(save_steps=save_steps,
                                     output_dir=model_dir)


def get_examples_per_second_hook(every_n_steps=100, batch_size=128,
                                 warm_steps=5, **kwargs):  # pylint: disable=unused-argument
  """Logs examples/s (average and current) every `every_n_steps` steps."""
  return hooks.ExamplesPerSecondHook(
      batch_size=batch_size, every_n_steps=every_n_steps,
      warm_steps=warm_steps, metric_logger=logger.get_benchmark_logger())


def get_logging_metric_hook(tensors_to_log=None, every_n_secs=600,
                            **kwargs):  # pylint: disable=unused-argument
  """Sends the loss to the benchmark logger every `every_n_secs` seconds."""
  return hooks.LoggingMetricHook(
      tensors=tensors_to_log or {"loss": "loss"},
      metric_logger=logger.get_benchmark_logger(),
      every_n_secs=every_n_secs)


_DISPLAY_NAMES = ["LoggingTensorHook", "ProfilerHook",
                  "ExamplesPerSecondHook", "LoggingMetricHook"]
HOOKS = {
    "loggingtensorhook": get_logging_tensor_hook,
    "profilerhook": get_profiler_hook,
    "examplespersecondhook": get_examples_per_second_hook,
    "loggingmetrichook": get_logging_metric_hook,
}

"""What the machine and the model directory allow: devices, dtype, restore.

Checks run before training so that a setting this machine or this model
directory cannot take stops with one clear error instead of a page of
TensorFlow errors in the first step.
"""

import warnings

from absl import logging
import numpy as np
import tensorflow as tf

from official_utils.flags import core as flags_core
from official_utils.misc import distribution_utils

# The compute dtypes `DeepSpeech2` takes.
DTYPES = tuple(flags_core.DTYPE_MAP.values())


class CheckpointMismatchError(ValueError):
  """A model directory's checkpoint belongs to another network."""


def distribution(role, num_gpus, num_cpu_replicas):
  """The distribution strategy for this run.

  Args:
    role: the TF_CONFIG cluster role (`distribution_utils.multi_worker_role`),
      or None on one machine.
    num_gpus: GPUs to use on this machine.
    num_cpu_replicas: with no GPU, simulated CPU devices to mirror over (the
      multi-device path on a machine without GPUs).

  Returns:
    (strategy or None, session config or None, number of replicas).
  """
  if role is not None:
    if num_cpu_replicas > 1:
      raise ValueError("simulated CPU replicas cannot be combined with a "
                       "TF_CONFIG cluster")
    strategy = distribution_utils.get_multi_worker_strategy()
    return strategy, None, strategy.num_replicas_in_sync
  if num_gpus == 0 and num_cpu_replicas > 1:
    # Graph-mode sessions need device_count, or the first run hangs.
    strategy = distribution_utils.get_distribution_strategy(
        0, devices=["/cpu:%d" % i for i in range(num_cpu_replicas)])
    return strategy, tf.compat.v1.ConfigProto(
        device_count={"CPU": num_cpu_replicas}), num_cpu_replicas
  # One device needs no strategy: the Estimator places the graph itself.
  strategy = (distribution_utils.get_distribution_strategy(num_gpus)
              if num_gpus > 1 else None)
  return strategy, None, max(1, num_gpus)


def parse_loss_scale(value):
  """A loss scale as a float, "dynamic", or None (from its text form)."""
  if value is None or value == "dynamic":
    return value
  try:
    scale = float(value)
  except ValueError:
    scale = 0.0
  if scale <= 0:
    raise ValueError("the loss scale must be a positive number or "
                     "'dynamic', got %r" % value)
  return scale


def bfloat16_supported():
  """Whether this machine's TensorFlow runs bfloat16 convolutions and RNNs.

  On a CPU, oneDNN runs bfloat16 convolutions only with AVX512 (natively,
  and fast, with AVX512_BF16 or AMX); elsewhere the first training step
  would fail deep inside TensorFlow. A tiny convolution and matrix product
  in a scratch graph tell beforehand.
  """
  with tf.Graph().as_default():
    inputs = tf.compat.v1.placeholder(tf.float32, [1, 8, 8, 1])
    conv = tf.nn.conv2d(tf.cast(inputs, tf.bfloat16),
                        tf.ones([3, 3, 1, 2], tf.bfloat16), 1, "VALID")
    product = tf.matmul(tf.reshape(conv, [1, 72]),
                        tf.ones([72, 4], tf.bfloat16))
    try:
      with tf.compat.v1.Session() as sess:
        sess.run(product, {inputs: np.ones([1, 8, 8, 1], np.float32)})
    except tf.errors.OpError:
      return False
  return True


def check_dtype(dtype):
  """Raises ValueError when this machine cannot train in `dtype`."""
  if dtype not in DTYPES:
    raise ValueError("unknown dtype %r (one of %s)" % (dtype, DTYPES))
  if dtype == "bfloat16" and not bfloat16_supported():
    raise ValueError(
        "TensorFlow cannot run bfloat16 convolutions on this machine (on a "
        "CPU without AVX512, oneDNN's custom operations cannot; "
        "TF_ENABLE_ONEDNN_OPTS=0 lets TensorFlow's own kernels emulate them, "
        "slower than fp32)")


def variable_shapes(model, num_feature_bins):
  """The model's variables as {checkpoint name: shape}, from a scratch graph.

  Args:
    model: a `DeepSpeech2`.
    num_feature_bins: spectrogram bins of the input.
  """
  with tf.Graph().as_default():
    model(tf.compat.v1.placeholder(tf.float32, [None, None,
                                                num_feature_bins, 1]),
          training=True)
    return {v.op.name: v.shape.as_list()
            for v in tf.compat.v1.global_variables()}


def checkpoint_mismatch(checkpoint, model, num_feature_bins, skip=()):
  """How `checkpoint` differs from `model`, or None when it fits.

  Restoring a different network would fail deep inside the first session
  with a page of TensorFlow errors; this names the first differing variable.

  Args:
    checkpoint: a checkpoint path (as from tf.train.latest_checkpoint).
    model: the `DeepSpeech2` the current settings build.
    num_feature_bins: spectrogram bins of the input.
    skip: variable names not compared (a warm start's excluded ones).

  Returns:
    None, or a one-line description of the first mismatch.
  """
  saved = dict(tf.train.list_variables(checkpoint))
  # In creation order, so the first mismatch is the earliest layer.
  for name, shape in variable_shapes(model, num_feature_bins).items():
    if name in skip:
      continue
    if name not in saved:
      return "it has no variable %s" % name
    if list(saved[name]) != shape:
      return "%s is %s there but %s with these settings" % (
          name, list(saved[name]), shape)
  return None


def check_model_dir(model_dir, model, num_feature_bins, checkpoint=None):
  """Raises CheckpointMismatchError when model_dir holds another network.

  `checkpoint` (a prefix) is checked instead of model_dir's latest one.
  """
  latest = checkpoint or tf.train.latest_checkpoint(model_dir)
  problem = latest and checkpoint_mismatch(latest, model, num_feature_bins)
  if problem:
    raise CheckpointMismatchError(
        "%s was trained with a different model or features (%s)" % (
            latest, problem))


def setup_logging():
  """One log format, INFO level, no deprecation notices from TF internals."""
  logging.set_verbosity(logging.INFO)
  # TensorFlow's logger has its own handler and would print every message a
  # second time; let its records go through absl's handler only.
  tf_logger = tf.get_logger()
  tf_logger.handlers = []
  tf_logger.propagate = True
  warnings.filterwarnings("ignore", message=r"`tf\.layers\.",
                          category=UserWarning)
  # pylint: disable=g-import-not-at-top
  from tensorflow.python.util import deprecation
  deprecation._PRINT_DEPRECATION_WARNINGS = False  # pylint: disable=protected-access

"""Distribution strategies (after official/utils/misc/distribution_utils).

Multi-device training goes through `tf.distribute`: one device uses
`OneDeviceStrategy`, several GPUs `MirroredStrategy`, and a cluster described
by `TF_CONFIG` `MultiWorkerMirroredStrategy`.
"""

import json
import os


def get_distribution_strategy(num_gpus, devices=None):
  """Returns the strategy for `num_gpus` devices.

  Args:
    num_gpus: 0 for the CPU, 1 for one GPU, more for `MirroredStrategy` over
      GPUs 0..num_gpus-1.
    devices: optional explicit device list for `MirroredStrategy` (tests use
      two CPU devices, "/cpu:0" and "/cpu:1"); overrides num_gpus.

  Returns:
    A `tf.distribute.Strategy`.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  if devices:
    return tf.distribute.MirroredStrategy(devices=list(devices))
  if num_gpus < 0:
    raise ValueError("num_gpus must be >= 0, got %d." % num_gpus)
  if num_gpus == 0:
    return tf.distribute.OneDeviceStrategy("device:CPU:0")
  if num_gpus == 1:
    return tf.distribute.OneDeviceStrategy("device:GPU:0")
  return tf.distribute.MirroredStrategy(
      devices=["device:GPU:%d" % i for i in range(num_gpus)])


def per_device_batch_size(batch_size, num_gpus):
  """The batch each device gets, for a global `batch_size`.

  Args:
    batch_size: the global batch size.
    num_gpus: the number of devices sharing it (0 means the CPU alone).

  Returns:
    batch_size // num_gpus, or batch_size for 0 or 1 devices.

  Raises:
    ValueError: when the batch does not split evenly; the message suggests
      the nearest smaller batch size that does.
  """
  if num_gpus <= 1:
    return batch_size
  remainder = batch_size % num_gpus
  if remainder:
    raise ValueError(
        "When running with multiple GPUs, batch size must be a multiple of "
        "the number of available GPUs. Found {} GPUs with a batch size of "
        "{}; try --batch_size={} instead.".format(
            num_gpus, batch_size, batch_size - remainder or num_gpus))
  return batch_size // num_gpus


def tf_config_cluster():
  """The `TF_CONFIG` cluster spec as a dict, or None when unset."""
  raw = os.environ.get("TF_CONFIG")
  if not raw:
    return None
  try:
    return json.loads(raw)
  except ValueError as e:
    raise ValueError("TF_CONFIG is not valid JSON: %s" % e) from e

"""Distribution strategies (after official/utils/misc/distribution_utils).

Multi-device training goes through `tf.distribute`: one device uses
`OneDeviceStrategy`, several GPUs `MirroredStrategy`, and a cluster described
by `TF_CONFIG` `MultiWorkerMirroredStrategy` (`multi_worker_role` reads the
cluster; `get_multi_worker_strategy` builds the strategy).
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
        "When running with multiple GPUs or machines, batch size must be a "
        "multiple of the number of replicas. Found {} replicas (GPUs, or "
        "devices of a TF_CONFIG cluster) with a batch size of {}; try "
        "--batch_size={} instead.".format(
            num_gpus, batch_size, batch_size - remainder or num_gpus))
  return batch_size // num_gpus


def tf_config_cluster():
  """The `TF_CONFIG` cluster spec as a dict, or None when unset.

  Raises:
    ValueError: TF_CONFIG is not JSON, or not of the shape TensorFlow reads
      (an object whose "cluster" maps job names to lists of "host:port" and
      whose "task" has a string "type" and an integer "index"). TensorFlow
      itself would fail on such a value only when the Estimator is built,
      after the data were read, with a traceback.
  """
  raw = os.environ.get("TF_CONFIG")
  if not raw:
    return None
  try:
    tf_config = json.loads(raw)
  except ValueError as e:
    raise ValueError("TF_CONFIG is not valid JSON: %s" % e) from e
  problem = _tf_config_problem(tf_config)
  if problem:
    raise ValueError("TF_CONFIG: %s" % problem)
  return tf_config


def _tf_config_problem(tf_config):
  """What is wrong with a parsed TF_CONFIG's shape, or None."""
  if not isinstance(tf_config, dict):
    return "must be a JSON object, got a %s" % _json_kind(tf_config)
  cluster = tf_config.get("cluster", {})
  if not isinstance(cluster, dict):
    return "\"cluster\" must be an object of job names, got a %s" % (
        _json_kind(cluster))
  for job, addresses in cluster.items():
    if not (isinstance(addresses, list) and
            all(isinstance(a, str) for a in addresses)):
      return "job %r must be a list of \"host:port\" strings" % job
  task = tf_config.get("task", {})
  if not isinstance(task, dict):
    return "\"task\" must be an object, got a %s" % _json_kind(task)
  if "type" in task and not isinstance(task["type"], str):
    return "\"task\" \"type\" must be a string, got %r" % (task["type"],)
  index = task.get("index", 0)
  # bool is an int in Python, not in JSON.
  if not isinstance(index, int) or isinstance(index, bool) or index < 0:
    return "\"task\" \"index\" must be an integer >= 0, got %s" % (
        json.dumps(index))
  return None


def _json_kind(value):
  """The JSON name of a parsed value's type ("list", "string", ...)."""
  kinds = ((dict, "object"), (list, "list"), (str, "string"),
           (bool, "boolean"), ((int, float), "number"))
  for types, name in kinds:
    if isinstance(value, types):
      return name
  return "null"


# Jobs of a TF_CONFIG cluster that train (synchronously, all-reduce).
_TRAINING_JOBS = ("chief", "worker")


class WorkerRole(object):
  """This process's place in a TF_CONFIG cluster.

  Attributes:
    num_workers: training tasks in the cluster (chief and workers).
    index: this task's position among them: the chief, if any, is 0, then
      the workers in order (the order of the strategy's input pipelines).
    is_chief: the task that saves checkpoints, evaluates and exports: the
      "chief" task, or worker 0 when the cluster has no chief job.
  """

  def __init__(self, num_workers, index):
    self.num_workers = num_workers
    self.index = index
    self.is_chief = index == 0

  def __repr__(self):
    return "WorkerRole(num_workers=%d, index=%d)" % (self.num_workers,
                                                     self.index)


def multi_worker_role(tf_config):
  """This task's `WorkerRole` from a parsed TF_CONFIG, or None without one.

  Args:
    tf_config: the dict from `tf_config_cluster()`, or None.

  Returns:
    None when tf_config has no cluster (single-machine training).

  Raises:
    ValueError: for a cluster this trainer cannot run: parameter servers,
      an evaluator or master job, no task, or a task not in the cluster.
  """
  cluster = (tf_config or {}).get("cluster")
  if not cluster:
    return None
  others = sorted(set(cluster) - set(_TRAINING_JOBS))
  if others:
    raise ValueError(
        "TF_CONFIG: jobs %s are not supported; list the machines as "
        "\"chief\" (at most one) and \"worker\" tasks: they train "
        "synchronously with MultiWorkerMirroredStrategy and the chief "
        "evaluates after every cycle." % others)
  if len(cluster.get("chief", [])) > 1:
    raise ValueError("TF_CONFIG: at most one \"chief\" task, got %d."
                     % len(cluster["chief"]))
  task = tf_config.get("task") or {}
  task_type, task_index = task.get("type"), task.get("index", 0)
  if task_type not in _TRAINING_JOBS:
    raise ValueError(
        "TF_CONFIG: \"task\" must name this machine, e.g. {\"type\": "
        "\"worker\", \"index\": 0}; got %r." % (task or None,))
  tasks = cluster.get(task_type, [])
  if not isinstance(task_index, int) or not 0 <= task_index < len(tasks):
    raise ValueError("TF_CONFIG: task %s %r is not in the cluster (%d %s "
                     "tasks)." % (task_type, task_index, len(tasks),
                                  task_type))
  num_chiefs = len(cluster.get("chief", []))
  index = task_index if task_type == "chief" else num_chiefs + task_index
  return WorkerRole(num_chiefs + len(cluster.get("worker", [])), index)


def get_multi_worker_strategy():
  """`MultiWorkerMirroredStrategy` over the TF_CONFIG cluster.

  The graph-mode (v1) strategy that the Estimator drives: each worker
  all-reduces its gradients with the others every step and uses all of its
  visible GPUs (its CPU when it has none). Eager execution must have been
  disabled first (`tf.compat.v1.disable_eager_execution`).
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return tf.compat.v1.distribute.experimental.MultiWorkerMirroredStrategy()

"""Tests for official_utils/misc/distribution_utils.py."""

import json

import pytest
import tensorflow as tf

from official_utils.misc import distribution_utils

from tests.helpers import official_utils as helpers


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
  rc, out = helpers.run_python_code(code)
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


# TF_CONFIG's cluster: this machine's role in it.


def _config(cluster, task_type, index):
  return {"cluster": cluster, "task": {"type": task_type, "index": index}}


def test_no_cluster_is_single_machine():
  assert distribution_utils.multi_worker_role(None) is None
  assert distribution_utils.multi_worker_role({"cluster": {}}) is None


def test_workers_only_worker_zero_is_chief():
  cluster = {"worker": ["a:1", "b:1", "c:1"]}
  roles = [distribution_utils.multi_worker_role(_config(cluster, "worker", i))
           for i in range(3)]
  assert [(r.num_workers, r.index, r.is_chief) for r in roles] == [
      (3, 0, True), (3, 1, False), (3, 2, False)]


def test_chief_job_comes_first():
  cluster = {"chief": ["a:1"], "worker": ["b:1", "c:1"]}
  chief = distribution_utils.multi_worker_role(_config(cluster, "chief", 0))
  worker = distribution_utils.multi_worker_role(_config(cluster, "worker", 1))
  assert (chief.num_workers, chief.index, chief.is_chief) == (3, 0, True)
  assert (worker.num_workers, worker.index, worker.is_chief) == (3, 2, False)


@pytest.mark.parametrize("config,message", [
    (_config({"worker": ["a:1"], "ps": ["b:1"]}, "worker", 0), "'ps'"),
    (_config({"worker": ["a:1"], "evaluator": ["b:1"]}, "worker", 0),
     "'evaluator'"),
    (_config({"chief": ["a:1", "b:1"]}, "chief", 0), "at most one"),
    ({"cluster": {"worker": ["a:1"]}}, "must name this machine"),
    (_config({"worker": ["a:1", "b:1"]}, "worker", 2), "not in the cluster"),
])
def test_unsupported_clusters_are_clear_errors(config, message):
  with pytest.raises(ValueError, match="TF_CONFIG") as info:
    distribution_utils.multi_worker_role(config)
  assert message in str(info.value)


@pytest.mark.parametrize("raw,message", [
    ("[1, 2]", "must be a JSON object, got a list"),
    ('"worker"', "must be a JSON object, got a string"),
    ('{"cluster": ["a:1"]}', "\"cluster\" must be an object"),
    ('{"cluster": {"worker": "a:1"}}', "job 'worker' must be a list"),
    ('{"cluster": {"worker": [1]}}', "job 'worker' must be a list"),
    ('{"task": "worker"}', "\"task\" must be an object, got a string"),
    ('{"task": {"type": 0}}', "\"type\" must be a string"),
    ('{"task": {"index": "0"}}', "\"index\" must be an integer >= 0, got "
     "\"0\""),
    ('{"task": {"index": true}}', "got true"),
    ('{"task": {"index": -1}}', "got -1"),
    ('{"task": {"index": 1.0}}', "got 1.0"),
])
def test_tf_config_of_the_wrong_shape_is_a_clear_error(monkeypatch, raw,
                                                       message):
  monkeypatch.setenv("TF_CONFIG", raw)
  with pytest.raises(ValueError) as info:
    distribution_utils.tf_config_cluster()
  assert str(info.value).startswith("TF_CONFIG")
  assert message in str(info.value)


def test_tf_config_of_the_right_shape_passes(monkeypatch):
  config = {"cluster": {"chief": ["a:1"], "worker": ["b:1"]},
            "task": {"type": "worker", "index": 0}, "environment": "cloud"}
  monkeypatch.setenv("TF_CONFIG", json.dumps(config))
  assert distribution_utils.tf_config_cluster() == config
  monkeypatch.setenv("TF_CONFIG", "{}")
  assert distribution_utils.tf_config_cluster() == {}

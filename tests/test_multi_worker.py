"""Training over several machines: TF_CONFIG, input sharding, the chief's record.

The end-to-end test runs two deep_speech.py processes as a two-worker
MultiWorkerMirroredStrategy cluster on 127.0.0.1.
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from data import augment
from data import dataset
from data import sampler
from data import vocabulary
from official_utils.misc import distribution_utils
from tests import conftest
from training import cycles
from training import inputs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# TF_CONFIG.


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


# Input sharding.


def _batches(speech, epochs, **kwargs):
  """[(wav filenames, features)] of every batch input_fn yields."""
  out = []
  for features, _ in dataset.input_fn(2, speech, epochs=epochs, **kwargs):
    out.append((tuple(f.decode() for f in features["wav_filename"].numpy()),
                features["features"].numpy()))
  return out


@pytest.mark.parametrize("num_workers", [2, 3])
def test_workers_take_disjoint_batches_in_turn(corpus, num_workers):
  speech = inputs.generate_dataset(
      corpus, 16000, 20, 10, vocabulary.VOCABULARY_FILE, True)
  # 16 utterances in batches of 2: 8 plain batches, then a bucketed epoch.
  boundaries = sampler.bucket_boundaries(speech.entries, 2)
  epochs = [sampler.epoch_entries(speech.entries, e, True, 2, 1, 2)
            for e in range(2)]
  bucketed = [False, True]
  # Masks seeded by each entry's place in the cycle: a worker must draw the
  # same ones as a single machine would.
  masks = augment.SpecAugment(8, 10, seed=3)
  kwargs = dict(bucket_boundaries=boundaries, bucketed=bucketed,
                augment=masks)
  whole = _batches(speech, epochs, **kwargs)
  assert len(whole) == sampler.epoch_num_batches(epochs[0], 2) + (
      sampler.epoch_num_batches(epochs[1], 2, boundaries))
  for skip in (0, num_workers):
    seen = []
    for worker in range(num_workers):
      context = tf.distribute.InputContext(num_workers, worker)
      mine = _batches(speech, epochs, skip_batches=skip,
                      input_context=context, **kwargs)
      expected = [b for i, b in enumerate(whole)
                  if i >= skip and i % num_workers == worker]
      assert [names for names, _ in mine] == [n for n, _ in expected]
      for (_, got), (_, want) in zip(mine, expected):
        np.testing.assert_array_equal(got, want)
      seen += [names for names, _ in mine]
    # Together the workers cover every remaining batch once.
    assert sorted(seen) == sorted(names for names, _ in whole[skip:])


# Two workers, end to end.


def _free_ports(count):
  sockets = [socket.socket() for _ in range(count)]
  for s in sockets:
    s.bind(("127.0.0.1", 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def test_two_workers_train_together_and_the_chief_evaluates(tmp_path):
  # 14 utterances, global batch 4 = 2 per worker: 7 batches an epoch, so 3
  # whole steps (a 4th would find worker 1 out of batches).
  manifest = conftest.make_corpus(tmp_path / "data", num_utts=14)
  model_dir, export_dir = tmp_path / "model", tmp_path / "export"
  cluster = {"worker": ["127.0.0.1:%d" % p for p in _free_ports(2)]}
  cmd = [sys.executable, "deep_speech.py", "--train_data_dir=" + manifest,
         "--eval_data_dir=" + manifest, "--model_dir=%s" % model_dir,
         "--export_dir=%s" % export_dir, "--train_epochs=3",
         "--batch_size=4", "--rnn_hidden_size=32", "--rnn_hidden_layers=1",
         "--learning_rate=2e-3", "--conv_filters=8"]
  codes, logs = _run_cluster(cmd, cluster, tmp_path, "first")
  assert codes == [0, 0], logs[0][-3000:] + logs[1][-3000:]

  assert "task 0 of 2" in logs[0] and "(the chief)" in logs[0]
  assert "task 1 of 2" in logs[1]
  with open(str(model_dir / cycles.STATE_FILE)) as f:
    state = json.load(f)
  assert [c["global_step"] for c in state["cycles"]] == [3, 6, 9]
  assert json.loads(state["fingerprint"])["num_replicas"] == 2
  losses = [c["train_loss"] for c in state["cycles"]]
  assert losses[2] < losses[0]
  # The chief evaluates and exports; worker 1 reads its results.
  for cycle in range(1, 4):
    assert "Iteration %d: WER = " % cycle in logs[0]
    assert "Iteration %d: WER = " % cycle not in logs[1]
    assert "Cycle %d: the chief measured WER" % cycle in logs[1]
  assert len(os.listdir(str(export_dir))) == 1
  assert "Exported the SavedModel" not in logs[1]

  # Run again for one more epoch: both skip the finished cycles.
  cmd = [arg.replace("--train_epochs=3", "--train_epochs=4") for arg in cmd]
  codes, logs = _run_cluster(cmd, cluster, tmp_path, "again")
  assert codes == [0, 0], logs[0][-3000:] + logs[1][-3000:]
  for log in logs:
    assert "Cycle 3/4 already done" in log and "Cycle 4/4" not in log
  assert "Iteration 4: WER = " in logs[0]
  assert "Cycle 4: the chief measured WER" in logs[1]
  with open(str(model_dir / cycles.STATE_FILE)) as f:
    state = json.load(f)
  assert [c["global_step"] for c in state["cycles"]] == [3, 6, 9, 12]


def _run_cluster(cmd, cluster, log_dir, name):
  """Runs cmd as each worker of cluster; returns exit codes and logs."""
  procs, paths = [], []
  for index in range(len(cluster["worker"])):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CONFIG=json.dumps(
        _config(cluster, "worker", index)))
    paths.append(log_dir / ("%s-worker%d.log" % (name, index)))
    log = open(str(paths[-1]), "w")
    procs.append((subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT), log))
  try:
    codes = [p.wait(timeout=600) for p, _ in procs]
  finally:
    for p, log in procs:
      if p.poll() is None:
        p.kill()
      log.close()
  return codes, [path.read_text() for path in paths]


def test_two_workers_resume_a_cycle_part_way(tmp_path):
  # 12 utterances, global batch 4: 3 steps a cycle. A checkpoint every step
  # lets the test roll the run back to step 4, one step into cycle 2, as if
  # both workers had been stopped there.
  manifest = conftest.make_corpus(tmp_path / "data", num_utts=12)
  model_dir = tmp_path / "model"
  cluster = {"worker": ["127.0.0.1:%d" % p for p in _free_ports(2)]}
  cmd = [sys.executable, "deep_speech.py", "--train_data_dir=" + manifest,
         "--eval_data_dir=" + manifest, "--model_dir=%s" % model_dir,
         "--train_epochs=2", "--batch_size=4", "--rnn_hidden_size=16",
         "--rnn_hidden_layers=1", "--conv_filters=4",
         "--save_checkpoints_steps=1"]
  codes, logs = _run_cluster(cmd, cluster, tmp_path, "whole")
  assert codes == [0, 0], logs[0][-3000:] + logs[1][-3000:]
  state_path = model_dir / cycles.STATE_FILE
  state = json.loads(state_path.read_text())
  assert [c["global_step"] for c in state["cycles"]] == [3, 6]

  state["cycles"] = state["cycles"][:1]
  state_path.write_text(json.dumps(state))
  (model_dir / "checkpoint").write_text(
      'model_checkpoint_path: "model.ckpt-4"\n')
  codes, logs = _run_cluster(cmd, cluster, tmp_path, "resumed")
  assert codes == [0, 0], logs[0][-3000:] + logs[1][-3000:]
  for log in logs:
    assert "Cycle 1/2 already done" in log
    assert "Resuming the cycle at step 1 of 3." in log
  assert "Iteration 2: WER = " in logs[0]
  assert "Cycle 2: the chief measured WER" in logs[1]
  state = json.loads(state_path.read_text())
  assert [c["global_step"] for c in state["cycles"]] == [3, 6]
  assert tf.train.latest_checkpoint(str(model_dir)).endswith("model.ckpt-6")

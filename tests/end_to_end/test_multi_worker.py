"""Training over several machines: two deep_speech.py processes as a
two-worker MultiWorkerMirroredStrategy cluster on 127.0.0.1.

How TF_CONFIG is read is tested in tests/official_utils/
test_distribution_utils.py; how the input is sharded in tests/data/
test_dataset.py.
"""

import json
import os
import socket
import subprocess
import sys

import tensorflow as tf

from tests import conftest
from training import cycles

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _free_ports(count):
  sockets = [socket.socket() for _ in range(count)]
  for s in sockets:
    s.bind(("127.0.0.1", 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def test_two_workers_train_together_the_chief_evaluates_and_both_resume(
    tmp_path):
  # 14 utterances, global batch 4 = 2 per worker: 7 batches an epoch, so 3
  # whole steps (a 4th would find worker 1 out of batches). A checkpoint
  # every step lets the test roll the run back part way into a cycle.
  manifest = conftest.make_corpus(tmp_path / "data", num_utts=14)
  model_dir, export_dir = tmp_path / "model", tmp_path / "export"
  cluster = {"worker": ["127.0.0.1:%d" % p for p in _free_ports(2)]}
  cmd = [sys.executable, "deep_speech.py", "--train_data_dir=" + manifest,
         "--eval_data_dir=" + manifest, "--model_dir=%s" % model_dir,
         "--export_dir=%s" % export_dir, "--train_epochs=3",
         "--batch_size=4", "--rnn_hidden_size=32", "--rnn_hidden_layers=1",
         "--learning_rate=2e-3", "--conv_filters=8",
         "--save_checkpoints_steps=1"]
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

  # Rolled back to step 7, one step into cycle 3, as if both workers had
  # been stopped there, and run for one more epoch: both skip the finished
  # cycles, resume cycle 3 at its second step and train cycle 4.
  state_path = model_dir / cycles.STATE_FILE
  state["cycles"] = state["cycles"][:2]
  state_path.write_text(json.dumps(state))
  (model_dir / "checkpoint").write_text(
      'model_checkpoint_path: "model.ckpt-7"\n')
  cmd = [arg.replace("--train_epochs=3", "--train_epochs=4") for arg in cmd]
  codes, logs = _run_cluster(cmd, cluster, tmp_path, "again")
  assert codes == [0, 0], logs[0][-3000:] + logs[1][-3000:]
  for log in logs:
    assert "Cycle 2/4 already done" in log
    assert "Resuming the cycle at step 1 of 3." in log
  for cycle in (3, 4):
    assert "Iteration %d: WER = " % cycle in logs[0]
    assert "Cycle %d: the chief measured WER" % cycle in logs[1]
  state = json.loads(state_path.read_text())
  assert [c["global_step"] for c in state["cycles"]] == [3, 6, 9, 12]
  assert tf.train.latest_checkpoint(str(model_dir)).endswith("model.ckpt-12")


def _run_cluster(cmd, cluster, log_dir, name):
  """Runs cmd as each worker of cluster; returns exit codes and logs."""
  procs, paths = [], []
  for index in range(len(cluster["worker"])):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CONFIG=json.dumps(
        {"cluster": cluster, "task": {"type": "worker", "index": index}}))
    paths.append(log_dir / ("%s-worker%d.log" % (name, index)))
    log = open(str(paths[-1]), "w")
    procs.append((subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT), log))
  codes = conftest.wait_for_all(procs)
  return codes, [path.read_text() for path in paths]

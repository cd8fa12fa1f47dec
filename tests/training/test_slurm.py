"""Tests for training/slurm.py: TF_CONFIG from SLURM's environment."""

import json
import os
import socket
import subprocess
import sys

import pytest

from tests import conftest
from training import slurm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


@pytest.mark.parametrize("nodelist,hosts", [
    ("node07", ["node07"]),
    ("node[01-03,07]", ["node01", "node02", "node03", "node07"]),
    ("gpu[8-10],login", ["gpu8", "gpu9", "gpu10", "login"]),
    ("a[1-2],b[09-10]x", ["a1", "a2", "b09x", "b10x"]),
    ("r[1-2]n[1,3]", ["r1n1", "r1n3", "r2n1", "r2n3"]),
])
def test_expand_nodelist(nodelist, hosts):
  assert slurm.expand_nodelist(nodelist) == hosts


@pytest.mark.parametrize("nodelist", ["node[01-03", "node]1", "node[a-b]"])
def test_unreadable_nodelists_are_clear_errors(nodelist):
  with pytest.raises(slurm.SlurmError, match="node list"):
    slurm.expand_nodelist(nodelist)


def _slurm_env(nodelist, node_id, **extra):
  env = {"SLURM_JOB_NODELIST": nodelist, "SLURM_NODEID": str(node_id),
         "SLURM_PROCID": str(node_id), "SLURM_JOB_ID": "4321",
         "SLURM_NTASKS": str(len(slurm.expand_nodelist(nodelist)))}
  env.update(extra)
  return env


def test_two_nodes_make_the_two_worker_cluster():
  # The TF_CONFIG tests/end_to_end/test_multi_worker.py's two-worker test uses.
  configs = [slurm.tf_config_from_slurm(_slurm_env("node[1-2]", i), 2222)
             for i in range(2)]
  cluster = {"worker": ["node1:2222", "node2:2223"]}
  assert configs == [{"cluster": cluster,
                      "task": {"type": "worker", "index": i}}
                     for i in range(2)]
  # Without --port: from the job id, the same on every node.
  config = slurm.tf_config_from_slurm(_slurm_env("node[1-2]", 1))
  assert config["cluster"]["worker"] == ["node1:24321", "node2:24322"]


def test_one_node_needs_no_cluster_and_bad_jobs_are_clear_errors():
  assert slurm.tf_config_from_slurm(_slurm_env("node1", 0)) is None
  with pytest.raises(slurm.SlurmError, match="not inside a SLURM job"):
    slurm.tf_config_from_slurm({})
  with pytest.raises(slurm.SlurmError, match="one task per node"):
    slurm.tf_config_from_slurm(_slurm_env("node[1-2]", 0, SLURM_NTASKS="4"))


def test_cli_prints_tf_config():
  env = dict(os.environ, **_slurm_env("node[1-2]", 1))
  out = subprocess.run([sys.executable, "-m", "training.slurm", "--port=7000"],
                       cwd=ROOT, env=env, capture_output=True, text=True,
                       check=True).stdout
  assert json.loads(out) == {"cluster": {"worker": ["node1:7000",
                                                    "node2:7001"]},
                             "task": {"type": "worker", "index": 1}}


def _run_cli(environ, *args):
  """`python -m training.slurm` with SLURM's variables `environ` only."""
  env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
  env.update(environ)
  proc = subprocess.run([sys.executable, "-m", "training.slurm"] + list(args),
                        cwd=ROOT, env=env, capture_output=True, text=True,
                        timeout=120)
  assert "Traceback" not in proc.stderr, proc.stderr
  return proc.returncode, proc.stdout, proc.stderr.splitlines()


@pytest.mark.parametrize("name,value", [
    ("SLURM_NTASKS", "abc"), ("SLURM_NTASKS", "-2"), ("SLURM_NTASKS", ""),
    ("SLURM_NODEID", "x1"), ("SLURM_NODEID", "1.0"),
])
def test_cli_names_a_variable_that_is_not_a_number(tmp_path, name, value):
  environ = _slurm_env("node[1-2]", 1)
  environ[name] = value
  marker = tmp_path / "ran"
  status, out, err = _run_cli(environ, "--", "touch", str(marker))
  assert status == 1 and out == ""
  assert err == ["training/slurm.py: error: %s=%r is not a whole number; is "
                 "this SLURM's environment?" % (name, value)]
  assert not marker.exists()  # the command never ran


def test_a_bad_procid_is_named_when_no_nodeid_is_set():
  environ = _slurm_env("node[1-2]", 1, SLURM_PROCID="one")
  del environ["SLURM_NODEID"]
  status, out, err = _run_cli(environ)
  assert (status, out) == (1, "")
  assert err[0].startswith("training/slurm.py: error: SLURM_PROCID='one'")


@pytest.mark.parametrize("args,message", [
    (["--port=0"], "flag --port=0: 0 is not an integer in the range "
     "[1, 65535]"),
    (["--port=abc"], "flag --port=abc: invalid literal for int() with base "
     "10: 'abc'"),
    (["echo"], "unexpected arguments echo (put the command after --)"),
])
def test_cli_usage_errors_exit_two_with_one_line(tmp_path, args, message):
  status, out, err = _run_cli(_slurm_env("node[1-2]", 1), *args)
  assert (status, out) == (2, "")
  assert err == ["training/slurm.py: error: " + message]


def test_cli_runs_the_command_after_the_separator_with_tf_config(tmp_path):
  out_file = tmp_path / "tf_config.json"
  status, _, err = _run_cli(
      _slurm_env("node[1-2]", 0), "--port=7100", "--", sys.executable, "-c",
      "import os, sys; open(sys.argv[1], 'w').write(os.environ['TF_CONFIG'])",
      str(out_file))
  assert status == 0, err
  assert json.loads(out_file.read_text()) == {
      "cluster": {"worker": ["node1:7100", "node2:7101"]},
      "task": {"type": "worker", "index": 0}}


def _free_port_pair():
  """A port p with p + 1 free too (worker i listens on p + i)."""
  for _ in range(50):
    with socket.socket() as s:
      s.bind(("127.0.0.1", 0))
      port = s.getsockname()[1]
    try:
      with socket.socket() as s:
        s.bind(("127.0.0.1", port + 1))
      return port
    except OSError:
      continue
  raise RuntimeError("no two consecutive free ports")


@pytest.mark.slow
def test_two_tasks_started_through_it_train_together(tmp_path):
  # Two "nodes" that are both this host: the builder gives them ports p and
  # p + 1, as tests/end_to_end/test_multi_worker.py's cluster on 127.0.0.1.
  manifest = conftest.make_corpus(tmp_path / "data", num_utts=14)
  model_dir = tmp_path / "model"
  port = _free_port_pair()
  cmd = [sys.executable, "-m", "training.slurm", "--port=%d" % port, "--",
         sys.executable, "deep_speech.py", "--train_data_dir=" + manifest,
         "--eval_data_dir=" + manifest, "--model_dir=%s" % model_dir,
         "--export_dir=", "--train_epochs=2", "--batch_size=4",
         "--rnn_hidden_size=16", "--rnn_hidden_layers=1",
         "--learning_rate=2e-3", "--conv_filters=4", "--show_samples=0"]
  procs = []
  for node in range(2):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="",
               **_slurm_env("127.0.0.1,127.0.0.1", node))
    env.pop("TF_CONFIG", None)
    log = open(str(tmp_path / ("node%d.log" % node)), "w")
    procs.append((subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT), log))
  codes = conftest.wait_for_all(procs)
  logs = [(tmp_path / ("node%d.log" % i)).read_text() for i in range(2)]
  assert codes == [0, 0], logs[0][-3000:] + logs[1][-3000:]
  assert "task 0 of 2" in logs[0] and "task 1 of 2" in logs[1]
  with open(str(model_dir / "train_state.json")) as f:
    state = json.load(f)
  assert json.loads(state["fingerprint"])["num_replicas"] == 2
  losses = [c["train_loss"] for c in state["cycles"]]
  assert len(losses) == 2 and losses[1] < losses[0]

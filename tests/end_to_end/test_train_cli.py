"""deep_speech.py run as a user runs it: training, evaluation, export, resume.

Each scenario runs the CLI (or a script driving its model_fn) in a
subprocess; tests/end_to_end/conftest.py marks them slow.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests import conftest
from tests.helpers.train import read_state, run_in_process
from training import export

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def test_cli_trains_evaluates_exports_and_resumes(tmp_path):
  manifest = conftest.make_corpus(tmp_path / "data", num_utts=12)
  model_dir, export_dir = str(tmp_path / "model"), str(tmp_path / "export")
  cmd = [sys.executable, "deep_speech.py", "--train_data_dir=" + manifest,
         "--eval_data_dir=" + manifest, "--model_dir=" + model_dir,
         "--export_dir=" + export_dir, "--train_epochs=2", "--batch_size=4",
         "--rnn_hidden_size=32", "--rnn_hidden_layers=1",
         "--learning_rate=2e-3", "--conv_filters=8"]
  proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                        timeout=600)
  log = proc.stdout + proc.stderr
  assert proc.returncode == 0, log[-3000:]
  assert "Iteration 1: WER = " in log and "Iteration 2: WER = " in log
  assert tf.train.latest_checkpoint(model_dir).endswith("model.ckpt-6")
  # --conv_filters reaches the model through params.
  assert tf.train.load_variable(model_dir, "cnn_2/kernel").shape == (
      21, 11, 8, 8)

  state = read_state(model_dir)
  assert [c["global_step"] for c in state["cycles"]] == [3, 6]
  assert state["cycles"][1]["train_loss"] < state["cycles"][0]["train_loss"]
  for cycle in state["cycles"]:
    assert np.isfinite(cycle["WER"]) and np.isfinite(cycle["CER"])

  # The SavedModel serves probabilities and lengths.
  (export_path,) = [os.path.join(export_dir, d) for d in os.listdir(export_dir)]
  with open(os.path.join(export_path, "assets.extra",
                         export.EXPORT_SETTINGS_FILE)) as f:
    settings = json.load(f)
  # --export_best (default): the export is the best cycle's checkpoint.
  best = min(state["cycles"], key=lambda c: c["WER"])
  assert settings == {"sample_rate": 16000, "window_ms": 20, "stride_ms": 10,
                      "speech_labels": " abcdefghijklmnopqrstuvwxyz'-",
                      "best_step": best["global_step"],
                      "best_WER": best["WER"], "best_decoder": "greedy",
                      "decoder": "greedy",
                      "beam_width": 100, "alpha": 0.0, "beta": 0.0,
                      "lm_path": None, "lexicon": None,
                      "text_policy": {"unicode_form": "NFC",
                                      "strip_accents": False,
                                      "lowercase": True}}
  with open(os.path.join(model_dir, "best", "best.json")) as f:
    assert json.load(f)["step"] == best["global_step"]
  loaded = tf.saved_model.load(export_path)
  serve = loaded.signatures["serving_default"]
  out = serve(features=tf.zeros([2, 60, 161, 1]),
              input_length=tf.constant([[60], [30]]))
  assert out["probabilities"].shape == (2, 15, 29)
  np.testing.assert_allclose(out["probabilities"].numpy().sum(-1), 1.0,
                             rtol=1e-5)
  np.testing.assert_array_equal(out["ctc_input_length"].numpy(), [15, 7])

  # transcribe.py serves the export on the manifest's audio.
  proc = subprocess.run(
      [sys.executable, "transcribe.py", "--saved_model=" + export_dir,
       "--manifest=" + manifest, "--num=3"], cwd=ROOT, capture_output=True,
      text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert proc.stdout.count("reference : ") == 3
  assert proc.stdout.count("prediction: ") == 3
  assert "WER " in proc.stdout and "CER " in proc.stdout

  # Running again with more epochs resumes at the saved step: the two
  # finished cycles are neither retrained nor re-evaluated.
  cycles = run_in_process(["--train_data_dir=" + manifest,
                           "--eval_data_dir=" + manifest,
                           "--model_dir=" + model_dir, "--train_epochs=3",
                           "--batch_size=4", "--rnn_hidden_size=32",
                           "--rnn_hidden_layers=1", "--conv_filters=8",
                           "--export_dir="])
  assert [c["global_step"] for c in cycles] == [3, 6, 9]
  assert cycles[:2] == state["cycles"]

  # Other model flags on the same model_dir: a clear error before training.
  with pytest.raises(ValueError, match="trained with a different model"):
    run_in_process(["--train_data_dir=" + manifest,
                    "--eval_data_dir=" + manifest,
                    "--model_dir=" + model_dir, "--train_epochs=4",
                    "--batch_size=4", "--rnn_hidden_size=32",
                    "--rnn_hidden_layers=1", "--conv_filters=4",
                    "--export_dir="])
  assert tf.train.latest_checkpoint(model_dir).endswith("model.ckpt-9")


def _bf16_run(tmp_path, onednn, *extra):
  """deep_speech.py --dtype=bf16 with oneDNN limited to AVX2 code."""
  manifest = conftest.make_corpus(tmp_path / "data", num_utts=4)
  env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2",
             TF_ENABLE_ONEDNN_OPTS=onednn, CUDA_VISIBLE_DEVICES="")
  return subprocess.run(
      [sys.executable, "deep_speech.py", "--train_data_dir=" + manifest,
       "--eval_data_dir=" + manifest, "--model_dir=" + str(tmp_path / "m"),
       "--dtype=bf16", "--rnn_hidden_size=8", "--rnn_hidden_layers=1"]
      + list(extra), cwd=ROOT, env=env, capture_output=True, text=True,
      timeout=300)


def test_bf16_without_cpu_support_is_a_clear_error(tmp_path):
  # oneDNN's custom operations limited to AVX2 stand for a CPU without
  # AVX512 where they are on: bfloat16 convolutions cannot run there, on
  # every CPU kind (the variable is set explicitly, since TensorFlow's
  # default differs between CPU kinds).
  proc = _bf16_run(tmp_path, "1")
  assert proc.returncode == 1, proc.stderr[-3000:]
  assert "--dtype=bf16" in proc.stderr and "Use --dtype=fp32" in proc.stderr
  assert "Traceback" not in proc.stderr
  assert not os.path.exists(str(tmp_path / "m" / "checkpoint"))


def test_bf16_emulated_trains_with_a_warning(tmp_path):
  # With oneDNN's custom operations off (TensorFlow's default on an AVX2
  # CPU), TensorFlow's own kernels emulate bfloat16 on every CPU kind:
  # training proceeds, and the log says it is slower than fp32.
  proc = _bf16_run(tmp_path, "0", "--conv_filters=4", "--batch_size=4",
                   "--train_epochs=1", "--export_dir=", "--show_samples=0")
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "bfloat16 is emulated" in proc.stderr
  assert "slower than float32" in proc.stderr
  assert "Iteration 1: WER = " in proc.stderr
  assert tf.train.latest_checkpoint(str(tmp_path / "m"))


_MIRRORED_SCRIPT = r"""
import json, sys
import tensorflow as tf
import deep_speech
from data import dataset
from data import featurizer
from data import sampler
from data import vocabulary
from training import inputs

manifest, model_dir = sys.argv[1], sys.argv[2]
speech = inputs.generate_dataset(manifest, featurizer.AudioFeaturizer(),
                                 vocabulary.VOCABULARY_FILE, True)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
config = tf.estimator.RunConfig(
    train_distribute=strategy, tf_random_seed=1,
    session_config=tf.compat.v1.ConfigProto(device_count={"CPU": 2}))
params = dict(num_classes=29, rnn_hidden_layers=1, rnn_type="gru",
              is_bidirectional=True, rnn_hidden_size=16, use_bias=True,
              learning_rate=3e-3)
estimator = tf.estimator.Estimator(deep_speech.model_fn, model_dir=model_dir,
                                   config=config, params=params)
class Probe(tf.estimator.SessionRunHook):
  def begin(self):
    graph = tf.compat.v1.get_default_graph()
    ops = [op for op in graph.get_operations()
           if op.name.endswith("replica_batch_size")]
    self.sizes = {op.name: op.outputs[0] for op in ops}
    self.losses = {op.name: op.outputs[0] for op in graph.get_operations()
                   if op.name.split("/")[-1] == "loss" and op.type == "Identity"}
    self.seen = []
  def before_run(self, ctx):
    return tf.estimator.SessionRunArgs([self.sizes, self.losses])
  def after_run(self, ctx, values):
    sizes, losses = values.results
    self.seen.append(({k: int(v) for k, v in sizes.items()},
                      {k: float(v) for k, v in losses.items()}))

probe = Probe()
# 16 utterances, per-replica batch 4: the global batch of 8 is split in two.
epochs = [sampler.epoch_entries(speech.entries, e, True, 4, 1)
          for e in range(6)]
estimator.train(lambda: dataset.input_fn(4, speech, epochs=epochs),
                hooks=[probe], max_steps=12)
print(json.dumps({"steps": len(probe.seen),
                  "sizes": [sorted(s.items()) for s, _ in probe.seen],
                  "losses": [sorted(l.items()) for _, l in probe.seen]}))
"""


def test_mirrored_strategy_on_two_cpu_devices(tmp_path, corpus):
  proc = subprocess.run(
      [sys.executable, "-c", _MIRRORED_SCRIPT, corpus, str(tmp_path / "m")],
      cwd=ROOT, capture_output=True, text=True, timeout=600,
      env=dict(os.environ, PYTHONPATH=ROOT))
  assert proc.returncode == 0, proc.stderr[-3000:]
  result = json.loads(proc.stdout.strip().splitlines()[-1])
  assert result["steps"] == 12
  for sizes in result["sizes"]:
    # Two replicas, each with half of the global batch of 8.
    assert len(sizes) == 2 and [v for _, v in sizes] == [4, 4]
  losses = [np.mean([v for _, v in step]) for step in result["losses"]]
  assert len(result["losses"][0]) == 2
  assert np.mean(losses[-3:]) < np.mean(losses[:3])


def _run_cli(args, env=None):
  """deep_speech.py as a user runs it; (exit status, stderr lines)."""
  proc = subprocess.run([sys.executable, "deep_speech.py"] + args, cwd=ROOT,
                        env=env, capture_output=True, text=True, timeout=300)
  assert "Traceback" not in proc.stderr, proc.stderr
  return proc.returncode, proc.stderr.splitlines()


@pytest.mark.parametrize("tf_config,message", [
    ("{not json", "TF_CONFIG is not valid JSON"),
    ('[{"type": "worker"}]', "TF_CONFIG: must be a JSON object, got a list"),
    ('{"task": {"type": "worker", "index": "0"}}',
     'TF_CONFIG: "task" "index" must be an integer >= 0, got "0"'),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}, '
     '"task": {"type": "worker", "index": "0"}}',
     'TF_CONFIG: "task" "index" must be an integer >= 0, got "0"'),
])
def test_bad_tf_config_stops_before_anything_is_read_or_written(
    tmp_path, corpus, tf_config, message):
  model_dir = tmp_path / "model"
  status, lines = _run_cli(
      ["--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
       "--model_dir=%s" % model_dir, "--batch_size=4", "--rnn_hidden_size=16"],
      env=dict(os.environ, TF_CONFIG=tf_config))
  assert status == 1
  errors = [line for line in lines if "TF_CONFIG" in line]
  assert len(errors) == 1 and message in errors[0], lines
  assert not any("Data preprocessing" in line for line in lines)
  assert sorted(os.listdir(tmp_path)) == ["corpus"]


@pytest.mark.parametrize("flag,message", [
    ("--batch_size=0", "flag --batch_size=0: 0 is not a positive integer"),
    ("--batch_size=-2", "flag --batch_size=-2: -2 is not a positive integer"),
    ("--rnn_hidden_layers=0",
     "flag --rnn_hidden_layers=0: 0 is not a positive integer"),
])
def test_bad_numeric_flags_stop_before_anything_is_written(tmp_path, corpus,
                                                           flag, message):
  status, lines = _run_cli(
      ["--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
       "--model_dir=%s" % (tmp_path / "model"), "--rnn_hidden_size=16", flag])
  assert status == 1
  assert [line for line in lines if "Flags parsing error" in line] == [
      "FATAL Flags parsing error: " + message]
  assert sorted(os.listdir(tmp_path)) == ["corpus"]

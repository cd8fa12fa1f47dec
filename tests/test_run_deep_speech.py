"""Tests for run_deep_speech.sh, the original's recipe, run by the real bash.

The real run serves tiny LibriSpeech-layout archives of all seven subsets
from a loopback mirror, so download, conversion (real sox), concatenation
and the 27 s filter all run for real; only the trainer is a stub (TRAIN_CMD)
that records its flags and the manifests it was given.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from data.downloading import librispeech
from tests.data.downloading import fakes
from tests.helpers import manifests

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO_ROOT, "run_deep_speech.sh")

# Tiny subsets: three train speakers (one 28 s clip), the download tests'
# dev speakers (one clip of exactly 27 s, one of 27.5 s), one test clip each.
TEXTS = {
    "train-clean-100": {("19", "198"): ["NORTHANGER ABBEY", "CHAPTER ONE"]},
    "train-clean-360": {("26", "495"): ["THE PRINCE"],
                        ("27", "123"): ["A VERY LONG CLIP"]},
    "train-other-500": {("32", "216"): ["IT IS DONE"]},
    "dev-clean": fakes.LIBRISPEECH_TEXTS["dev-clean"],
    "dev-other": fakes.LIBRISPEECH_TEXTS["dev-other"],
    "test-clean": {("61", "700"): ["HE HOPED"]},
    "test-other": {("367", "130"): ["NO"]},
}
SECONDS = {"27-123-0000": 28.0, "84-121123-0001": 27.0,
           "116-288045-0001": 27.5}

STUB = """import json, sys
flags = dict(arg[2:].split("=", 1) for arg in sys.argv[1:])
with open(__file__ + ".json", "w") as f:
  json.dump({"argv": sys.argv[1:],
             "train": open(flags["train_data_dir"]).read(),
             "eval": open(flags["eval_data_dir"]).read()}, f)
"""


def _run(env, *args):
  full_env = dict(os.environ, PYTHON=sys.executable)
  full_env.update(env)
  return subprocess.run(["bash", SCRIPT] + list(args), cwd=REPO_ROOT,
                        env=full_env, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True, timeout=300,
                        check=False)


def _expected_commands(data_dir, model_dir, train_cmd, download_flags="",
                       extra_flags=""):
  """The recipe's commands, as the script prints them (plain paths)."""
  def subset(name):
    return "%s/%s/LibriSpeech/%s.csv" % (data_dir, name, name)
  py = sys.executable
  return [
      " ".join(["+", py, "data/download.py", "--data_dir=" + data_dir] +
               download_flags.split()),
      "+ %s data/manifest_tool.py concat %s %s %s --output=%s/train_dataset"
      ".csv" % (py, subset("train-clean-100"), subset("train-clean-360"),
                subset("train-other-500"), data_dir),
      "+ %s data/manifest_tool.py concat %s %s --output=%s/eval_dataset.csv"
      % (py, subset("dev-clean"), subset("dev-other"), data_dir),
      "+ %s data/manifest_tool.py filter %s/train_dataset.csv "
      "--max_audio_sec=27 --output=%s/final_train_dataset.csv"
      % (py, data_dir, data_dir),
      "+ %s data/manifest_tool.py filter %s/eval_dataset.csv "
      "--max_audio_sec=27 --output=%s/final_eval_dataset.csv"
      % (py, data_dir, data_dir),
      " ".join(["+", train_cmd, "--model_dir=" + model_dir,
                "--train_data_dir=%s/final_train_dataset.csv" % data_dir,
                "--eval_data_dir=%s/final_eval_dataset.csv" % data_dir,
                "--num_gpus=-1", "--wer_threshold=0.23", "--seed=1"] +
               extra_flags.split()),
  ]


def _commands(stdout):
  return [line for line in stdout.split("\n") if line.startswith("+ ")]


@pytest.mark.parametrize("how", ["env", "flag"])
def test_dry_run_prints_the_recipe_in_order_and_runs_nothing(tmp_path, how):
  data_dir, model_dir = str(tmp_path / "data"), str(tmp_path / "model")
  env = {"DATA_DIR": data_dir, "MODEL_DIR": model_dir,
         "EXTRA_FLAGS": " --train_epochs=10  --batch_size=64 "}
  args = []
  if how == "env":
    env["DRY_RUN"] = "1"
  else:
    args = ["--dry_run"]
  result = _run(env, *args)
  assert (result.returncode, result.stderr) == (0, "")
  commands = _expected_commands(
      data_dir, model_dir, sys.executable + " deep_speech.py",
      extra_flags="--train_epochs=10 --batch_size=64")
  assert result.stdout.split("\n") == (
      ["Data downloading...", commands[0], "Data preprocessing..."] +
      commands[1:5] + ["Model training and evaluation...", commands[5], ""])
  assert os.listdir(tmp_path) == []


def test_relative_directories_are_the_callers(tmp_path):
  env = dict(os.environ, PYTHON=sys.executable, DRY_RUN="1",
             DATA_DIR="corpus", MODEL_DIR="runs/one")
  result = subprocess.run(["bash", SCRIPT], cwd=str(tmp_path), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=60, check=False)
  assert result.returncode == 0, result.stderr
  assert _commands(result.stdout) == _expected_commands(
      str(tmp_path / "corpus"), str(tmp_path / "runs" / "one"),
      sys.executable + " deep_speech.py")


@pytest.mark.parametrize("env, args, message", [
    ({}, ["--dryrun"], "unknown argument '--dryrun'; settings come from the "
     "environment (see --help)"),
    ({"DRY_RUN": "yes"}, [], "DRY_RUN must be 0 or 1, got 'yes'"),
])
def test_usage_mistakes_are_one_line_and_run_nothing(tmp_path, env, args,
                                                     message):
  env = dict(env, DATA_DIR=str(tmp_path / "data"))
  result = _run(env, *args)
  assert (result.returncode, result.stdout, result.stderr) == (
      2, "", "run_deep_speech.sh: error: %s\n" % message)
  assert os.listdir(tmp_path) == []


def test_help_lists_the_settings():
  result = _run({}, "--help")
  assert result.returncode == 0
  for name in ("DATA_DIR", "MODEL_DIR", "MAX_AUDIO_SEC", "DOWNLOAD_FLAGS",
               "EXTRA_FLAGS", "TRAIN_CMD", "DRY_RUN=1", "--dry_run"):
    assert name in result.stdout


def _serve_all_subsets(tmp_path):
  root = tmp_path / "mirror"
  root.mkdir()
  utterances = {}
  for subset in librispeech.SUBSETS:
    utterances.update(fakes.make_librispeech_archive(
        str(root), str(tmp_path / "src"), subset, TEXTS[subset], SECONDS))
  md5sum = fakes.write_md5sum(str(root), [s + ".tar.gz"
                                          for s in librispeech.SUBSETS])
  return fakes.start_mirror(root), md5sum, utterances


def _subset_rows(data_dir, subsets, drop=()):
  rows = []
  for subset in subsets:
    path = librispeech.manifest_path(data_dir, subset)
    rows += [line for line in manifests.data_lines(path)
             if os.path.basename(line.split("\t")[0])[:-4] not in drop]
  return rows


@pytest.mark.slow
def test_real_run_from_a_loopback_mirror_with_a_stub_trainer(tmp_path):
  mirror, md5sum, utterances = _serve_all_subsets(tmp_path)
  stub = tmp_path / "trainer.py"
  stub.write_text(STUB)
  data_dir, model_dir = str(tmp_path / "data"), str(tmp_path / "model")
  train_cmd = "%s %s" % (sys.executable, stub)
  download_flags = "--base_url=%s --checksum_file=%s --num_workers=2" % (
      mirror.url, md5sum)
  try:
    result = _run({"DATA_DIR": data_dir, "MODEL_DIR": model_dir,
                   "DOWNLOAD_FLAGS": download_flags, "TRAIN_CMD": train_cmd,
                   "EXTRA_FLAGS": "--train_epochs=1"})
  finally:
    mirror.shutdown()
    mirror.server_close()
  assert result.returncode == 0, result.stderr
  assert _commands(result.stdout) == _expected_commands(
      data_dir, model_dir, train_cmd, download_flags, "--train_epochs=1")
  assert result.stdout.split("\n")[-2].startswith("Model training time is ")
  # Every subset was fetched once and converted: one wav per utterance.
  assert sorted(p for p, _ in mirror.requests) == sorted(
      "/%s.tar.gz" % s for s in librispeech.SUBSETS)
  assert len(_subset_rows(data_dir, librispeech.SUBSETS)) == len(utterances)

  train = _subset_rows(data_dir, librispeech.TRAIN_SUBSETS)
  dev = _subset_rows(data_dir, librispeech.DEV_SUBSETS)
  assert manifests.data_lines(os.path.join(data_dir, "train_dataset.csv")) \
      == train
  assert manifests.data_lines(os.path.join(data_dir, "eval_dataset.csv")) \
      == dev
  final_train = _subset_rows(data_dir, librispeech.TRAIN_SUBSETS,
                             drop={"27-123-0000"})
  final_eval = _subset_rows(data_dir, librispeech.DEV_SUBSETS,
                            drop={"116-288045-0001"})
  assert (len(train), len(final_train), len(dev), len(final_eval)) == (
      5, 4, 5, 4)

  with open(str(stub) + ".json") as f:
    seen = json.load(f)
  header = "wav_filename\twav_filesize\ttranscript\n"
  assert seen == {
      "argv": ["--model_dir=" + model_dir,
               "--train_data_dir=%s/final_train_dataset.csv" % data_dir,
               "--eval_data_dir=%s/final_eval_dataset.csv" % data_dir,
               "--num_gpus=-1", "--wer_threshold=0.23", "--seed=1",
               "--train_epochs=1"],
      "train": header + "".join(row + "\n" for row in final_train),
      "eval": header + "".join(row + "\n" for row in final_eval)}


def test_a_failed_download_stops_the_recipe_before_training(tmp_path):
  empty = tmp_path / "mirror"
  empty.mkdir()
  mirror = fakes.start_mirror(empty)
  stub = tmp_path / "trainer.py"
  stub.write_text(STUB)
  data_dir = tmp_path / "data"
  try:
    result = _run({"DATA_DIR": str(data_dir),
                   "DOWNLOAD_FLAGS": "--base_url=" + mirror.url,
                   "TRAIN_CMD": "%s %s" % (sys.executable, stub)})
  finally:
    mirror.shutdown()
    mirror.server_close()
  assert result.returncode == 1
  assert len(_commands(result.stdout)) == 1  # the download, nothing after
  assert result.stderr.startswith("download.py: error: ")
  assert "train-clean-100.tar.gz" in result.stderr
  assert not os.path.exists(str(stub) + ".json")
  assert not (data_dir / "train_dataset.csv").exists()


@pytest.mark.skipif(shutil.which("shellcheck") is None,
                    reason="shellcheck is not installed")
def test_the_script_is_shellcheck_clean():
  result = subprocess.run(["shellcheck", SCRIPT], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=60,
                          check=False)
  assert (result.returncode, result.stdout) == (0, "")

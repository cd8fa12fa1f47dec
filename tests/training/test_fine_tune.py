"""Fine-tuning: --warm_start_from, --warm_start_exclude, --trainable_scopes.

A tiny source model is trained once for the module (and exported); each
fine-tuning is a real training run from it, in-process, and the variables
are read back from the real checkpoints with tf.train.load_variable.
"""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import deep_speech
import deep_speech_model
from tests import conftest
from tests.helpers.train import PARAMS, parse, run_in_process, TINY
from training import checkpoints
from training import fine_tune

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SOURCE_LABELS = " abcdefghijklmnopqrstuvwxyz'-"
# The fine-tuning vocabulary: the letters of conftest.WORDS (no apostrophe,
# no unused letters) and one label the source never had, blank last.
NEW_TOKENS = [" "] + sorted(set("".join(conftest.WORDS))) + ["\u00fc", "-"]
NEW_LABELS = "".join(NEW_TOKENS)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
  """A source model trained long enough to transcribe its corpus, exported.

  Returns:
    A dict: "model_dir", "export_dir", "checkpoint" (its newest, also the
    best and the exported one), "corpus" (a second corpus of the same words,
    other utterances) and "vocabulary" (NEW_TOKENS' file).
  """
  root = tmp_path_factory.mktemp("fine_tune")
  corpus_a = conftest.make_corpus(root / "a", seed=0)
  model_dir, export_dir = str(root / "source"), str(root / "export")
  run_in_process(TINY + [
      "--train_data_dir=" + corpus_a, "--eval_data_dir=" + corpus_a,
      "--model_dir=" + model_dir, "--train_epochs=20",
      "--epochs_between_evals=20", "--export_dir=" + export_dir])
  vocabulary = root / "vocabulary.txt"
  vocabulary.write_text("".join(token + "\n" for token in NEW_TOKENS),
                        encoding="utf-8")
  return {"model_dir": model_dir, "export_dir": export_dir,
          "checkpoint": tf.train.latest_checkpoint(model_dir),
          "corpus": conftest.make_corpus(root / "b", seed=1, name="b"),
          "vocabulary": str(vocabulary)}


def _fine_tune(source, model_dir, *extra, caplog=None):
  """One training cycle of one epoch on the second corpus; its records."""
  flags_obj = parse(TINY + [
      "--train_data_dir=" + source["corpus"],
      "--eval_data_dir=" + source["corpus"], "--model_dir=" + str(model_dir),
      "--vocabulary_file=" + source["vocabulary"], "--train_epochs=1",
      "--keep_checkpoint_max=100"] + list(extra))
  if caplog is not None:  # after parsing, which sets absl's level
    caplog.set_level("INFO", logger="absl")
  return deep_speech.run_deep_speech(flags_obj)


def _refused(source, model_dir, *extra):
  """The ValueError of a fine-tuning that must not start; checks none did."""
  with pytest.raises(ValueError) as error:
    _fine_tune(source, model_dir, *extra)
  assert tf.train.latest_checkpoint(str(model_dir)) is None
  return str(error.value)


def _messages(caplog, start):
  return [r.getMessage() for r in caplog.records
          if r.getMessage().startswith(start)]


def _model_variables(checkpoint):
  return [name for name, _ in tf.train.list_variables(checkpoint)
          if "Adam" not in name and "power" not in name
          and name != "global_step"]


@pytest.mark.slow
def test_new_vocabulary_remaps_the_output_layer_and_beats_from_scratch(
    source, tmp_path, caplog):
  (tuned,) = _fine_tune(source, tmp_path / "tuned",
                        "--warm_start_from=" + source["model_dir"],
                        caplog=caplog)
  (line,) = _messages(caplog, "Warm start: the output layer")
  assert line == (
      "Warm start: the output layer is remapped to --vocabulary_file=%s (19 "
      "labels): dense/kernel [32, 29] -> [32, 19] keeps the columns of the "
      "18 labels the source has too (blank included), new labels '\u00fc' "
      "start at zero; dense/bias [29] -> [19] starts afresh."
      % source["vocabulary"])
  (taken,) = _messages(caplog, "Warm start from ")
  assert taken.startswith("Warm start from %s (model directory (its best "
                          "checkpoint)): 21 variables taken" % os.path.join(
                              source["model_dir"], "best",
                              "model.ckpt-80"))

  start = str(tmp_path / "tuned" / "model.ckpt-0")
  for name in _model_variables(start):
    value = tf.train.load_variable(start, name)
    theirs = tf.train.load_variable(source["checkpoint"], name)
    if name == "dense/kernel":
      assert value.shape == (32, 19)
      for i, label in enumerate(NEW_LABELS):
        column = (theirs[:, SOURCE_LABELS.index(label)]
                  if label in SOURCE_LABELS else np.zeros(32))
        np.testing.assert_array_equal(value[:, i], column, err_msg=label)
    elif name == "dense/bias":
      assert value.shape == (19,) and not value.any()  # fresh: zeros
    else:
      np.testing.assert_array_equal(value, theirs, err_msg=name)

  (scratch,) = _fine_tune(source, tmp_path / "scratch")
  assert tuned["global_step"] == scratch["global_step"] == 4
  assert tuned["CER"] < scratch["CER"] and tuned["WER"] < scratch["WER"]
  assert tuned["train_loss"] < scratch["train_loss"]


@pytest.mark.slow
def test_excluding_the_output_layer_trains_it_afresh(source, tmp_path,
                                                     caplog):
  _fine_tune(source, tmp_path / "m",
             "--warm_start_from=" + source["checkpoint"],
             "--warm_start_exclude=dense/", caplog=caplog)
  assert not _messages(caplog, "Warm start: the output layer")
  (taken,) = _messages(caplog, "Warm start from ")
  assert taken == (
      "Warm start from %s (checkpoint): 20 variables taken; left out by "
      "--warm_start_exclude: dense/bias, dense/kernel; the global step and "
      "the optimizer start afresh." % source["checkpoint"])
  start = str(tmp_path / "m" / "model.ckpt-0")
  kernel = tf.train.load_variable(start, "dense/kernel")
  assert kernel.shape == (32, 19)
  source_kernel = tf.train.load_variable(source["checkpoint"], "dense/kernel")
  assert not np.isin(kernel, source_kernel).any()
  np.testing.assert_array_equal(
      tf.train.load_variable(start, "cnn_2/kernel"),
      tf.train.load_variable(source["checkpoint"], "cnn_2/kernel"))


@pytest.mark.slow
def test_trainable_scopes_leave_frozen_variables_and_statistics_alone(
    source, tmp_path):
  _fine_tune(source, tmp_path / "m", "--warm_start_from=" + source["model_dir"],
             "--trainable_scopes=dense/,batch_normalization_2/")
  end = tf.train.latest_checkpoint(str(tmp_path / "m"))
  assert end.endswith("model.ckpt-4")
  start = str(tmp_path / "m" / "model.ckpt-0")
  trained = [name for name in _model_variables(end)
             if name.startswith(("dense/", "batch_normalization_2/"))]
  assert sorted(trained) == [
      "batch_normalization_2/beta", "batch_normalization_2/gamma",
      "batch_normalization_2/moving_mean",
      "batch_normalization_2/moving_variance", "dense/bias", "dense/kernel"]
  for name in _model_variables(end):
    before = tf.train.load_variable(start, name)
    after = tf.train.load_variable(end, name)
    if name in trained:
      assert not np.array_equal(before, after), name
    else:  # batch_normalization/moving_mean etc. included
      np.testing.assert_array_equal(before, after, err_msg=name)
      np.testing.assert_array_equal(
          after, tf.train.load_variable(source["checkpoint"], name), name)


@pytest.mark.slow
def test_warm_start_from_an_export_then_a_rerun_resumes(source, tmp_path,
                                                        caplog):
  model_dir = tmp_path / "m"
  args = TINY + ["--train_data_dir=" + source["corpus"],
                 "--eval_data_dir=" + source["corpus"],
                 "--model_dir=" + str(model_dir), "--keep_checkpoint_max=100",
                 "--warm_start_from=" + source["export_dir"]]
  run_in_process(args + ["--train_epochs=1"])
  (export_path,) = os.listdir(source["export_dir"])
  variables = os.path.join(source["export_dir"], export_path, "variables",
                           "variables")
  start = str(model_dir / "model.ckpt-0")
  # The same vocabulary: every variable is taken, the output layer too.
  for name in _model_variables(variables):
    np.testing.assert_array_equal(tf.train.load_variable(start, name),
                                  tf.train.load_variable(variables, name),
                                  err_msg=name)

  flags_obj = parse(args + ["--train_epochs=2"])
  caplog.set_level("INFO", logger="absl")
  cycles = deep_speech.run_deep_speech(flags_obj)
  assert [c["global_step"] for c in cycles] == [4, 8]
  assert _messages(caplog, "--warm_start_from not applied") == [
      "--warm_start_from not applied: %s has its own checkpoint (%s); "
      "resuming from it." % (model_dir, model_dir / "model.ckpt-4")]
  assert not _messages(caplog, "Warm start")


@pytest.mark.slow
def test_another_model_shape_is_one_error_naming_the_variable(source,
                                                             tmp_path):
  message = _refused(source, tmp_path / "m", "--rnn_hidden_size=8",
                     "--warm_start_from=" + source["model_dir"])
  assert message.startswith(
      "--warm_start_from: %s does not fit this model: "
      "bidirectional_rnn_1/forward_rnn_1/gru_cell/kernel is [2592, 48] there "
      "but [2592, 24] with these settings. Use the model flags"
      % os.path.join(source["model_dir"], "best", "model.ckpt-80"))


@pytest.mark.slow
def test_other_featurizer_settings_than_the_source_are_an_error(source,
                                                               tmp_path):
  message = _refused(source, tmp_path / "m", "--stride_ms=20",
                     "--warm_start_from=" + source["export_dir"])
  (export_path,) = os.listdir(source["export_dir"])
  assert message == (
      "--warm_start_from: the source was trained on features with "
      "--stride_ms=10 (%s); this run has --stride_ms=20. Its weights fit "
      "only those features: pass the same flags" % os.path.join(
          source["export_dir"], export_path, "assets.extra",
          "deep_speech_features.json"))


@pytest.mark.slow
def test_cli_bad_warm_start_path_is_one_line(tmp_path):
  corpus = conftest.make_corpus(tmp_path / "data", num_utts=4)
  missing = str(tmp_path / "no such model")
  proc = subprocess.run(
      [sys.executable, "deep_speech.py", "--train_data_dir=" + corpus,
       "--eval_data_dir=" + corpus, "--model_dir=" + str(tmp_path / "m"),
       "--warm_start_from=" + missing] + TINY,
      cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 1, proc.stderr[-3000:]
  assert "Traceback" not in proc.stderr
  (line,) = [l for l in proc.stderr.splitlines() if "warm_start" in l]
  assert line.endswith("] --warm_start_from: %s does not exist" % missing)
  assert tf.train.latest_checkpoint(str(tmp_path / "m")) is None


def test_find_source_names_what_is_wrong(tmp_path):
  (tmp_path / "empty").mkdir()
  (tmp_path / "notes.txt").write_text("not a checkpoint")
  cases = {str(tmp_path / "missing"): "does not exist",
           str(tmp_path / "empty"): "holds no checkpoint, no best/ "
                                    "checkpoint and no SavedModel",
           str(tmp_path / "notes.txt"): "is not a checkpoint prefix, a model "
                                        "directory or an export"}
  for path, problem in cases.items():
    with pytest.raises(fine_tune.SourceError) as error:
      fine_tune.find_source(path)
    assert str(error.value) == "%s %s" % (path, problem)


def test_trainable_scopes_select_variables_and_statistics_updates():
  with tf.Graph().as_default():
    features = {
        "features": tf.compat.v1.placeholder(tf.float32, [None, None, 161, 1]),
        "input_length": tf.compat.v1.placeholder(tf.int32, [None, 1]),
        "label_length": tf.compat.v1.placeholder(tf.int32, [None, 1])}
    labels = tf.compat.v1.placeholder(tf.int32, [None, None])
    deep_speech.model_fn(features, labels, tf.estimator.ModeKeys.TRAIN,
                         dict(PARAMS, trainable_scopes=["dense/"]))
    slots = sorted(v.op.name for v in tf.compat.v1.global_variables()
                   if "/Adam" in v.op.name)
    assert slots == ["dense/bias/Adam", "dense/bias/Adam_1",
                     "dense/kernel/Adam", "dense/kernel/Adam_1"]
    assert fine_tune.update_ops_to_run(["dense/"]) == []
    updated = [fine_tune.written_variable(op) for op in
               fine_tune.update_ops_to_run(["batch_normalization/"])]
    assert updated == ["batch_normalization/moving_mean",
                       "batch_normalization/moving_variance"]
    assert len(fine_tune.update_ops_to_run(None)) == 6


@pytest.mark.slow
def test_a_checkpoint_without_settings_drops_an_output_layer_that_differs(
    source, tmp_path):
  # Copied alone: no settings file beside it records the source's labels.
  for path in checkpoints.checkpoint_files(source["checkpoint"]):
    shutil.copy(path, str(tmp_path))
  found = fine_tune.find_source(
      str(tmp_path / os.path.basename(source["checkpoint"])))
  assert found.kind == "checkpoint" and fine_tune.read_settings(found) is None
  model = deep_speech_model.from_params(
      dict(PARAMS, num_classes=len(NEW_LABELS)))
  warm_plan = fine_tune.plan(found.checkpoint, model, 161, None, NEW_LABELS)
  assert warm_plan.remapped == [] and warm_plan.excluded == []
  assert warm_plan.dropped == [("dense/kernel", [32, 29], [32, 19]),
                               ("dense/bias", [29], [19])]
  assert len(warm_plan.variables) == 20
  assert not any(name.startswith("dense/") for name in warm_plan.variables)

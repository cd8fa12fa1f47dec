"""Tests for training/evaluation.py: the seed's log line and the record."""

from absl import logging

from training import evaluation


def test_the_seeds_iteration_line_and_samples(monkeypatch):
  lines = []
  monkeypatch.setattr(logging, "info",
                      lambda fmt, *args: lines.append(fmt % args if args
                                                      else fmt))
  results = {"WER": 0.5, "CER": 0.25, "corpus_WER": 0.4, "corpus_CER": 0.2,
             "targets": ["a cat", "a dog"], "decoded": ["a cat", "a dg"]}
  evaluation.log_evaluation(3, results, 1.5, show_samples=1)
  assert lines[0] == "Iteration 3: WER = 0.5000, CER = 0.2500"
  assert lines[1] == ("Iteration 3: corpus WER = 0.4000, corpus CER = "
                      "0.2000, mean train loss = 1.5000")
  assert lines[2:] == ["  reference : a cat\n  prediction: a cat"]


# --- The CLI's decoders, --eval_only and the report, on real checkpoints. ---

import itertools  # pylint: disable=g-import-not-at-top,wrong-import-position
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from rapidfuzz.distance import Levenshtein
import tensorflow as tf

from data import dataset as dataset_lib
from data import featurizer
from decoding import lm
from data import vocabulary
import deep_speech
from tests import conftest
from tests.helpers import train as train_helpers
from training import checkpoints
from training import inputs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FLAGS = train_helpers.FLAGS
parse = train_helpers.parse
TINY = train_helpers.TINY + ["--conv_filters=4"]
# The LM's sentences: every pair of the corpus's words, so the LM knows
# them all (tests/conftest.py WORDS), without the evaluation transcripts.
SENTENCES = [" ".join(p) for p in itertools.permutations(conftest.WORDS, 2)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  """A manifest, an ARPA 2-gram, and a model_dir trained one cycle."""
  folder = tmp_path_factory.mktemp("trained")
  manifest = conftest.make_corpus(folder / "data", num_utts=8)
  arpa = str(folder / "words.arpa")
  lm.build_arpa(SENTENCES, 2, arpa)
  model_dir = str(folder / "model")
  deep_speech.run_deep_speech(parse(TINY + [
      "--train_data_dir=" + manifest, "--eval_data_dir=" + manifest,
      "--model_dir=" + model_dir, "--train_epochs=1"]))
  return manifest, arpa, model_dir


def _copy(model_dir, tmp_path):
  copy = str(tmp_path / "model")
  shutil.copytree(model_dir, copy)
  return copy


def _beam(arpa):
  return ["--decoder=beam", "--beam_width=16", "--lm_path=" + arpa,
          "--lm_alpha=0.5", "--lm_beta=2.0"]


def _check_report_section(section):
  """S+D+I is each edit distance; the corpus rate is compute_error_rates'."""
  for unit in ("words", "chars"):
    counts = section[unit]
    assert counts["errors"] == (counts["substitutions"] +
                                counts["deletions"] + counts["insertions"])
  assert section["words"]["rate"] == pytest.approx(section["corpus_WER"])
  assert section["chars"]["rate"] == pytest.approx(section["corpus_CER"])
  for name in ("best", "median", "worst"):
    utt = section[name]
    words = utt["words"]
    assert (words["substitutions"] + words["deletions"] +
            words["insertions"]) == Levenshtein.distance(
                utt["prediction"].split(), utt["reference"].split())
    chars = utt["chars"]
    assert (chars["substitutions"] + chars["deletions"] +
            chars["insertions"]) == Levenshtein.distance(
                utt["prediction"], utt["reference"])
  assert (section["best"]["WER"] <= section["median"]["WER"] <=
          section["worst"]["WER"])


def test_eval_only_reports_without_training_while_a_run_holds_the_lock(
    trained, tmp_path):
  manifest, arpa, trained_dir = trained
  model_dir = _copy(trained_dir, tmp_path)
  before = sorted(os.listdir(model_dir))
  with open(os.path.join(model_dir, "train_state.json")) as f:
    state = f.read()
  step = checkpoints.global_step_of(tf.train.latest_checkpoint(model_dir))
  # Another process holds the training lock for the whole evaluation.
  holder = subprocess.Popen(
      [sys.executable, "-c", "import sys, time; from training import lock; "
       "lock.RunLock(sys.argv[1]).acquire(); print('locked', flush=True); "
       "time.sleep(120)", model_dir],
      cwd=ROOT, stdout=subprocess.PIPE, text=True)
  try:
    assert holder.stdout.readline().strip() == "locked"
    parse(TINY + ["--eval_data_dir=" + manifest, "--model_dir=" + model_dir,
                  "--eval_only"] + _beam(arpa))
    deep_speech.main([])  # exits 1 if it tried the lock
  finally:
    holder.kill()
    holder.wait()
  # No step was taken and nothing but the report was written.
  assert checkpoints.global_step_of(
      tf.train.latest_checkpoint(model_dir)) == step
  # (.lock is the holder's; eval/ has the training cycle's report.)
  assert sorted(set(os.listdir(model_dir)) - {".lock"}) == before
  with open(os.path.join(model_dir, "train_state.json")) as f:
    assert f.read() == state
  with open(os.path.join(model_dir, "eval", "latest.json")) as f:
    report = json.load(f)
  name = "report-step-%d-%s.json" % (step, "train")
  assert os.path.exists(os.path.join(model_dir, "eval", name))
  assert report["global_step"] == step and report["utterances"] == 8
  assert report["checkpoint"] == tf.train.latest_checkpoint(model_dir)
  assert list(report["decoders"]) == ["greedy", "beam"]
  assert report["decoders"]["beam"]["decoder"] == "beam+LM"
  assert report["decoders"]["beam"]["settings"]["alpha"] == 0.5
  for section in report["decoders"].values():
    _check_report_section(section)


def test_eval_only_passes_over_a_damaged_newest_checkpoint(trained,
                                                           tmp_path):
  manifest, _, trained_dir = trained
  model_dir = _copy(trained_dir, tmp_path)
  latest = tf.train.latest_checkpoint(model_dir)
  # A newer checkpoint whose data is missing: named, passed over, kept.
  newer = latest.rsplit("-", 1)[0] + "-99"
  shutil.copy(latest + ".index", newer + ".index")
  parse(TINY + ["--eval_data_dir=" + manifest, "--model_dir=" + model_dir,
                "--eval_only"])
  results, path = deep_speech.run_eval_only(FLAGS)
  assert os.path.exists(newer + ".index")  # not rolled back
  assert not os.path.exists(os.path.join(model_dir, "damaged"))
  with open(path) as f:
    assert json.load(f)["checkpoint"] == latest
  assert set(results["decoders"]) == {"greedy"}
  # --checkpoint_path names a damaged one: a clear error in flag terms.
  parse(TINY + ["--eval_data_dir=" + manifest, "--model_dir=" + model_dir,
                "--eval_only", "--checkpoint_path=" + newer])
  with pytest.raises(ValueError, match="--eval_only: checkpoint .*-99 is "
                     "not usable"):
    deep_speech.run_eval_only(FLAGS)


def _run(flags_obj, caplog):
  # After parsing: parsing sets absl's level from --verbosity.
  caplog.set_level("INFO", logger="absl")
  return deep_speech.run_deep_speech(flags_obj)


def _stopped(caplog):
  return [r.getMessage() for r in caplog.records
          if "reached --wer_threshold" in r.getMessage()]


@pytest.mark.slow
def test_beam_cycle_logs_records_and_its_wer_decides(trained, tmp_path,
                                                     caplog):
  manifest, arpa, _ = trained
  model_dir = str(tmp_path / "model")
  common = TINY + ["--train_data_dir=" + manifest,
                   "--eval_data_dir=" + manifest, "--model_dir=" + model_dir,
                   "--train_epochs=1"]
  (record,) = _run(parse(common + _beam(arpa)), caplog)
  lines = [r.getMessage() for r in caplog.records]
  assert "Iteration 1: WER = %.4f, CER = %.4f" % (
      record["WER"], record["CER"]) in lines
  beam = record["beam"]
  assert beam["decoder"] == "beam+LM"
  assert "Iteration 1 (beam+LM): WER = %.4f, CER = %.4f" % (
      beam["WER"], beam["CER"]) in lines
  with open(os.path.join(model_dir, "train_state.json")) as f:
    assert json.load(f)["cycles"] == [record]
  # The best checkpoint follows the configured (beam) decoder's WER.
  with open(os.path.join(model_dir, "best", "best.json")) as f:
    best = json.load(f)
  assert (best["WER"], best["decoder"]) == (beam["WER"], "beam+LM")
  with open(os.path.join(model_dir, "eval", "report-step-%d.json"
                         % record["global_step"])) as f:
    assert set(json.load(f)["decoders"]) == {"greedy", "beam"}
  # A threshold between the two figures: only the configured decoder's
  # figure decides (the finished cycle is re-tested, nothing is trained).
  assert record["WER"] != beam["WER"], "the two decoders agree: no test"
  threshold = (record["WER"] + beam["WER"]) / 2
  for decoding, wer in ((_beam(arpa), beam["WER"]),
                        (["--decoder=greedy"], record["WER"])):
    caplog.clear()
    _run(parse(common + decoding + ["--wer_threshold=%r" % threshold]),
         caplog)
    assert bool(_stopped(caplog)) == (wer <= threshold), decoding


# --- evaluate_model on a trained model_dir. ---


@pytest.mark.slow
def test_predictions_decode_to_text(tmp_path, corpus):
  # The model of train_helpers.TINY (default --conv_filters), so that
  # train_helpers.PARAMS rebuild it.
  train_helpers.run_in_process(train_helpers.TINY + [
      "--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
      "--model_dir=" + str(tmp_path / "m"), "--train_epochs=1"])
  speech = inputs.generate_dataset(
      corpus, featurizer.AudioFeaturizer(), vocabulary.VOCABULARY_FILE, True)
  estimator = tf.estimator.Estimator(deep_speech.model_fn,
                                     model_dir=str(tmp_path / "m"),
                                     params=train_helpers.PARAMS)
  results = evaluation.evaluate_model(
      estimator, speech.speech_labels, speech.entries,
      lambda: dataset_lib.input_fn(4, speech))
  assert len(results["decoded"]) == len(speech.entries)
  assert all(isinstance(s, str) for s in results["decoded"])
  assert set("".join(results["decoded"])) <= set(speech.speech_labels[:-1])
  assert 0.0 <= results["CER"] and np.isfinite(results["WER"])
  # Estimator.evaluate works too: EVAL mode returns the loss.
  metrics = estimator.evaluate(lambda: dataset_lib.input_fn(
      4, speech))
  assert np.isfinite(metrics["loss"]) and metrics["global_step"] == 4


def test_eval_only_decodes_an_extra_set_with_both_decoders(trained, tmp_path,
                                                           caplog):
  manifest, arpa, trained_dir = trained
  model_dir = _copy(trained_dir, tmp_path)
  extra = conftest.make_corpus(tmp_path / "real", num_utts=3, seed=5,
                               name="real-dev")
  step = checkpoints.global_step_of(tf.train.latest_checkpoint(model_dir))
  flags_obj = parse(TINY + ["--eval_data_dir=" + manifest,
                            "--model_dir=" + model_dir, "--eval_only",
                            "--extra_eval_data_dir=" + extra] + _beam(arpa))
  caplog.set_level("INFO", logger="absl")
  results, path = deep_speech.run_eval_only(flags_obj)
  figures = results["extra_eval"]["real-dev"]
  beam = figures["decoders"]["beam"]
  lines = [r.getMessage() for r in caplog.records]
  assert "Step %d [real-dev]: WER = %.4f, CER = %.4f" % (
      step, figures["WER"], figures["CER"]) in lines
  assert "Step %d [real-dev] (beam+LM): WER = %.4f, CER = %.4f" % (
      step, beam["WER"], beam["CER"]) in lines
  # The dev set's line is the one without a set name, as before.
  assert "Step %d: WER = %.4f, CER = %.4f" % (
      step, results["WER"], results["CER"]) in lines
  with open(path) as f:
    report = json.load(f)
  section = report["extra_eval"]["real-dev"]
  assert (section["eval_data"], section["utterances"]) == (extra, 3)
  assert list(section["decoders"]) == ["greedy", "beam"]
  assert section["decoders"]["beam"]["settings"]["lm_path"] == arpa
  for decoder_section in section["decoders"].values():
    _check_report_section(decoder_section)
  assert report["utterances"] == 8 and list(report["decoders"]) == [
      "greedy", "beam"]

"""Tests for training/inputs.py: the two sets and their skipped rows."""

import os
import shutil

import pytest

from data import featurizer
from data import text_normalization
from data import vocabulary
from tests import conftest
from training import inputs

DATA_ARGS = dict(features=featurizer.AudioFeaturizer(),
                 vocabulary_file=vocabulary.VOCABULARY_FILE, sortagrad=True)


def test_one_manifest_for_both_is_read_once(corpus):
  train, dev = inputs.load_datasets(corpus, corpus, **DATA_ARGS)
  assert train is dev and len(train.entries) == 16


def test_two_manifests_with_one_name_get_two_skip_lists(tmp_path):
  train = conftest.make_corpus(tmp_path / "a", num_utts=3, name="set")
  dev = conftest.make_corpus(tmp_path / "b", num_utts=3, name="set")
  # One bad row in each: a missing audio file.
  for manifest in (train, dev):
    with open(manifest, "a") as f:
      f.write("%s\t100\thello\n" % os.path.join(str(tmp_path), "gone.wav"))
  train_set, dev_set = inputs.load_datasets(train, dev, **DATA_ARGS)
  assert train_set is not dev_set
  assert len(train_set.entries) == 3 and len(train_set.skipped) == 1
  model_dir = str(tmp_path / "model")
  inputs.report_skipped_rows(train_set, dev_set, model_dir)
  assert sorted(os.listdir(model_dir)) == ["skipped_set.tsv",
                                           "skipped_set_eval.tsv"]
  shutil.rmtree(model_dir)


@pytest.mark.parametrize("spec,expected", [
    ("uqm-dev=/data/uqm/dev.csv", ("uqm-dev", "/data/uqm/dev.csv")),
    ("/data/uqm/dev-clean.csv", ("dev-clean", "/data/uqm/dev-clean.csv")),
    ("dev.v2.csv", ("dev.v2", "dev.v2.csv")),
    # A "=" after a separator is part of a bare path.
    ("/data/a=b/dev.csv", ("dev", "/data/a=b/dev.csv")),
    ("real=rel/a=b.csv", ("real", "rel/a=b.csv")),
])
def test_an_extra_set_is_named_or_takes_its_files_stem(spec, expected):
  assert inputs.parse_eval_set(spec) == expected


@pytest.mark.parametrize("spec,problem", [
    ("uqm=", "no manifest path in 'uqm='"),
    ("dev set=/d/x.csv", "'dev set' is not a plain set name"),
    ("/d/dev set.csv", "'dev set' is not a plain set name"),
    ("/d/.csv", "'.csv' is not a plain set name"),
    ("beam=/d/x.csv", "the set name 'beam' is taken (beam, greedy)"),
])
def test_a_bad_extra_set_spec_says_why(spec, problem):
  with pytest.raises(ValueError) as info:
    inputs.parse_eval_set(spec, reserved=("greedy", "beam"))
  assert str(info.value).startswith(problem)


def test_extra_sets_are_read_once_and_named_uniquely(tmp_path):
  train = conftest.make_corpus(tmp_path / "a", num_utts=3, name="train")
  dev = conftest.make_corpus(tmp_path / "b", num_utts=2, name="dev")
  train_set = inputs.generate_dataset(train, **DATA_ARGS)
  sets = inputs.load_extra_sets(["again=" + train, dev], [train_set],
                                **DATA_ARGS)
  assert [name for name, _ in sets] == ["again", "dev"]
  assert sets[0][1] is train_set and len(sets[1][1].entries) == 2
  with pytest.raises(ValueError) as info:
    inputs.load_extra_sets([dev, "dev=" + train], **DATA_ARGS)
  assert str(info.value) == ("dev=%s: a second set named 'dev'; give each "
                             "its own name as NAME=path" % train)
  missing = str(tmp_path / "gone.csv")
  with pytest.raises(ValueError) as info:
    inputs.load_extra_sets([missing], **DATA_ARGS)
  assert str(info.value) == "%s: manifest not found: %s" % (missing, missing)


def test_extra_sets_bad_rows_are_listed_under_their_manifests_name(
    tmp_path):
  train = conftest.make_corpus(tmp_path / "a", num_utts=3, name="set")
  extra = conftest.make_corpus(tmp_path / "b", num_utts=3, name="set")
  with open(extra, "a") as f:
    f.write("%s\t100\thello\n" % os.path.join(str(tmp_path), "gone.wav"))
  train_set = inputs.generate_dataset(train, **DATA_ARGS)
  sets = inputs.load_extra_sets(["real=" + extra, "same=" + train],
                                [train_set], **DATA_ARGS)
  model_dir = str(tmp_path / "model")
  inputs.report_skipped_rows(train_set, train_set, model_dir, sets)
  # One base name, two manifests: the extra set's list takes its name.
  assert os.listdir(model_dir) == ["skipped_set_real.tsv"]
  with open(os.path.join(model_dir, "skipped_set_real.tsv")) as f:
    assert "gone.wav" in f.read()


def test_a_vocabulary_made_under_another_policy_is_warned_about(
    corpus, tmp_path, caplog):
  vocab = tmp_path / "v.txt"
  tokens = vocabulary.read_tokens(vocabulary.VOCABULARY_FILE)
  # Capitals the lower-casing default never leaves in a transcript.
  vocab.write_text("".join(t + "\n" for t in tokens[:-1] + ["C", "Ä"] +
                           tokens[-1:]), encoding="utf-8")
  caplog.set_level("WARNING", logger="absl")
  speech = inputs.generate_dataset(corpus, **dict(
      DATA_ARGS, vocabulary_file=str(vocab)))
  assert len(speech.entries) == 16
  (record,) = [r for r in caplog.records if "text policy" in r.getMessage()]
  assert record.getMessage().startswith(
      "%s holds 'C', 'Ä', which no transcript can hold after the text policy "
      "(unicode_form=NFC, strip_accents=false, lowercase=true)" % vocab)
  caplog.clear()
  inputs.generate_dataset(corpus, **dict(
      DATA_ARGS, vocabulary_file=str(vocab),
      text_policy=text_normalization.TextPolicy(lowercase=False)))
  assert not [r for r in caplog.records if "text policy" in r.getMessage()]

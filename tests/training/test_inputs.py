"""Tests for training/inputs.py: the two sets and their skipped rows."""

import os
import shutil

from data import text_normalization
from data import vocabulary
from tests import conftest
from training import inputs

DATA_ARGS = dict(sample_rate=16000, window_ms=20, stride_ms=10,
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

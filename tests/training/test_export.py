"""Tests for training/export.py: the export contract, written and read."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

import deep_speech
from training import export

PARAMS = dict(num_classes=29, rnn_hidden_layers=1, rnn_type="gru",
              is_bidirectional=True, rnn_hidden_size=8, use_bias=True,
              learning_rate=1e-3, conv_filters=4)
SETTINGS = {"sample_rate": 8000, "window_ms": 10, "stride_ms": 10,
            "speech_labels": " abcdefghijklmnopqrstuvwxyz'-"}


def _train_one_step(model_dir, bins):
  def input_fn():
    features = {"features": tf.random.normal([2, 40, bins, 1], seed=1),
                "input_length": tf.constant([[40], [30]]),
                "label_length": tf.constant([[2], [3]])}
    labels = tf.constant([[1, 2, 0], [3, 4, 5]])
    return tf.data.Dataset.from_tensors((features, labels)).repeat()
  estimator = tf.estimator.Estimator(deep_speech.model_fn,
                                     model_dir=model_dir, params=PARAMS)
  estimator.train(input_fn, max_steps=1)
  return estimator


def test_export_carries_its_settings_and_serves(tmp_path):
  model_dir, export_dir = str(tmp_path / "model"), str(tmp_path / "export")
  estimator = _train_one_step(model_dir, 81)
  path = export.export_model(deep_speech.model_fn, model_dir,
                             estimator.config, PARAMS, export_dir, SETTINGS,
                             81)
  assert os.path.dirname(path) == export_dir
  assert export.find_saved_model(export_dir) == path
  assert export.find_saved_model(path) == path
  assert export.read_export_settings(path) == SETTINGS
  serve = tf.saved_model.load(path).signatures["serving_default"]
  out = serve(features=tf.zeros([1, 40, 81, 1]),
              input_length=tf.constant([[40]]))
  assert out["probabilities"].shape == (1, 10, 29)
  np.testing.assert_array_equal(out["ctc_input_length"].numpy(), [10])
  # The settings file beside the checkpoints was written whole.
  with open(os.path.join(model_dir, export.EXPORT_SETTINGS_FILE)) as f:
    assert json.load(f) == SETTINGS


def test_an_export_without_settings_reads_as_none(tmp_path):
  (tmp_path / "saved_model.pb").write_bytes(b"")
  assert export.read_export_settings(str(tmp_path)) is None


def test_a_directory_without_an_export_is_a_clear_error(tmp_path):
  (tmp_path / "123").mkdir()
  with pytest.raises(ValueError, match="no SavedModel in"):
    export.find_saved_model(str(tmp_path))


def test_export_packages_its_lm_and_lexicon(tmp_path):
  from decoding import lm  # pylint: disable=g-import-not-at-top
  import decoder  # pylint: disable=g-import-not-at-top
  model_dir, export_dir = str(tmp_path / "model"), str(tmp_path / "export")
  estimator = _train_one_step(model_dir, 81)
  arpa, words = str(tmp_path / "my.arpa"), str(tmp_path / "words.txt")
  lm.build_arpa(["the cat sat", "the dog ran"], 2, arpa)
  with open(words, "w") as f:
    f.write("the\ncat\nsat\ndog\nran\n")
  args = {"kind": "beam", "beam_width": 8, "lm_path": arpa, "alpha": 0.5,
          "beta": 1.0, "lexicon": words}
  path = export.export_run(deep_speech.model_fn, model_dir, estimator.config,
                           PARAMS, export_dir, SETTINGS, 81,
                           export_best=False, decoder_arguments=args)
  extra = os.path.join(path, "assets.extra")
  with open(os.path.join(extra, export.EXPORT_SETTINGS_FILE)) as f:
    raw = json.load(f)
  # Names relative to assets.extra/: the export is self-contained.
  assert raw == dict(SETTINGS, decoder="beam", beam_width=8, alpha=0.5,
                     beta=1.0, lm_path="lm-my.arpa",
                     lexicon="lexicon-words.txt")
  settings = export.read_export_settings(path)
  assert settings["lm_path"] == os.path.join(extra, "lm-my.arpa")
  with open(settings["lm_path"], "rb") as a, open(arpa, "rb") as b:
    assert a.read() == b.read()
  os.remove(arpa)  # the export no longer needs the original
  assert export.decoder_args(settings) == dict(
      args, lm_path=settings["lm_path"], lexicon=settings["lexicon"])
  beam = decoder.make_decoder(**dict(export.decoder_args(settings),
                                     labels=SETTINGS["speech_labels"]))
  assert beam.lm_path == settings["lm_path"]


def test_older_exports_decode_greedily():
  assert export.decoder_args(dict(SETTINGS)) == {
      "kind": "greedy", "beam_width": 100, "lm_path": None, "alpha": 0.0,
      "beta": 0.0, "lexicon": None}

"""A tiny DeepSpeech2 model for transcription tests: a training directory
with a checkpoint and an export of it, built with deep_speech.model_fn.

The weights come from a few training steps on speech-like utterances; the
tests that use it compare transcriptions of the same audio in different
files, so what the model says matters less than that it says it the same.
"""

import functools
import json
import os
import shutil

import numpy as np
import soundfile
import soxr
import tensorflow as tf

from data import featurizer
from data import vocabulary
import deep_speech
import deep_speech_model
from tests import conftest
from training import export

PARAMS = {"num_classes": 29, "rnn_hidden_layers": 1, "rnn_type": "gru",
          "is_bidirectional": True, "rnn_hidden_size": 32, "conv_filters": 8,
          "use_bias": True, "learning_rate": 1e-2, "dtype": "float32"}
SETTINGS = {"sample_rate": 16000, "window_ms": 20, "stride_ms": 10}


def _input_fn(features, lengths, labels, label_lengths):
  data = tf.data.Dataset.from_tensors(
      ({"features": features, "input_length": lengths,
        "label_length": label_lengths}, labels))
  return data.repeat()


def _mp3_round_trip(samples, directory):
  """`samples` after MP3 coding at 44.1 kHz and back to 16 kHz."""
  path = os.path.join(directory, "round_trip.mp3")
  soundfile.write(path, soxr.resample(samples, 16000, 44100), 44100)
  coded, _ = soundfile.read(path)
  return soxr.resample(coded, 44100, 16000)


def build(directory, steps=20, num_utts=8, params=None,
          normalization="utterance", utterances=None, batch_norm_decay=None):
  """Trains `steps` steps; returns (model_dir, export_dir).

  `params` replace PARAMS' values; `normalization` ("utterance" or
  "running", featurizer.NORMALIZATIONS) is how the features are normalized
  and what the settings record. `utterances`, (16 kHz WAV, transcript)
  pairs, replace the `num_utts` speech-like ones. `batch_norm_decay`
  replaces the model's while training: a few hundred steps leave the moving
  statistics that inference uses far from the data's at the default decay,
  which a model of real speech feels.
  """
  if batch_norm_decay is not None:
    default = deep_speech_model.BATCH_NORM_DECAY
    deep_speech_model.BATCH_NORM_DECAY = batch_norm_decay
    try:
      return build(directory, steps, num_utts, params, normalization,
                   utterances)
    finally:
      deep_speech_model.BATCH_NORM_DECAY = default
  params = dict(PARAMS, **(params or {}))
  labels = "".join(vocabulary.read_tokens(vocabulary.VOCABULARY_FILE))
  index = {c: i for i, c in enumerate(labels)}
  if utterances is None:
    manifest = conftest.make_corpus(os.path.join(directory, "corpus"),
                                    num_utts=num_utts)
    rows = [l.rstrip("\n").split("\t") for l in open(manifest)][1:]
  else:
    os.makedirs(directory, exist_ok=True)
    rows = [(path, None, text) for path, text in utterances]
  feats, texts = [], []
  for row in rows:
    samples, _ = soundfile.read(row[0])
    # Each utterance also as a 44.1 kHz round trip sounds (the top of its
    # band gone), so the model does not hinge on that band: copies
    # converted from other rates transcribe like the originals.
    for version in (samples, soxr.resample(
        soxr.resample(samples, 16000, 44100), 44100, 16000),
                    _mp3_round_trip(samples, directory)):
      feats.append(featurizer.featurize_samples(
          version, 16000, window_ms=20, stride_ms=10, normalize=normalization))
      texts.append([index[c] for c in row[2]])
  frames = max(f.shape[0] for f in feats)
  batch = np.zeros((len(feats), frames, 161, 1), np.float32)
  for i, f in enumerate(feats):
    batch[i, :f.shape[0]] = f
  label_array = np.zeros((len(texts), max(map(len, texts))), np.int32)
  for i, t in enumerate(texts):
    label_array[i, :len(t)] = t
  model_dir = os.path.join(directory, "model")
  # As deep_speech.py does: Keras initializers draw their seeds from Python's
  # generator, so tf_random_seed alone left the initial weights random and
  # each build a different model (one whose MP3 twin came out two letters
  # off now and then). Seeded, the same machine builds the same weights.
  tf.keras.utils.set_random_seed(1)
  estimator = tf.estimator.Estimator(
      deep_speech.model_fn, model_dir=model_dir, params=params,
      config=tf.estimator.RunConfig(tf_random_seed=1))
  input_fn = functools.partial(
      _input_fn, batch,
      np.array([[f.shape[0]] for f in feats], np.int32), label_array,
      np.array([[len(t)] for t in texts], np.int32))
  estimator.train(input_fn, steps=steps)
  settings_path = os.path.join(directory, export.EXPORT_SETTINGS_FILE)
  with open(settings_path, "w") as f:
    recorded = dict(SETTINGS, speech_labels=labels)
    if normalization != "utterance":
      recorded["feature_normalization"] = normalization
    json.dump(recorded, f)
  export_dir = os.path.join(directory, "export")
  estimator.export_saved_model(
      export_dir, functools.partial(export.serving_input_receiver_fn,
                                    161),
      assets_extra={export.EXPORT_SETTINGS_FILE: settings_path})
  return model_dir, export_dir


def build_streaming(directory, steps=30, utterances=None, params=None,
                    batch_norm_decay=None):
  """A unidirectional model with a lookahead of 2, trained on running-
  normalized features (as it records), its settings also in the model_dir
  (as a training run writes them); returns (model_dir, export_dir).

  `utterances`, `params`, `batch_norm_decay`: as for `build` (default:
  four speech-like utterances, PARAMS, the model's decay)."""
  model_dir, export_dir = build(
      directory, steps=steps, num_utts=4,
      params=dict({"is_bidirectional": False, "lookahead_context": 2},
                  **(params or {})),
      normalization="running", utterances=utterances,
      batch_norm_decay=batch_norm_decay)
  shutil.copy(os.path.join(directory, export.EXPORT_SETTINGS_FILE),
              model_dir)
  return model_dir, export_dir

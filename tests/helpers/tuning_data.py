"""Hand-made acoustic outputs and a real n-gram for the LM tuning tests.

The n-gram is built by the project's own builder (decoding/lm.py); the
outputs are greedy paths with one wrong letter per word that the LM can
repair. `arpa` and `outputs` are module-scoped fixtures: import them into a
test module to use them.
"""

import os

import numpy as np
import pytest

from decoding import lm
from decoding import tuning
from tests import conftest


LABELS = " abcdefghijklmnopqrstuvwxyz'-"


BLANK = 28


LM_SENTENCES = ["the cat sat on the mat", "the cat ate the fish",
                "a cat sat on a log", "the dog sat on the mat",
                "the cat and the dog", "a dog ate a fish"]


# Tuning utterances: sentences the LM knows, each spoken with one letter
# whose frame is won by a wrong letter (the right one close behind) that
# turns the word into another word of the LM ("sat" -> "mat"): the lexicon
# alone cannot repair these, the LM's context can.
TUNING = [("the cat sat on the mat", {8: "m"}),
          ("the dog ate the fish", {4: "l"}),
          ("a cat sat on a log", {15: "d"}),
          ("the cat and the dog", {4: "m"})]


def spell(text, wrong):
  """[time, 29] softmax: one frame per letter, then a blank frame."""
  probs = np.full((2 * len(text), len(LABELS)), 1e-4, np.float32)
  for i, char in enumerate(text):
    if i in wrong:
      probs[2 * i, LABELS.index(wrong[i])] = 0.55
      probs[2 * i, LABELS.index(char)] = 0.45
    else:
      probs[2 * i, LABELS.index(char)] = 1.0
    probs[2 * i + 1, BLANK] = 1.0
  return probs / probs.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def arpa(tmp_path_factory):
  path = str(tmp_path_factory.mktemp("lm") / "3gram.arpa")
  lm.build_arpa(LM_SENTENCES, 3, path)
  return path


@pytest.fixture(scope="module")
def outputs():
  probabilities, lengths = tuning.pad(
      [spell(text, wrong) for text, wrong in TUNING], BLANK)
  return probabilities, lengths, [text for text, _ in TUNING]


def tuning_manifest(folder):
  """Real WAV files whose transcripts are the TUNING sentences."""
  rng = np.random.default_rng(0)
  rows = []
  for i, (text, _) in enumerate(TUNING):
    path = os.path.join(folder, "tune-%d.wav" % i)
    rows.append((path, conftest.write_wav(path, conftest.synthesize(text,
                                                                    rng)),
                 text))
  return conftest.write_manifest(os.path.join(folder, "tune.csv"), rows)


def tiny_export(folder):
  """Exports a freshly initialized tiny model the way deep_speech.py does."""
  # pylint: disable=g-import-not-at-top
  import tensorflow as tf
  import deep_speech
  from training import export
  params = dict(num_classes=29, rnn_hidden_layers=1, rnn_type="gru",
                is_bidirectional=True, rnn_hidden_size=16, use_bias=True,
                learning_rate=1e-3, conv_filters=8, dtype="float32")
  model_dir = os.path.join(folder, "model")
  with tf.Graph().as_default():
    features = {"features": tf.compat.v1.placeholder(tf.float32,
                                                     [None, None, 161, 1]),
                "input_length": tf.compat.v1.placeholder(tf.int32,
                                                         [None, 1])}
    tf.compat.v1.train.get_or_create_global_step()
    deep_speech.model_fn(features, None, tf.estimator.ModeKeys.PREDICT,
                         params)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      tf.compat.v1.train.Saver().save(
          session, os.path.join(model_dir, "model.ckpt"), global_step=0)
  settings = {"sample_rate": 16000, "window_ms": 20, "stride_ms": 10,
              "speech_labels": LABELS}
  return export.export_model(
      deep_speech.model_fn, model_dir, tf.estimator.RunConfig(), params,
      os.path.join(folder, "export"), settings, 161)

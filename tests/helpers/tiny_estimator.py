"""A tiny DeepSpeech2 Estimator on a fixed random batch, for checkpoint tests.

Real `deep_speech.model_fn` checkpoints (batch norm, GRU, Adam slots) in a
few seconds, without audio: every step sees the same two utterances.
"""

import numpy as np
import tensorflow as tf

import deep_speech

PARAMS = dict(num_classes=29, rnn_hidden_layers=1, rnn_type="gru",
              is_bidirectional=False, rnn_hidden_size=16, use_bias=True,
              learning_rate=1e-3, conv_filters=4)


def input_fn(scale=1.0):
  """A dataset repeating one batch of two utterances (features * scale)."""
  rng = np.random.default_rng(0)
  features = {
      "features": (scale * rng.standard_normal((2, 40, 161, 1))).astype(
          np.float32),
      "input_length": np.array([[40], [36]], np.int32),
      "label_length": np.array([[3], [3]], np.int32),
  }
  labels = np.array([[3, 1, 20], [4, 15, 7]], np.int32)
  return tf.data.Dataset.from_tensors((features, labels)).repeat()


def estimator(model_dir, params=None, keep_checkpoint_max=10):
  """An Estimator saving a checkpoint at every step."""
  return tf.estimator.Estimator(
      deep_speech.model_fn, model_dir, params=dict(params or PARAMS),
      config=tf.estimator.RunConfig(
          save_checkpoints_steps=1, keep_checkpoint_max=keep_checkpoint_max,
          log_step_count_steps=1000, tf_random_seed=1))


def train(model_dir, steps, **kwargs):
  """Trains `steps` more steps; returns the Estimator."""
  est = estimator(model_dir, **kwargs)
  est.train(input_fn, steps=steps)
  return est

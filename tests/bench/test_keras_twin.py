"""Tests for bench/keras_twin.py, bench/train_step.py's Keras twin of the
network.

It is a module of that benchmark, not a script (nothing to run and no JSON
line; tests/bench/test_train_step.py runs the benchmark), so it is checked
here for what the benchmark's comparison rests on: the twin has the
network's parameters and its train step trains. No timing is asserted.
"""

import numpy as np
import tensorflow as tf

from bench import keras_twin
import deep_speech_model

PARAMS = dict(num_classes=29, rnn_type="gru", is_bidirectional=True,
              use_bias=True, learning_rate=1e-2, rnn_hidden_layers=1,
              rnn_hidden_size=16, conv_filters=4)


def _trainable_parameters(params, num_bins):
  """DeepSpeech2's trainable parameters, counted in a scratch graph."""
  with tf.Graph().as_default():
    model = deep_speech_model.from_params(params)
    model(tf.compat.v1.placeholder(tf.float32, [None, None, num_bins, 1]),
          training=True)
    return int(sum(np.prod(v.shape.as_list())
                   for v in tf.compat.v1.trainable_variables()))


def test_the_twin_has_the_network_s_parameters_and_its_step_trains():
  rng = np.random.default_rng(0)
  batch = {"features": rng.standard_normal((2, 60, 81, 1)).astype("f4"),
           "input_length": np.array([[60], [48]], np.int32),
           "label_length": np.array([[6], [4]], np.int32)}
  labels = rng.integers(0, 28, size=(2, 6)).astype(np.int32)
  labels[1, 4:] = 0
  tf.keras.utils.set_random_seed(0)
  loop = keras_twin.KerasLoop(PARAMS, batch, labels)
  # Two stride-2 convolutions in time: 60 frames -> 15 output frames.
  assert loop.model(batch["features"]).shape == (2, 15, 29)
  losses = [float(loop.train_step(*loop.inputs)) for _ in range(8)]
  assert all(np.isfinite(losses)) and losses[-1] < losses[0]
  traces = loop.train_step.experimental_get_tracing_count()
  loop.step()
  assert len(loop.step_s) == 1 and loop.step_s[0] > 0
  # The timed steps of the fixed batch reuse the traced step.
  assert loop.train_step.experimental_get_tracing_count() == traces
  # Built after the Keras steps, as bench/train_step.py orders them: once
  # v1 graph layers exist, Keras will not trace a model it has not traced.
  assert loop.params == _trainable_parameters(PARAMS, 81)

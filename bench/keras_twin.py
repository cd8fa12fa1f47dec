"""The DeepSpeech2 network as a Keras custom loop, for bench/train_step.py.

The same structure as deep_speech_model.DeepSpeech2, written as a Keras user
would (stock layers, a tf.function train step with the same CTC kernel), so
the benchmark can time the Estimator's step against it.
"""

import time

import numpy as np
import tensorflow as tf

import deep_speech
import deep_speech_model

# The stock Keras layers, as a Keras user would write the model (in eager
# mode they pick cuDNN on a GPU by themselves).
KERAS_RNNS = {
    "gru": tf.keras.layers.GRU,
    "lstm": tf.keras.layers.LSTM,
    "rnn": tf.keras.layers.SimpleRNN,
}


def _batch_norm():
  return tf.keras.layers.BatchNormalization(
      momentum=deep_speech_model.BATCH_NORM_DECAY,
      epsilon=deep_speech_model.BATCH_NORM_EPSILON)


def build_keras_model(params, num_bins=161):
  """deep_speech_model.DeepSpeech2's structure as a tf.keras.Model.

  Returns:
    A model from float32 [batch, time, 161, 1] to logits
    [batch, ceil(time / 4), num_classes].
  """
  layers = tf.keras.layers
  inputs = tf.keras.Input([None, num_bins, 1])
  x = inputs
  for padding, kernel, strides in deep_speech_model.CONV_LAYERS:
    x = layers.ZeroPadding2D(((padding[0],) * 2, (padding[1],) * 2))(x)
    filters = params.get("conv_filters",
                         deep_speech_model.DEFAULT_CONV_FILTERS)
    x = layers.Conv2D(filters, kernel, strides, padding="valid",
                      use_bias=False, activation=tf.nn.relu6)(x)
    x = _batch_norm()(x)
  x = layers.Reshape([-1, x.shape[2] * x.shape[3]])(x)
  rnn_class = KERAS_RNNS[params["rnn_type"]]
  for layer in range(params["rnn_hidden_layers"]):
    if layer:
      x = _batch_norm()(x)
    rnn = rnn_class(params["rnn_hidden_size"], return_sequences=True)
    if params["is_bidirectional"]:
      rnn = layers.Bidirectional(rnn, merge_mode="concat")
    x = rnn(x)
  x = _batch_norm()(x)
  logits = layers.Dense(params["num_classes"], use_bias=params["use_bias"])(x)
  return tf.keras.Model(inputs, logits)


class KerasLoop(object):
  """The Keras model, its optimizer and a tf.function train step."""

  def __init__(self, params, batch, labels):
    start = time.perf_counter()
    self.model = build_keras_model(params, batch["features"].shape[2])
    self.optimizer = tf.keras.optimizers.Adam(
        learning_rate=params["learning_rate"])
    self.build_s = time.perf_counter() - start
    self.params = int(sum(np.prod(v.shape)
                          for v in self.model.trainable_variables))
    self.blank = params["num_classes"] - 1
    self.inputs = [tf.constant(batch["features"]),
                   tf.constant(batch["input_length"]),
                   tf.constant(batch["label_length"]), tf.constant(labels)]
    self.step_s = []

  @tf.function
  def train_step(self, features, input_length, label_length, labels):
    mask = tf.sequence_mask(tf.reshape(label_length, [-1]),
                            tf.shape(labels)[1])
    sparse_labels = tf.SparseTensor(
        tf.where(mask), tf.boolean_mask(labels, mask),
        tf.cast(tf.shape(labels), tf.int64))
    with tf.GradientTape() as tape:
      logits = self.model(features, training=True)
      logit_length = deep_speech.compute_length_after_conv(
          tf.shape(features)[1], tf.shape(logits)[1], input_length)
      # Sparse labels with the blank last: the same C++ kernel as model_fn.
      loss = tf.reduce_mean(tf.nn.ctc_loss(
          labels=sparse_labels, logits=logits, label_length=None,
          logit_length=tf.reshape(logit_length, [-1]),
          logits_time_major=False, blank_index=self.blank))
    variables = self.model.trainable_variables
    self.optimizer.apply_gradients(
        zip(tape.gradient(loss, variables), variables))
    return loss

  def step(self):
    """Runs and times one step."""
    start = time.perf_counter()
    self.train_step(*self.inputs).numpy()  # .numpy() waits for the step.
    self.step_s.append(time.perf_counter() - start)

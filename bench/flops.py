"""How far a training step is from the machine's limit: FLOPs and sgemm.

`step_flops` counts the useful floating-point operations of one DeepSpeech2
training step; `sgemm_gflops` times a float32 matrix product on the same
machine, so bench/train_step.py can print their ratio.
"""

import statistics
import time

import numpy as np
import tensorflow as tf

import deep_speech_model


def step_flops(params, batch_size, frames, num_bins):
  """Useful floating-point operations of one training step, counted.

  Counts the multiply-adds of the convolutions, the RNN's input and
  recurrent matrix products (3 gates for a GRU, 4 for an LSTM) and the
  dense layer over the padded batch, 2 FLOPs each. The backward pass
  costs twice the forward (gradients of inputs and of weights), except for
  the first convolution, whose input (the spectrogram) needs no gradient.
  Batch norm, activations, CTC and Adam are left out: they are a few
  percent, and no matrix unit speeds them up.

  Returns:
    FLOPs (a float) for forward + backward.
  """
  filters = params.get("conv_filters", deep_speech_model.DEFAULT_CONV_FILTERS)
  steps, freq, channels = frames, num_bins, 1
  flops = 0.0
  for i, (padding, kernel, strides) in enumerate(
      deep_speech_model.CONV_LAYERS):
    steps = (steps + 2 * padding[0] - kernel[0]) // strides[0] + 1
    freq = (freq + 2 * padding[1] - kernel[1]) // strides[1] + 1
    forward = 2.0 * batch_size * steps * freq * filters * (
        kernel[0] * kernel[1] * channels)
    flops += forward * (2 if i == 0 else 3)
    channels = filters
  gates = {"gru": 3, "lstm": 4, "rnn": 1}[params["rnn_type"]]
  hidden = params["rnn_hidden_size"]
  directions = 2 if params["is_bidirectional"] else 1
  inputs = freq * channels
  for _ in range(params["rnn_hidden_layers"]):
    flops += 3 * 2.0 * batch_size * steps * directions * gates * (
        inputs + hidden) * hidden
    inputs = directions * hidden
  flops += 3 * 2.0 * batch_size * steps * inputs * params["num_classes"]
  return flops


def sgemm_gflops(m, k, n, repeats=5):
  """float32 matrix product speed of this machine, [m, k] x [k, n].

  Run by TensorFlow in a session, with its thread pools, so the figure is
  what the training step's own matrix products could reach here now (on a
  shared machine, load falls on both). Median of `repeats` after one warm-up.
  """
  with tf.Graph().as_default():
    rng = np.random.RandomState(0)
    a = tf.constant(rng.standard_normal([m, k]).astype(np.float32))
    b = tf.Variable(rng.standard_normal([k, n]).astype(np.float32))
    # A scalar out, so fetching costs nothing; the product still runs whole.
    product = tf.reduce_sum(tf.matmul(a, b))
    with tf.compat.v1.Session() as session:
      session.run(b.initializer)
      session.run(product)
      times = []
      for _ in range(repeats):
        start = time.perf_counter()
        session.run(product)
        times.append(time.perf_counter() - start)
  return 2.0 * m * k * n / statistics.median(times) / 1e9

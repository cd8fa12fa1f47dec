"""The network's GRU and LSTM layers: cuDNN on a GPU, a faster GRU on a CPU.

Both are Keras layers (same variables, names and shapes, so checkpoints are
Keras's) that keep their cuDNN kernel inside the Estimator's tf.compat.v1
graph, where Keras alone would drop it.

On a CPU, Keras's generic GRU multiplies each timestep's inputs by the kernel
inside the time loop: T small [batch, in] x [in, 3 * units] products forward
and as many backward, a large share of the demo network's step. They do not
depend on the recurrence, so `hoisted_gru` makes them one [time * batch, in]
product before the loop (and its gradient one product after it); the loop
keeps h @ recurrent_kernel and the gates. Backward, TensorFlow's gradient of
the loop would also multiply and add up the recurrent kernel's gradient once
per timestep; `_recurrence` writes its gradient out so that this too is one
product after the loop. Evaluation and exports (training=False) run the
loop without it (`hoisted_gru_inference`). Each of the two changes makes the
step faster, most on the seed's 5 x 800 model (docs/benchmarks.md). The
function is Keras GRU's (reset_after=True, sigmoid and tanh, no masking: the
network pads and runs every timestep); only the order of some additions
differs (rounding, ~1e-7).

GRU keeps Keras's implementation selector rather than choosing a kernel when
the graph is built: each call builds two functions sharing one
`api_implements` name, `hoisted_gru` (the one called, preferred on CPUs) and
Keras's cuDNN GRU (registered only, preferred on GPUs), and Grappler runs the
one for the device the layer is placed on. So one graph, exported model or
checkpoint serves both kinds of machine, as before.
"""

import uuid

import tensorflow as tf
# Keras's cuDNN GRU and the implementation selector's function attributes
# live in private modules (Keras 2.15).
# pylint: disable=g-direct-tensorflow-import
from keras.src.layers.rnn import gru as keras_gru
from keras.src.layers.rnn import gru_lstm_utils
# pylint: enable=g-direct-tensorflow-import


def _cudnn_compatible(layer):
  """Whether a Keras GRU/LSTM's settings allow the cuDNN kernel."""
  return (layer.cell.activation in (tf.keras.activations.tanh, tf.tanh)
          and layer.cell.recurrent_activation in (
              tf.keras.activations.sigmoid, tf.sigmoid)
          and layer.cell.recurrent_dropout == 0 and not layer.unroll
          and layer.cell.use_bias
          and getattr(layer.cell, "reset_after", True))


def hoisted_gru(inputs, init_h, kernel, recurrent_kernel, bias, time_major,
                go_backwards):
  """A GRU layer's forward pass (Keras GRU, reset_after=True), no masking.

  For training: the loop keeps its gates for the written-out gradient. See
  `hoisted_gru_inference` for evaluation and exports.

  Args:
    inputs: [batch, time, in] ([time, batch, in] if time_major).
    init_h: [batch, units] initial state.
    kernel: [in, 3 * units], gates in Keras's order (z, r, h).
    recurrent_kernel: [units, 3 * units].
    bias: [2, 3 * units]: the input bias, then the recurrent bias.
    time_major: whether inputs and outputs are time-major.
    go_backwards: whether to run from the last timestep to the first
      (outputs then come in that reversed order, as Keras's).

  Returns:
    (last output [batch, units], outputs [batch, time, units] (time-major
    if time_major), final state [batch, units], runtime constant): Keras's
    standard_gru's outputs.
  """
  return _hoisted(inputs, init_h, kernel, recurrent_kernel, bias, time_major,
                  go_backwards, _recurrence)


def hoisted_gru_inference(inputs, init_h, kernel, recurrent_kernel, bias,
                          time_major, go_backwards):
  """`hoisted_gru` without a gradient: the graph of evaluation and exports.

  Its loop keeps only h, and the graph carries no custom gradient, so an
  export loads without TensorFlow's warning that gradients through it
  "will likely fail". (It is not faster than the training loop's forward
  pass; docs/benchmarks.md.)
  """
  return _hoisted(inputs, init_h, kernel, recurrent_kernel, bias, time_major,
                  go_backwards, _forward_recurrence)


def _hoisted(inputs, init_h, kernel, recurrent_kernel, bias, time_major,
             go_backwards, recurrence):
  """hoisted_gru's body, with the time loop `recurrence`."""
  units = recurrent_kernel.shape[0]
  input_bias, recurrent_bias = tf.unstack(bias)
  if not time_major:
    inputs = tf.transpose(inputs, [1, 0, 2])
  if go_backwards:
    inputs = tf.reverse(inputs, [0])
  shape = tf.shape(inputs)
  # The update and reset gates add their recurrent bias outside any product,
  # so it joins the input bias here; the candidate's stays in the loop (the
  # reset gate scales it).
  zr_bias, h_bias = tf.split(recurrent_bias, [2 * units, units])
  projected = tf.nn.bias_add(
      tf.matmul(tf.reshape(inputs, [-1, shape[2]]), kernel),
      input_bias + tf.concat([zr_bias, tf.zeros_like(h_bias)], 0))
  projected = tf.reshape(projected, [shape[0], shape[1], 3 * units])

  outputs = recurrence(projected, init_h, recurrent_kernel, h_bias)
  last = outputs[-1]
  if not time_major:
    outputs = tf.transpose(outputs, [1, 0, 2])
  return (last, outputs, last,
          gru_lstm_utils.runtime(gru_lstm_utils.RUNTIME_CPU))


def _step(h, x, recurrent_kernel, h_bias, units):
  """One timestep: h and x [batch, 3 * units] -> (new h, z, r, candidate,
  the candidate's recurrent term)."""
  x_zr, x_h = tf.split(x, [2 * units, units], axis=1)
  inner_zr, inner_h = tf.split(tf.matmul(h, recurrent_kernel),
                               [2 * units, units], axis=1)
  z, r = tf.split(tf.sigmoid(x_zr + inner_zr), 2, axis=1)
  inner_h += h_bias
  candidate = tf.tanh(x_h + r * inner_h)
  return z * h + (1 - z) * candidate, z, r, candidate, inner_h


def _forward_recurrence(projected, init_h, recurrent_kernel, h_bias):
  """_recurrence's outputs, keeping nothing for a gradient."""
  units = recurrent_kernel.shape[0]
  return tf.scan(
      lambda h, x: _step(h, x, recurrent_kernel, h_bias, units)[0],
      projected, initializer=init_h)


@tf.custom_gradient
def _recurrence(projected, init_h, recurrent_kernel, h_bias):
  """The GRU's time loop over inputs already multiplied by the kernel.

  Its gradient is written out so that the recurrent kernel's, like the
  kernel's, is one product over all timesteps after the loop, not one per
  timestep inside it.

  Args:
    projected: [time, batch, 3 * units]: x_t @ kernel + input bias, plus the
      recurrent bias of the update and reset gates.
    init_h: [batch, units].
    recurrent_kernel: [units, 3 * units].
    h_bias: [units], the candidate's recurrent bias.

  Returns:
    [time, batch, units]: h at every timestep.
  """
  units = recurrent_kernel.shape[0]
  step = lambda state, x: _step(state[0], x, recurrent_kernel, h_bias, units)
  zeros = tf.zeros_like(init_h)
  outputs, z, r, candidate, inner_h = tf.scan(
      step, projected, initializer=(init_h, zeros, zeros, zeros, zeros))
  previous = tf.concat([init_h[tf.newaxis], outputs[:-1]], 0)

  def gradient(d_outputs):
    """Backpropagation through time, newest timestep first."""

    def back_step(state, step_values):
      # d_x_h: the gradient at tanh's input, which is x_h's.
      d_h = state[0] + step_values[0]
      h_prev, z, r, candidate, inner_h = step_values[1:]
      d_x_h = d_h * (1 - z) * (1 - candidate * candidate)
      d_zr = tf.concat([d_h * (h_prev - candidate) * z * (1 - z),
                        d_x_h * inner_h * r * (1 - r)], 1)
      d_inner_h = d_x_h * r
      d_h_prev = d_h * z + tf.matmul(tf.concat([d_zr, d_inner_h], 1),
                                     recurrent_kernel, transpose_b=True)
      return d_h_prev, d_zr, d_x_h, d_inner_h

    d_init_h, d_zr, d_x_h, d_inner_h = tf.scan(
        back_step, (d_outputs, previous, z, r, candidate, inner_h),
        initializer=(zeros, tf.concat([zeros, zeros], 1), zeros, zeros),
        reverse=True)
    d_inner = tf.reshape(tf.concat([d_zr, d_inner_h], 2), [-1, 3 * units])
    d_recurrent_kernel = tf.matmul(tf.reshape(previous, [-1, units]),
                                   d_inner, transpose_a=True)
    return (tf.concat([d_zr, d_x_h], 2), d_init_h[0],
            d_recurrent_kernel, tf.reduce_sum(d_inner_h, [0, 1]))

  return outputs, gradient


def _cudnn_gru(inputs, init_h, kernel, recurrent_kernel, bias, time_major,
               go_backwards):
  """Keras's cuDNN GRU with hoisted_gru's signature (no mask, all outputs)."""
  return keras_gru.gpu_gru(
      inputs=inputs, init_h=init_h, kernel=kernel,
      recurrent_kernel=recurrent_kernel, bias=bias, mask=None,
      time_major=time_major, go_backwards=go_backwards,
      sequence_lengths=None, return_sequences=True)


class GRU(tf.keras.layers.GRU):
  """Keras GRU: cuDNN on a GPU, hoisted_gru on a CPU, in Estimator graphs.

  Keras enables its cuDNN path only when the outermost context is eager, so in
  the Estimator's tf.compat.v1 graph it would always run the generic kernel.
  With the flag set, the layer registers a CPU and a GPU implementation and
  Grappler picks one at session time by the layer's device. The weights are
  the same either way, so checkpoints move between CPU and GPU machines.
  """

  def __init__(self, *args, **kwargs):
    super().__init__(*args, **kwargs)
    self._could_use_gpu_kernel = _cudnn_compatible(self)

  def _defun_gru_call(self, inputs, initial_state, training, mask,
                      sequence_lengths):
    """Overrides Keras's: hoisted_gru instead of its generic kernel.

    Keras's own path stays for what hoisted_gru does not do: masks, ragged
    inputs, dropout and eager execution.
    """
    if (mask is not None or sequence_lengths is not None or self.dropout
        or tf.executing_eagerly()):
      return super()._defun_gru_call(inputs, initial_state, training, mask,
                                     sequence_lengths)
    read = gru_lstm_utils.read_variable_value
    params = dict(inputs=inputs, init_h=read(initial_state[0]),
                  kernel=read(self.cell.kernel),
                  recurrent_kernel=read(self.cell.recurrent_kernel),
                  bias=read(self.cell.bias), time_major=self.time_major,
                  go_backwards=self.go_backwards)
    # A new name per call, so that Grappler pairs each layer's two functions.
    api_name = "gru_" + str(uuid.uuid4())
    attributes = {"time_major": self.time_major,
                  "go_backwards": self.go_backwards}
    # Evaluation and exports (training a Python False) get the loop without
    # a gradient; a tensor or None may mean training.
    forward_only = training is not None and not tf.is_tensor(training) and (
        not training)
    cpu_gru = gru_lstm_utils.generate_defun_backend(
        api_name, gru_lstm_utils.CPU_DEVICE_NAME,
        hoisted_gru_inference if forward_only else hoisted_gru, attributes)
    gpu_gru = gru_lstm_utils.generate_defun_backend(
        api_name, gru_lstm_utils.GPU_DEVICE_NAME, _cudnn_gru, attributes)
    last_output, outputs, new_h, runtime = cpu_gru(**params)
    gru_lstm_utils.function_register(gpu_gru, **params)
    return last_output, outputs, runtime, [new_h]


class LSTM(tf.keras.layers.LSTM):
  """Keras LSTM that keeps its cuDNN kernel inside Estimator graphs (see GRU)."""

  def __init__(self, *args, **kwargs):
    super().__init__(*args, **kwargs)
    self._could_use_gpu_kernel = _cudnn_compatible(self)

"""Network structure of DeepSpeech2 (https://arxiv.org/abs/1512.02595).

Two convolution + batch-norm layers over the spectrogram, N (bi)directional
RNN layers with batch norm on the inputs of all but the first, a final batch
norm and a dense layer to the vocabulary. Built inside an Estimator `model_fn`
(graph mode); batch norm uses `tf.compat.v1.layers`, whose moving statistics
are updated through the UPDATE_OPS collection that `model_fn` runs with the
train op.

The RNNs are Keras layers (GRU, LSTM, SimpleRNN) with their default
activations: on a GPU, GRU and LSTM then run on cuDNN kernels; on a CPU the
GRU runs deep_speech_rnn's kernel (the same function, faster there).
"""

import tensorflow as tf

import deep_speech_rnn


# Supported RNN layers.
SUPPORTED_RNNS = {
    "lstm": deep_speech_rnn.LSTM,
    "rnn": tf.keras.layers.SimpleRNN,
    "gru": deep_speech_rnn.GRU,
}

# Batch normalization: moving averages decay slowly, so evaluation uses
# statistics of many batches.
BATCH_NORM_EPSILON = 1e-5
BATCH_NORM_DECAY = 0.997

# Filters of both convolution layers.
DEFAULT_CONV_FILTERS = 32

# (padding, kernel_size, strides) of the two convolutions, as
# (time, frequency). Symmetric padding keeps the output long enough for CTC.
CONV_LAYERS = (
    ((20, 5), (41, 11), (2, 2)),
    ((10, 5), (21, 11), (2, 1)),
)

# The scope of the output layer's variables (dense/kernel, dense/bias): the
# layer a new vocabulary remaps (training/fine_tune.py).
OUTPUT_LAYER = "dense"

# Spectrogram frames per output frame: the product of the time strides.
TIME_REDUCTION = 4


def conv_output_frames(frames):
  """Output frames of the convolutions for `frames` input frames (python int)."""
  for padding, kernel, strides in CONV_LAYERS:
    frames = (frames + 2 * padding[0] - kernel[0]) // strides[0] + 1
  return frames


def input_context():
  """(past, future) input frames that output frame m sees beyond 4m.

  Output frame m of the convolutions is computed from input (spectrogram)
  frames TIME_REDUCTION * m - past .. TIME_REDUCTION * m + future: each
  layer (padding p, kernel k, stride s), walked from the top, maps frames
  lo..hi of its output to s * lo - p .. s * hi - p + k - 1 of its input.
  With CONV_LAYERS that is 40 frames on each side; a unidirectional network
  with a lookahead of N frames sees 40 + TIME_REDUCTION * N future frames.
  """
  low, high = 0, 0
  for padding, kernel, strides in reversed(CONV_LAYERS):
    low = strides[0] * low - padding[0]
    high = strides[0] * high - padding[0] + kernel[0] - 1
  return -low, high


def batch_norm(inputs, training, dtype=None):
  """Batch normalization (decay 0.997, epsilon 1e-5).

  A large decay means the moving mean and variance need on the order of a
  thousand steps to reflect the training data; evaluation before that sees
  poor statistics. Updates go to tf.GraphKeys.UPDATE_OPS.

  Args:
    inputs: the tensor to normalize over its last axis.
    training: a Python bool; True uses batch statistics and queues updates.
    dtype: None (float32) or a mixed-precision policy.

  Returns:
    The normalized tensor.
  """
  layer = tf.compat.v1.layers.BatchNormalization(
      momentum=BATCH_NORM_DECAY, epsilon=BATCH_NORM_EPSILON, fused=True,
      dtype=dtype)
  return layer(inputs, training=training)


def _conv_bn_layer(inputs, padding, filters, kernel_size, strides, layer_id,
                   training, dtype=None, pad_time=True):
  """Symmetric padding, 2-D convolution with relu6, then batch norm.

  Args:
    inputs: [batch, time, freq, channels].
    padding: (time, freq) zeros added on both sides before the convolution.
    filters: output channels.
    kernel_size: (time, freq) kernel.
    strides: (time, freq) strides.
    layer_id: 1-based index, for variable names.
    training: a Python bool.
    dtype: None (float32) or a mixed-precision policy.
    pad_time: False leaves the time axis unpadded: a stream supplies the
      context frames itself.

  Returns:
    [batch, time', freq', filters].
  """
  time_padding = padding[0] if pad_time else 0
  inputs = tf.pad(
      inputs,
      [[0, 0], [time_padding, time_padding], [padding[1], padding[1]],
       [0, 0]])
  conv = tf.compat.v1.layers.Conv2D(
      filters=filters, kernel_size=kernel_size, strides=strides,
      padding="valid", use_bias=False, activation=tf.nn.relu6,
      name="cnn_{}".format(layer_id), dtype=dtype)
  return batch_norm(conv(inputs), training, dtype)


def _rnn_layer(inputs, rnn_class, rnn_hidden_size, layer_id, is_batch_norm,
               is_bidirectional, training, dtype=None, initial_state=None):
  """Optional batch norm on the inputs, then a (bidirectional) RNN.

  Args:
    inputs: [batch, time, features].
    rnn_class: a Keras RNN layer class from SUPPORTED_RNNS.
    rnn_hidden_size: units per direction.
    layer_id: 1-based index, for variable names.
    is_batch_norm: whether to batch-normalize the inputs.
    is_bidirectional: whether to add a backward RNN (outputs concatenated).
    training: a Python bool.
    dtype: None (float32) or a mixed-precision policy.
    initial_state: None (zeros), or the layer's state tensors to start from
      (a stream carries them from one chunk to the next; unidirectional
      only).

  Returns:
    [batch, time, rnn_hidden_size * (2 if bidirectional else 1)]; with
    `initial_state`, (that, the list of final state tensors).
  """
  if is_batch_norm:
    inputs = batch_norm(inputs, training, dtype)
  if initial_state is not None:
    layer = rnn_class(rnn_hidden_size, return_sequences=True,
                      return_state=True, name="rnn_{}".format(layer_id),
                      dtype=dtype)
    outputs = layer(inputs, initial_state=initial_state, training=training)
    return outputs[0], outputs[1:]
  layer = rnn_class(rnn_hidden_size, return_sequences=True,
                    name="rnn_{}".format(layer_id), dtype=dtype)
  if is_bidirectional:
    layer = tf.keras.layers.Bidirectional(
        layer, merge_mode="concat", name="bidirectional_rnn_{}".format(
            layer_id), dtype=dtype)
  return layer(inputs, training=training)


def lookahead(inputs, context, dtype=None, pad_time=True):
  """The lookahead (row) convolution of DeepSpeech2 (section 3.5).

  Each feature of output frame t is a learned weighting of that feature in
  frames t .. t + context: a depthwise convolution over time, no bias (batch
  norm follows). A unidirectional network then sees `context` frames of the
  future without a backward RNN, so it can still transcribe as audio comes.

  Args:
    inputs: [batch, time, features].
    context: future frames seen (>= 1).
    dtype: None (float32) or a mixed-precision policy.
    pad_time: whether `context` zero frames follow the last frame (False:
      the caller supplies them, and gets `context` fewer frames out).

  Returns:
    [batch, time, features] ([batch, time - context, features] without
    `pad_time`).
  """
  if pad_time:
    inputs = tf.pad(inputs, [[0, 0], [0, context], [0, 0]])
  layer = tf.keras.layers.DepthwiseConv1D(
      kernel_size=context + 1, padding="valid", use_bias=False,
      name="lookahead", dtype=dtype)
  return layer(inputs)


class DeepSpeech2(object):
  """DeepSpeech2: builds the graph from spectrogram features to logits."""

  def __init__(self, num_rnn_layers, rnn_type, is_bidirectional,
               rnn_hidden_size, num_classes, use_bias, dtype="float32",
               conv_filters=DEFAULT_CONV_FILTERS, lookahead_context=0):
    """Initializes the model.

    Args:
      num_rnn_layers: number of RNN layers (5 by default).
      rnn_type: one of SUPPORTED_RNNS: "gru", "lstm" or "rnn".
      is_bidirectional: whether the RNN layers are bidirectional.
      rnn_hidden_size: units per RNN direction.
      num_classes: output classes (vocabulary size, blank included).
      use_bias: whether the final dense layer has a bias.
      dtype: "float32", or "float16" / "bfloat16" for mixed precision:
        convolutions and RNNs compute in that type with float32 variables;
        the final batch norm, the logits (and so softmax and CTC) stay
        float32.
      conv_filters: output channels of each convolution (the original's 32).
        Fewer make the second, 21x11 convolution (most of a small model's
        step) proportionally cheaper.
      lookahead_context: future output frames the lookahead (row)
        convolution sees after the RNN layers (DeepSpeech2 section 3.5);
        0 (the original) adds no layer.
    """
    if dtype not in ("float32", "float16", "bfloat16"):
      raise ValueError("dtype must be float32, float16 or bfloat16, got %r"
                       % dtype)
    if rnn_type not in SUPPORTED_RNNS:
      raise ValueError("rnn_type must be one of %s, got %r" % (
          sorted(SUPPORTED_RNNS), rnn_type))
    self.num_rnn_layers = num_rnn_layers
    self.rnn_type = rnn_type
    self.is_bidirectional = is_bidirectional
    self.rnn_hidden_size = rnn_hidden_size
    self.num_classes = num_classes
    self.use_bias = use_bias
    self.dtype = dtype
    if conv_filters < 1:
      raise ValueError("conv_filters must be >= 1, got %r" % conv_filters)
    self.conv_filters = conv_filters
    if lookahead_context < 0:
      raise ValueError("lookahead_context must be >= 0, got %r"
                       % lookahead_context)
    self.lookahead_context = lookahead_context

  def __call__(self, inputs, training):
    """Builds the network.

    Args:
      inputs: float32 [batch, time, 161, 1] spectrograms.
      training: a Python bool (batch statistics and BN updates when True).

    Returns:
      float32 logits [batch, ceil(time / 4), num_classes].
    """
    policy = self.policy()
    if policy is not None:
      # tf.compat.v1 layers do not cast their inputs themselves.
      inputs = tf.cast(inputs, self.dtype)
    for layer_id in range(1, len(CONV_LAYERS) + 1):
      inputs = self.conv_layer(inputs, layer_id, training, policy)
    inputs = self.rnn_input(inputs)
    for layer_id in range(1, self.num_rnn_layers + 1):
      inputs = self.rnn_layer(inputs, layer_id, training, policy)
    return self.head(inputs, training, policy)

  # The pieces below, called in __call__'s order, build the same variables;
  # a streaming transcriber calls them one by one on the frames it buffers.

  def policy(self):
    """The layers' mixed-precision policy, or None for float32."""
    if self.dtype == "float32":
      return None
    return tf.keras.mixed_precision.Policy("mixed_" + self.dtype)

  def conv_layer(self, inputs, layer_id, training, policy=None,
                 pad_time=True):
    """Convolution `layer_id` (1-based) of CONV_LAYERS, with its batch norm.

    Args:
      inputs: [batch, time, freq, channels].
      pad_time: False: no time padding (the caller adds the context).

    Returns:
      [batch, time', freq', conv_filters].
    """
    padding, kernel, strides = CONV_LAYERS[layer_id - 1]
    return _conv_bn_layer(
        inputs, padding=padding, filters=self.conv_filters,
        kernel_size=kernel, strides=strides, layer_id=layer_id,
        training=training, dtype=policy, pad_time=pad_time)

  def rnn_input(self, inputs):
    """[batch, time, freq, channels] -> [batch, time, freq * channels]."""
    batch_size = tf.shape(inputs)[0]
    feat_size = inputs.get_shape().as_list()[2]
    return tf.reshape(inputs,
                      [batch_size, -1, feat_size * self.conv_filters])

  def rnn_layer(self, inputs, layer_id, training, policy=None,
                initial_state=None):
    """RNN layer `layer_id` (1-based); see `_rnn_layer`."""
    # No batch normalization on the first layer's inputs.
    return _rnn_layer(
        inputs, SUPPORTED_RNNS[self.rnn_type], self.rnn_hidden_size,
        layer_id, is_batch_norm=layer_id != 1,
        is_bidirectional=self.is_bidirectional, training=training,
        dtype=policy, initial_state=initial_state)

  def head(self, inputs, training, policy=None, pad_time=True):
    """The lookahead convolution (if any), the last batch norm, the logits.

    Args:
      inputs: [batch, time, rnn features].
      pad_time: False: no zeros after the last frame; the caller gives
        `lookahead_context` frames more than it wants outputs.

    Returns:
      float32 logits [batch, time, num_classes] (time - lookahead_context
      without `pad_time`).
    """
    if self.lookahead_context:
      inputs = lookahead(inputs, self.lookahead_context, policy, pad_time)
    # The last batch norm and the logits are float32, so the softmax and the
    # CTC loss never see float16.
    inputs = batch_norm(tf.cast(inputs, tf.float32), training)
    # The layer class, not the `dense` function: the same variable names
    # (dense/kernel, dense/bias) without the function's deprecation warning.
    output_layer = tf.compat.v1.layers.Dense(self.num_classes,
                                             use_bias=self.use_bias,
                                             name=OUTPUT_LAYER)
    return output_layer(inputs)


def from_params(params):
  """The `DeepSpeech2` that model_fn's `params` describe."""
  return DeepSpeech2(
      params["rnn_hidden_layers"], params["rnn_type"],
      params["is_bidirectional"], params["rnn_hidden_size"],
      params["num_classes"], params["use_bias"],
      dtype=params.get("dtype", "float32"),
      conv_filters=params.get("conv_filters", DEFAULT_CONV_FILTERS),
      lookahead_context=params.get("lookahead_context", 0))


def compute_length_after_conv(max_time_steps, ctc_time_steps, input_length):
  """Computes the time_steps/ctc_input_length after convolution.

  A padded batch holds, for each utterance, input_length frames of real
  spectrogram followed by zeros up to max_time_steps. The convolutions shrink
  the time axis to ctc_time_steps; an utterance keeps the same share of it:
  ctc_input_length = floor(input_length * ctc_time_steps / max_time_steps).
  This length is what the CTC loss and the decoder may use.

  Args:
    max_time_steps: padded length of the batch, before the convolutions.
    ctc_time_steps: time steps after the convolutions.
    input_length: int tensor [batch, 1], real frames of each utterance.

  Returns:
    int32 tensor [batch, 1].
  """
  ctc_input_length = tf.cast(tf.multiply(
      tf.cast(input_length, tf.int64), tf.cast(ctc_time_steps, tf.int64)),
                             tf.float64)
  return tf.cast(tf.math.floordiv(
      ctc_input_length, tf.cast(max_time_steps, tf.float64)), tf.int32)


def predictions(spectrogram, input_length, logits):
  """What an inference graph outputs for `logits`.

  Args:
    spectrogram: the network's input, float32 [batch, time, bins, 1].
    input_length: int32 [batch, 1], real frames of each utterance.
    logits: the network's output for it, [batch, time / 4, classes].

  Returns:
    A dict: "classes" int64 [batch, time / 4], "probabilities" (softmax) and
    "logits" [batch, time / 4, classes], "ctc_input_length" int32 [batch].
  """
  lengths = compute_length_after_conv(
      tf.shape(spectrogram)[1], tf.shape(logits)[1], input_length)
  return {"classes": tf.argmax(logits, axis=2),
          "probabilities": tf.nn.softmax(logits),
          "logits": logits,
          "ctc_input_length": tf.reshape(lengths, [-1])}

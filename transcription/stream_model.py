"""A unidirectional DeepSpeech2 run on a stream, a few frames at a time.

The network's pieces (deep_speech_model.DeepSpeech2's `conv_layer`,
`rnn_layer` and `head`, the very layers and variables the trained graph
has) are built into one graph with their inputs as placeholders and the
checkpoint's variables restored. A `StreamState` holds, between calls, what
each piece still needs from the past:

  - each convolution: the input frames its next output window starts at
    (a stride-2 window of 41, then 21 frames), beginning with the zeros of
    its symmetric time padding; `finish` adds the closing zeros;
  - each RNN layer: its state (GRU and simple RNN: h; LSTM: h and c);
  - the lookahead: the last `lookahead_context` RNN outputs, which the
    next output frame needs with the frames still to come.

Batch norm uses its moving statistics only (inference), so every frame is
computed as in the whole utterance's graph: the outputs of the pieces fed
frame by frame equal the offline graph's up to the rounding of differently
shaped matrix products.

`BufferedNetwork` keeps that buffering in numpy and leaves the three
computations to a subclass: `StreamingNetwork` runs them in TensorFlow,
transcription/tflite_model.py's `TFLiteNetwork` in a TFLite interpreter.
"""

import contextlib
import os

import numpy as np
import tensorflow as tf

import deep_speech_model
from transcription import model as model_lib


def find_variables(path):
  """(checkpoint prefix, the folder with its settings) of a model.

  Args:
    path: a training directory (its latest checkpoint) or an export (or
      its --export_dir: the newest export's variables).

  Raises:
    model_lib.ModelError: neither a checkpoint nor an export.
  """
  if os.path.isdir(path):
    checkpoint = tf.train.latest_checkpoint(path)
    if checkpoint is not None:
      return checkpoint, path
  saved_model = model_lib.find_saved_model(path)
  return os.path.join(saved_model, "variables", "variables"), saved_model


def check_unidirectional(params, path):
  """Raises model_lib.ModelError for a bidirectional model at `path`."""
  if params["is_bidirectional"]:
    raise model_lib.ModelError(
        "%s is bidirectional: its backward RNNs need the whole utterance "
        "before the first output; stream with a model trained with "
        "--is_bidirectional=false" % path)


class StreamState(object):
  """What one stream carries between calls (see the module docstring)."""

  def __init__(self, conv_buffers, rnn_states, lookahead_buffer):
    self.conv_buffers = conv_buffers
    self.rnn_states = rnn_states
    self.lookahead_buffer = lookahead_buffer


class BufferedNetwork(object):
  """The numpy side of a streamed network: buffers in, output frames out.

  Subclasses compute the pieces: `_run_conv`, `_run_rnn` and `_run_head`.

  Attributes:
    lookahead_context: future RNN output frames the head sees.
  """

  def __init__(self, lookahead_context, conv_shapes, state_shapes,
               rnn_units, num_classes):
    """Args:

      lookahead_context: as the model's.
      conv_shapes: [(freq, channels)] of each convolution's input, and
        after them the last one's output.
      state_shapes: the shape of each RNN state array, in layer order.
      rnn_units: features of the RNN's (and so the head's) input frames.
      num_classes: output classes.
    """
    self.lookahead_context = lookahead_context
    self._conv_shapes = [list(s) for s in conv_shapes]
    self._state_shapes = state_shapes
    self._rnn_units = rnn_units
    self._num_classes = num_classes

  @property
  def conv_shapes(self):
    """[(freq, channels)] of each convolution's input, then the output's."""
    return [list(shape) for shape in self._conv_shapes]

  def start(self):
    """A new stream's `StreamState`: zeros, as at an utterance's start."""
    conv = [np.zeros([padding[0]] + shape, np.float32) for shape, (
        padding, _, _) in zip(self._conv_shapes,
                              deep_speech_model.CONV_LAYERS)]
    states = [np.zeros(shape, np.float32) for shape in self._state_shapes]
    lookahead = np.zeros([0, self._rnn_units], np.float32)
    return StreamState(conv, states, lookahead)

  def step(self, state, frames):
    """The output frames that `frames` complete.

    Args:
      state: the stream's `StreamState` (updated).
      frames: float32 [time, bins, 1], the next normalized spectrogram
        frames (any number, 0 included).

    Returns:
      float32 [output frames, classes]: softmax outputs, in order.
    """
    for layer in range(len(deep_speech_model.CONV_LAYERS)):
      frames = self._convolve(state, layer, frames)
    return self._recur_and_decode(state, frames)

  def finish(self, state):
    """The remaining output frames, as after the utterance's last frame.

    Feeds each convolution its closing padding and the lookahead its
    closing zeros; `state` is spent afterwards.
    """
    frames = np.zeros([0] + self._conv_shapes[0], np.float32)
    for layer, (padding, _, _) in enumerate(deep_speech_model.CONV_LAYERS):
      closing = np.zeros([padding[0]] + self._conv_shapes[layer], np.float32)
      frames = self._convolve(state, layer, np.concatenate([frames, closing]))
    context = self.lookahead_context
    return np.concatenate([
        self._recur_and_decode(state, frames),
        self._decode(state, np.zeros((context, self._rnn_units),
                                     np.float32))])

  def _convolve(self, state, layer, frames):
    """Convolution `layer` (0-based) over its buffer and `frames`."""
    buffered = np.concatenate([state.conv_buffers[layer], frames])
    _, kernel, strides = deep_speech_model.CONV_LAYERS[layer]
    count = 0
    if buffered.shape[0] >= kernel[0]:
      count = (buffered.shape[0] - kernel[0]) // strides[0] + 1
    # The next window starts after the `count` windows computed now.
    state.conv_buffers[layer] = buffered[count * strides[0]:]
    if not count:
      return np.zeros([0] + self._conv_shapes[layer + 1], np.float32)
    used = buffered[:(count - 1) * strides[0] + kernel[0]]
    return self._run_conv(layer, used)

  def _recur_and_decode(self, state, frames):
    """RNN layers with the carried states, then the head."""
    outputs = np.zeros([0, self._rnn_units], np.float32)
    if frames.shape[0]:
      outputs, state.rnn_states = self._run_rnn(
          frames.reshape(frames.shape[0], -1), state.rnn_states)
    return self._decode(state, outputs)

  def _decode(self, state, outputs):
    """The head over the lookahead buffer and the new RNN outputs."""
    buffered = np.concatenate([state.lookahead_buffer, outputs])
    count = buffered.shape[0] - self.lookahead_context
    if count <= 0:
      state.lookahead_buffer = buffered
      return np.zeros([0, self._num_classes], np.float32)
    state.lookahead_buffer = buffered[count:]
    return self._run_head(buffered)

  def _run_conv(self, layer, frames):
    """float32 [time, freq, channels] -> the convolution's output windows,
    [windows, freq', filters] (no time padding)."""
    raise NotImplementedError

  def _run_rnn(self, frames, states):
    """float32 [time, features] and the states -> ([time, units], the new
    states)."""
    raise NotImplementedError

  def _run_head(self, frames):
    """float32 [time, units] -> softmax [time - lookahead_context,
    classes]."""
    raise NotImplementedError


class StreamingNetwork(BufferedNetwork):
  """The network of a unidirectional checkpoint, fed frame by frame.

  One network serves any number of streams, each with its own
  `StreamState`; TensorFlow sessions may be run from several threads.
  """

  def __init__(self, checkpoint, params, num_feature_bins, threads=None):
    """Builds the pieces and restores `checkpoint` into them.

    Args:
      checkpoint: a checkpoint prefix.
      params: model_fn's params (model_lib.infer_params).
      num_feature_bins: spectrogram bins of the input.
      threads: TensorFlow's intra- and inter-op threads for this network
        (None: its defaults, every core).

    Raises:
      model_lib.ModelError: a bidirectional model (its backward RNNs need
        the whole utterance).
    """
    check_unidirectional(params, checkpoint)
    model = deep_speech_model.from_params(dict(params, dtype="float32"))
    self._rnn_type = model.rnn_type
    self._graph = tf.Graph()
    with self._graph.as_default():
      self._build(model, num_feature_bins)
      config = None
      if threads:
        config = tf.compat.v1.ConfigProto(
            intra_op_parallelism_threads=threads,
            inter_op_parallelism_threads=threads)
      self._session = tf.compat.v1.Session(graph=self._graph, config=config)
      tf.compat.v1.train.Saver().restore(self._session, checkpoint)
    conv_shapes = [p.shape.as_list()[2:] for p in self._conv_inputs] + [
        self._conv_outputs[-1].shape.as_list()[2:]]
    super().__init__(model.lookahead_context, conv_shapes,
                     [p.shape.as_list() for p in self._state_inputs],
                     model.rnn_hidden_size, model.num_classes)

  def _build(self, model, num_feature_bins):
    """The placeholders and outputs of each piece, in the trained order.

    Records the variables each piece creates in `self._piece_variables`.
    """
    placeholder = tf.compat.v1.placeholder
    self._piece_variables = {}
    self._conv_inputs, self._conv_outputs = [], []
    shape = [num_feature_bins, 1]
    for layer_id in range(1, len(deep_speech_model.CONV_LAYERS) + 1):
      inputs = placeholder(tf.float32, [1, None] + shape)
      with self._recording("conv_%d" % layer_id):
        outputs = model.conv_layer(inputs, layer_id, False, pad_time=False)
      self._conv_inputs.append(inputs)
      self._conv_outputs.append(outputs)
      shape = outputs.get_shape().as_list()[2:]
    self._rnn_input = placeholder(tf.float32, [1, None, shape[0] * shape[1]])
    self._state_inputs, self._state_outputs = [], []
    inputs = self._rnn_input
    units = model.rnn_hidden_size
    for layer_id in range(1, model.num_rnn_layers + 1):
      states = [placeholder(tf.float32, [1, units])
                for _ in range(2 if self._rnn_type == "lstm" else 1)]
      with self._recording("rnn_%d" % layer_id):
        inputs, new_states = model.rnn_layer(inputs, layer_id, False,
                                             initial_state=states)
      self._state_inputs.extend(states)
      self._state_outputs.extend(new_states)
    self._rnn_output = inputs
    self._head_input = placeholder(tf.float32, [1, None, units])
    with self._recording("head"):
      self._probabilities = tf.nn.softmax(
          model.head(self._head_input, False, pad_time=False))

  @contextlib.contextmanager
  def _recording(self, piece):
    """Files the variables created inside the context under `piece`."""
    before = set(tf.compat.v1.global_variables())
    yield
    self._piece_variables[piece] = [
        v for v in tf.compat.v1.global_variables() if v not in before]

  def piece_weights(self):
    """The restored weights of each piece, for an export of the pieces.

    Returns:
      {"conv_1", "conv_2", "rnn_1", ... "rnn_N", "head": {the last part of
      each variable's name ("kernel", "gamma", "moving_mean",
      "recurrent_kernel", "depthwise_kernel", ...): float32 array}}; the
      names are unique within a piece.
    """
    weights = {}
    for piece, variables in self._piece_variables.items():
      values = self._session.run(variables)
      weights[piece] = {v.op.name.split("/")[-1]: value
                        for v, value in zip(variables, values)}
      if len(weights[piece]) != len(variables):
        raise ValueError("variable names repeat within %s: %s" % (
            piece, [v.op.name for v in variables]))
    return weights

  def _run_conv(self, layer, frames):
    return self._session.run(self._conv_outputs[layer],
                             {self._conv_inputs[layer]: frames[np.newaxis]})[0]

  def _run_rnn(self, frames, states):
    feed = {self._rnn_input: frames[np.newaxis]}
    feed.update(zip(self._state_inputs, states))
    results = self._session.run([self._rnn_output] + self._state_outputs,
                                feed)
    return results[0][0], results[1:]

  def _run_head(self, frames):
    return self._session.run(self._probabilities,
                             {self._head_input: frames[np.newaxis]})[0]

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
"""

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


class StreamState(object):
  """What one stream carries between calls (see the module docstring)."""

  def __init__(self, conv_buffers, rnn_states, lookahead_buffer):
    self.conv_buffers = conv_buffers
    self.rnn_states = rnn_states
    self.lookahead_buffer = lookahead_buffer


class StreamingNetwork(object):
  """The network of a unidirectional checkpoint, fed frame by frame.

  One network serves any number of streams, each with its own
  `StreamState`; TensorFlow sessions may be run from several threads.
  """

  def __init__(self, checkpoint, params, num_feature_bins):
    """Builds the pieces and restores `checkpoint` into them.

    Args:
      checkpoint: a checkpoint prefix.
      params: model_fn's params (model_lib.infer_params).
      num_feature_bins: spectrogram bins of the input.

    Raises:
      model_lib.ModelError: a bidirectional model (its backward RNNs need
        the whole utterance).
    """
    if params["is_bidirectional"]:
      raise model_lib.ModelError(
          "%s is bidirectional: its backward RNNs need the whole utterance "
          "before the first output; stream with a model trained with "
          "--is_bidirectional=false" % checkpoint)
    model = deep_speech_model.from_params(dict(params, dtype="float32"))
    self.lookahead_context = model.lookahead_context
    self._rnn_type = model.rnn_type
    self._graph = tf.Graph()
    with self._graph.as_default():
      self._build(model, num_feature_bins)
      self._session = tf.compat.v1.Session(graph=self._graph)
      tf.compat.v1.train.Saver().restore(self._session, checkpoint)

  def _build(self, model, num_feature_bins):
    """The placeholders and outputs of each piece, in the trained order."""
    placeholder = tf.compat.v1.placeholder
    self._conv_inputs, self._conv_outputs, self._conv_shapes = [], [], []
    shape = [num_feature_bins, 1]
    for layer_id in range(1, len(deep_speech_model.CONV_LAYERS) + 1):
      self._conv_shapes.append(shape)
      inputs = placeholder(tf.float32, [1, None] + shape)
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
      inputs, new_states = model.rnn_layer(inputs, layer_id, False,
                                           initial_state=states)
      self._state_inputs.extend(states)
      self._state_outputs.extend(new_states)
    self._rnn_output = inputs
    self._head_input = placeholder(tf.float32, [1, None, units])
    self._probabilities = tf.nn.softmax(
        model.head(self._head_input, False, pad_time=False))

  def start(self):
    """A new stream's `StreamState`: zeros, as at an utterance's start."""
    conv = [np.zeros([padding[0]] + shape, np.float32) for shape, (
        padding, _, _) in zip(self._conv_shapes, deep_speech_model.CONV_LAYERS)]
    states = [np.zeros(p.shape.as_list(), np.float32)
              for p in self._state_inputs]
    lookahead = np.zeros([0, self._head_input.shape[-1]], np.float32)
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
    for layer in range(len(self._conv_inputs)):
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
        self._decode(state, np.zeros((context,) + state.lookahead_buffer.shape[
            1:], np.float32))])

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
      shape = self._conv_outputs[layer].get_shape().as_list()[2:]
      return np.zeros([0] + shape, np.float32)
    used = buffered[:(count - 1) * strides[0] + kernel[0]]
    return self._session.run(self._conv_outputs[layer],
                             {self._conv_inputs[layer]: used[np.newaxis]})[0]

  def _recur_and_decode(self, state, frames):
    """RNN layers with the carried states, then the head."""
    outputs = np.zeros([0, self._head_input.shape[-1]], np.float32)
    if frames.shape[0]:
      feed = {self._rnn_input: frames.reshape(1, frames.shape[0], -1)}
      feed.update(zip(self._state_inputs, state.rnn_states))
      results = self._session.run([self._rnn_output] + self._state_outputs,
                                  feed)
      outputs, state.rnn_states = results[0][0], results[1:]
    return self._decode(state, outputs)

  def _decode(self, state, outputs):
    """The head over the lookahead buffer and the new RNN outputs."""
    buffered = np.concatenate([state.lookahead_buffer, outputs])
    count = buffered.shape[0] - self.lookahead_context
    if count <= 0:
      state.lookahead_buffer = buffered
      return np.zeros([0, self._probabilities.shape[-1]], np.float32)
    state.lookahead_buffer = buffered[count:]
    return self._session.run(self._probabilities,
                             {self._head_input: buffered[np.newaxis]})[0]

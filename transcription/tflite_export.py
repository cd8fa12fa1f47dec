"""Writes a unidirectional model as one .tflite file of builtin ops only.

    path = tflite_export.export_tflite("/tmp/deep_speech_model",
                                       "/tmp/model.tflite", "int8")

An export's serving graph cannot become builtins: its GRU's time loop is a
TensorFlow while loop over a TensorList whose element shape is not static,
which only the Flex delegate runs. The streaming network has no such loop
outside its RNN, so its pieces (stream_model.StreamingNetwork, restored
from the checkpoint) are written again as plain functions of their
restored weights: the convolutions and the head as they are (their time
axis resized per call), the RNN layers over a fixed number of frames with
the time loop unrolled (each layer's input product hoisted out of it, as
deep_speech_rnn's kernel does), all states in and out. Their signatures and
metadata are transcription/tflite_model.py's.

Quantization (`QUANTIZATIONS`): "float32"; "float16" (weights stored as
float16, computed in float32); "int8" (dynamic range: weights int8,
activations quantized on the fly by the kernels that take them).
"""

import json
import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from common import atomic_file
import deep_speech_model
from transcription import model as model_lib
from transcription import stream_model
from transcription import tflite_model

QUANTIZATIONS = ("float32", "float16", "int8")
# Frames of the "rnn_block" signature: each layer's input kernel is read
# once per block rather than once per frame, and a file takes fewer calls,
# at the cost of a larger unrolled graph; a stream fed in short pieces runs
# "rnn_step".
RNN_BLOCK = 16


def _batch_norm(inputs, w):
  """Inference batch norm (moving statistics) over the last axis."""
  scale = w["gamma"] * tf.math.rsqrt(
      w["moving_variance"] + deep_speech_model.BATCH_NORM_EPSILON)
  return (inputs - w["moving_mean"]) * scale + w["beta"]


def _gru_step(projected, states, w, units):
  """Keras GRU (reset_after=True): projected is x @ kernel + input bias."""
  (h,) = states
  inner = tf.matmul(h, w["recurrent_kernel"]) + w["bias"][1]
  z, r = tf.split(tf.sigmoid(projected[:, :2 * units] + inner[:, :2 * units]),
                  2, axis=1)
  candidate = tf.tanh(projected[:, 2 * units:] + r * inner[:, 2 * units:])
  # z * h + (1 - z) * candidate, in fewer operations.
  return [candidate + z * (h - candidate)]


def _lstm_step(projected, states, w, units):
  """Keras LSTM: projected is x @ kernel + bias; states are [h, c]."""
  h, c = states
  i, f, g, o = tf.split(projected + tf.matmul(h, w["recurrent_kernel"]), 4,
                        axis=1)
  c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
  return [tf.sigmoid(o) * tf.tanh(c), c]


def _rnn_step(projected, states, w, units):
  """Keras SimpleRNN: projected is x @ kernel + bias."""
  return [tf.tanh(projected + tf.matmul(states[0], w["recurrent_kernel"]))]


_STEPS = {"gru": _gru_step, "lstm": _lstm_step, "rnn": _rnn_step}


class Pieces(tf.Module):
  """The streaming network's pieces as functions of their weights.

  The weights are variables shared by the signatures, so the converted
  file holds each once.
  """

  def __init__(self, weights, params, conv_shapes):
    """Args:

      weights: StreamingNetwork.piece_weights().
      params: the model's params (model_lib.infer_params).
      conv_shapes: [(freq, channels)] of each convolution's input, then of
        the last one's output.
    """
    super().__init__()
    self.weights = {piece: {name: tf.Variable(value, trainable=False)
                            for name, value in values.items()}
                    for piece, values in weights.items()}
    self._rnn_type = params["rnn_type"]
    self._layers = params["rnn_hidden_layers"]
    self._units = params["rnn_hidden_size"]
    self._context = params["lookahead_context"]
    self._conv_shapes = conv_shapes
    self.states = self._layers * (2 if self._rnn_type == "lstm" else 1)

  def signatures(self):
    """{signature key: concrete function}, tflite_model.SIGNATURES."""
    spec = tf.TensorSpec
    shapes = self._conv_shapes
    features = shapes[-1][0] * shapes[-1][1]
    states = spec([self.states, self._units], tf.float32, name="states")
    functions = {}
    for layer in range(len(deep_speech_model.CONV_LAYERS)):
      functions["conv_%d" % (layer + 1)] = tf.function(
          lambda frames, layer=layer: {"outputs": self._conv(layer, frames)},
          input_signature=[spec([1, None] + list(shapes[layer]), tf.float32,
                                name="frames")])
    for key, frames in (("rnn_step", 1), ("rnn_block", RNN_BLOCK)):
      functions[key] = tf.function(
          self._rnn, input_signature=[
              spec([frames, features], tf.float32, name="frames"), states])
    functions["head"] = tf.function(
        lambda frames: {"probabilities": self._head(frames)},
        input_signature=[spec([1, None, self._units], tf.float32,
                              name="frames")])
    return {key: f.get_concrete_function() for key, f in functions.items()}

  def _conv(self, layer, frames):
    """deep_speech_model's convolution `layer` (0-based), no time padding."""
    padding, _, strides = deep_speech_model.CONV_LAYERS[layer]
    w = self.weights["conv_%d" % (layer + 1)]
    inputs = tf.pad(frames, [[0, 0], [0, 0], [padding[1], padding[1]],
                             [0, 0]])
    outputs = tf.nn.relu6(tf.nn.conv2d(
        inputs, w["kernel"], [1, strides[0], strides[1], 1], "VALID"))
    return _batch_norm(outputs, w)

  def _rnn(self, frames, states):
    """Every RNN layer over `frames` (static length), layer after layer."""
    step = _STEPS[self._rnn_type]
    per_layer = self.states // self._layers
    inputs = frames
    new_states = []
    for layer in range(self._layers):
      w = self.weights["rnn_%d" % (layer + 1)]
      if "gamma" in w:  # all layers but the first normalize their inputs
        inputs = _batch_norm(inputs, w)
      bias = w["bias"][0] if self._rnn_type == "gru" else w["bias"]
      projected = tf.matmul(inputs, w["kernel"]) + bias
      carried = [states[i:i + 1] for i in range(
          layer * per_layer, (layer + 1) * per_layer)]
      outputs = []
      for t in range(frames.shape[0]):
        carried = step(projected[t:t + 1], carried, w, self._units)
        outputs.append(carried[0])
      inputs = tf.concat(outputs, 0)
      new_states.extend(carried)
    return {"outputs": inputs, "states": tf.concat(new_states, 0)}

  def _head(self, frames):
    """The lookahead (no closing zeros), batch norm, logits, softmax."""
    w = self.weights["head"]
    inputs = frames[0]
    if self._context:
      kernel = w["depthwise_kernel"]
      count = tf.shape(inputs)[0] - self._context
      inputs = tf.add_n([
          tf.slice(inputs, [k, 0], [count, -1]) * kernel[k, :, 0]
          for k in range(self._context + 1)])
    logits = tf.matmul(_batch_norm(inputs, w), w["kernel"])
    if "bias" in w:
      logits += w["bias"]
    return tf.nn.softmax(logits)[tf.newaxis]


def convert(pieces, quantize):
  """The .tflite bytes of `pieces`, builtin ops only, `quantize`d.

  Args:
    pieces: a tf.Module whose `signatures()` gives {key: concrete
      function} (a `Pieces`).
    quantize: one of QUANTIZATIONS.

  Raises:
    model_lib.ModelError: a piece the converter cannot lower to builtins.
  """
  if quantize not in QUANTIZATIONS:
    raise ValueError("quantize must be one of %s, got %r"
                     % (", ".join(QUANTIZATIONS), quantize))
  signatures = pieces.signatures()
  with tempfile.TemporaryDirectory() as directory:
    tf.saved_model.save(pieces, directory, signatures=signatures)
    converter = tf.lite.TFLiteConverter.from_saved_model(
        directory, signature_keys=list(signatures))
    # Builtins only: a piece that needs TensorFlow ops fails here.
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize != "float32":
      converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
      converter.target_spec.supported_types = [tf.float16]
    try:
      return converter.convert()
    except Exception as e:  # pylint: disable=broad-except
      # The converter raises its own ConverterError, whose text is pages of
      # MLIR; its first line says what failed.
      raise model_lib.ModelError(
          "TFLite's builtin ops cannot express the network: %s"
          % str(e).strip().splitlines()[0]) from None


def add_metadata(data, entries):
  """`data` with {name: bytes} added to the flatbuffer's metadata."""
  schema = tflite_model._schema()  # pylint: disable=protected-access
  import flatbuffers  # pylint: disable=g-import-not-at-top
  model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(data, 0))
  model.metadata = model.metadata or []
  for name, value in entries.items():
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(value, np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = name
    entry.buffer = len(model.buffers) - 1
    model.metadata.append(entry)
  builder = flatbuffers.Builder(len(data) + 4096)
  builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
  return bytes(builder.Output())


def _packaged_files(settings, output):
  """(settings to record, {copy: source}): the LM and lexicon beside
  `output`, named `<output stem>.<their name>`."""
  settings = dict(settings)
  files = {}
  stem = os.path.splitext(os.path.basename(output))[0]
  for key in ("lm_path", "lexicon"):
    if settings.get(key):
      name = "%s.%s" % (stem, os.path.basename(settings[key]))
      files[os.path.join(os.path.dirname(os.path.abspath(output)), name)] = (
          settings[key])
      settings[key] = name
  return settings, files


def export_tflite(model_path, output, quantize="float32"):
  """Writes `model_path`'s network to `output` as a builtins-only .tflite.

  Args:
    model_path: a training directory (its latest checkpoint) or an export
      (or its --export_dir), of a unidirectional model that records its
      settings.
    output: the .tflite file to write (atomically); an LM and lexicon the
      settings name are copied beside it.
    quantize: one of QUANTIZATIONS.

  Returns:
    The network description written (tflite_model.NETWORK_METADATA).

  Raises:
    model_lib.ModelError: no model, a bidirectional one, no settings, or
      a network the builtins cannot express.
  """
  if quantize not in QUANTIZATIONS:
    raise ValueError("--quantize must be one of %s, got %r"
                     % (", ".join(QUANTIZATIONS), quantize))
  checkpoint, settings_dir = stream_model.find_variables(model_path)
  params = model_lib.infer_params(checkpoint)
  if params["is_bidirectional"]:
    raise model_lib.ModelError(
        "%s is bidirectional: a TFLite export runs the streaming network, "
        "which needs a model trained with --is_bidirectional=false"
        % model_path)
  params, settings, _, _ = model_lib.describe_checkpoint(
      checkpoint, settings_dir, None)
  recorded, _ = model_lib.read_recorded_settings(settings_dir,
                                                 params["num_classes"])
  network = stream_model.StreamingNetwork(checkpoint, params,
                                          settings.num_feature_bins)
  shapes = network.conv_shapes
  pieces = Pieces(network.piece_weights(), params, shapes)
  description = {
      "format": tflite_model.FORMAT, "quantize": quantize,
      "rnn_type": params["rnn_type"],
      "rnn_layers": params["rnn_hidden_layers"],
      "rnn_units": params["rnn_hidden_size"], "states": pieces.states,
      "rnn_block": RNN_BLOCK,
      "lookahead_context": params["lookahead_context"],
      "num_classes": params["num_classes"], "conv_shapes": shapes,
      "source": checkpoint}
  data = convert(pieces, quantize)
  tflite_model.check_builtins(data, output)
  recorded, files = _packaged_files(recorded, output)
  data = add_metadata(data, {
      tflite_model.SETTINGS_METADATA: json.dumps(recorded).encode("utf-8"),
      tflite_model.NETWORK_METADATA: json.dumps(description).encode(
          "utf-8")})
  for copy, source in files.items():
    shutil.copyfile(source, copy)
  atomic_file.write_bytes(output, data)
  return description

"""A unidirectional model exported to TFLite: streamed, or a file at a time.

transcription/tflite_export.py writes one .tflite file holding the pieces
of `stream_model.StreamingNetwork` as signatures, all TFLite builtin ops
(no Flex delegate):

  "conv_1", "conv_2": "frames" [1, time, freq, channels] -> "outputs"
    [1, windows, freq', filters], no time padding (time is resized per
    call);
  "rnn_step", "rnn_block": "frames" [1 or RNN_BLOCK, features] and
    "states" [all layers' states, units] -> "outputs" [frames, units] and
    the new "states": every RNN layer over that many frames, its time loop
    unrolled (the export's loop, over tensors of no static shape, needs
    Flex ops);
  "head": "frames" [1, time, units] -> "probabilities" [1, time -
    lookahead_context, classes].

`TFLiteNetwork` feeds them from `stream_model.BufferedNetwork`'s numpy
buffers, as the TensorFlow network is fed, so the two give the same output
frames up to rounding; `TFLiteModel` runs it over whole features as
`model.ExportedModel` runs an export, a chunk at a time (exact for a
unidirectional model: the offline graph computes the same frames).

The file carries two metadata entries: SETTINGS_METADATA, an export's
settings file (training/export.py: featurizer, vocabulary, normalization,
decoder), and NETWORK_METADATA, a JSON object describing the pieces
("format", "quantize", "rnn_type", "rnn_layers", "rnn_units", "states",
"rnn_block", "lookahead_context", "num_classes", "conv_shapes", "source").
An LM and lexicon the settings name sit beside the file.
"""

import json
import os
import threading

import numpy as np

import deep_speech_model
from training import export
from transcription import model as model_lib
from transcription import stream_model

SETTINGS_METADATA = export.EXPORT_SETTINGS_FILE
NETWORK_METADATA = "deep_speech_network.json"
# NETWORK_METADATA's "format" this reader understands.
FORMAT = 1
SIGNATURES = ("conv_1", "conv_2", "rnn_step", "rnn_block", "head")
# Output windows per convolution call: TFLite's convolution lays out every
# window's input (im2col) before multiplying, and past a few windows that
# buffer outgrows the caches, and over a whole file the memory
# (docs/benchmarks.md).
CONV_WINDOWS = 8
# The keys of NETWORK_METADATA that TFLiteNetwork reads (ints, and a list).
_NETWORK_KEYS = ("rnn_block", "rnn_units", "states", "lookahead_context",
                 "num_classes", "conv_shapes")
# A TFLite flatbuffer's file identifier (bytes 4 to 8).
_IDENTIFIER = b"TFL3"


def is_tflite_path(path):
  """Whether `path` names a TFLite model rather than a model directory."""
  return path.endswith(".tflite") or os.path.isfile(path)


def read_model_file(path):
  """The bytes of a TFLite file.

  Raises:
    model_lib.ModelError: missing, unreadable, or not a TFLite flatbuffer.
  """
  if os.path.isdir(path):
    raise model_lib.ModelError("%s is a directory, not a .tflite file" % path)
  try:
    with open(path, "rb") as f:
      data = f.read()
  except OSError as e:
    raise model_lib.ModelError("cannot read %s: %s" % (
        path, e.strerror or e)) from None
  if data[4:8] != _IDENTIFIER:
    raise model_lib.ModelError("%s is not a TFLite model (no %s identifier)"
                               % (path, _IDENTIFIER.decode()))
  return data


def _schema():
  # The flatbuffer schema's Python classes ship with TensorFlow, in a
  # private module (TF 2.15).
  from tensorflow.lite.python import schema_py_generated  # pylint: disable=g-import-not-at-top,g-direct-tensorflow-import
  return schema_py_generated


def read_metadata(data):
  """{metadata name: bytes} of a TFLite flatbuffer."""
  schema = _schema()
  model = schema.Model.GetRootAs(data, 0)
  entries = {}
  for i in range(model.MetadataLength()):
    entry = model.Metadata(i)
    buffer = model.Buffers(entry.Buffer())
    entries[entry.Name().decode("utf-8", "replace")] = (
        buffer.DataAsNumpy().tobytes() if buffer.DataLength() else b"")
  return entries


def custom_ops(data):
  """The names of the custom ops (Flex ops among them) a flatbuffer uses."""
  schema = _schema()
  model = schema.Model.GetRootAs(data, 0)
  names = set()
  for i in range(model.OperatorCodesLength()):
    code = model.OperatorCodes(i)
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    if builtin == schema.BuiltinOperator.CUSTOM:
      names.add((code.CustomCode() or b"?").decode("utf-8", "replace"))
  return sorted(names)


def check_builtins(data, path):
  """Raises model_lib.ModelError unless `data` uses builtin ops only.

  TensorFlow's own interpreter would run Flex ops (it links the Flex
  delegate), but a phone's or tflite-runtime's would not, so a model that
  needs them is refused wherever it is met.
  """
  names = custom_ops(data)
  if names:
    flex = [n for n in names if n.startswith("Flex")]
    raise model_lib.ModelError(
        "%s uses ops outside TFLite's builtins (%s%s): it needs %s; export "
        "the model with export_tflite.py, which uses builtin ops only" % (
            path, ", ".join(names[:5]), ", ..." if len(names) > 5 else "",
            "the Flex delegate" if flex else "custom op kernels"))


def describe(data, path):
  """(settings dict, network description dict) a deep_speech .tflite holds.

  Raises:
    model_lib.ModelError: metadata missing or not what the exporter writes.
  """
  metadata = read_metadata(data)
  missing = [n for n in (SETTINGS_METADATA, NETWORK_METADATA)
             if n not in metadata]
  if missing:
    raise model_lib.ModelError(
        "%s is a TFLite model but not one of export_tflite.py (no %s "
        "metadata)" % (path, missing[0]))
  try:
    network = json.loads(metadata[NETWORK_METADATA].decode("utf-8"))
  except ValueError as e:
    raise model_lib.ModelError("%s: its %s is not valid JSON: %s" % (
        path, NETWORK_METADATA, e)) from None
  if not isinstance(network, dict) or network.get("format") != FORMAT:
    raise model_lib.ModelError(
        "%s: %s format %r, this program reads format %d; export the model "
        "again with this version's export_tflite.py" % (
            path, NETWORK_METADATA, network.get("format") if isinstance(
                network, dict) else network, FORMAT))
  wrong = [key for key in _NETWORK_KEYS if not isinstance(
      network.get(key), list if key == "conv_shapes" else int)]
  if wrong:
    raise model_lib.ModelError("%s: its %s lacks a valid %r" % (
        path, NETWORK_METADATA, wrong[0]))
  try:
    settings = export.decode_settings(
        metadata[SETTINGS_METADATA], "%s (%s)" % (path, SETTINGS_METADATA),
        network.get("num_classes"))
  except export.SettingsError as e:
    raise model_lib.ModelError(str(e)) from None
  export.resolve_packaged(settings, os.path.dirname(os.path.abspath(path)))
  return settings, network


def default_threads():
  """The CPUs this process may run on."""
  try:
    return len(os.sched_getaffinity(0))
  except AttributeError:  # not Linux
    return os.cpu_count() or 1


class TFLiteNetwork(stream_model.BufferedNetwork):
  """A .tflite's pieces behind `stream_model.BufferedNetwork`'s buffers.

  One network serves any number of streams, each with its own
  `StreamState`; calls from several threads take turns (an interpreter
  runs one signature at a time).
  """

  def __init__(self, data, network, num_threads=None, path="<tflite>"):
    """Args:

      data: the .tflite's bytes (checked: builtins only, metadata read).
      network: its network description (`describe`).
      num_threads: the interpreter's threads (None: `default_threads`).
      path: what errors name.

    Raises:
      model_lib.ModelError: a signature missing.
    """
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    self._interpreter = tf.lite.Interpreter(
        model_content=data, num_threads=num_threads or default_threads())
    missing = sorted(set(SIGNATURES) -
                     set(self._interpreter.get_signature_list()))
    if missing:
      raise model_lib.ModelError("%s lacks the signature %s of %s" % (
          path, missing[0], ", ".join(SIGNATURES)))
    self._runners = {key: self._interpreter.get_signature_runner(key)
                     for key in SIGNATURES}
    self._block = int(network["rnn_block"])
    self._lock = threading.Lock()
    units = int(network["rnn_units"])
    super().__init__(int(network["lookahead_context"]),
                     network["conv_shapes"],
                     [[1, units]] * int(network["states"]), units,
                     int(network["num_classes"]))

  def _run(self, signature, **inputs):
    with self._lock:
      return self._runners[signature](**inputs)

  def _run_conv(self, layer, frames):
    """At most CONV_WINDOWS output windows per call."""
    _, kernel, strides = deep_speech_model.CONV_LAYERS[layer]
    count = (frames.shape[0] - kernel[0]) // strides[0] + 1
    outputs = []
    for first in range(0, count, CONV_WINDOWS):
      windows = min(CONV_WINDOWS, count - first)
      start = first * strides[0]
      end = start + (windows - 1) * strides[0] + kernel[0]
      outputs.append(self._run("conv_%d" % (layer + 1), frames=frames[
          np.newaxis, start:end])["outputs"][0])
    return np.concatenate(outputs)

  def _run_rnn(self, frames, states):
    """Blocks of `rnn_block` frames, then single frames for the rest."""
    stacked = np.concatenate(states)
    outputs = []
    start = 0
    while start < frames.shape[0]:
      size = self._block if frames.shape[0] - start >= self._block else 1
      result = self._run("rnn_block" if size > 1 else "rnn_step",
                         frames=frames[start:start + size], states=stacked)
      outputs.append(result["outputs"])
      stacked = result["states"]
      start += size
    return (np.concatenate(outputs),
            [stacked[i:i + 1] for i in range(stacked.shape[0])])

  def _run_head(self, frames):
    return self._run("head", frames=frames[np.newaxis])["probabilities"][0]


class TFLiteModel(object):
  """A .tflite export, called as `model.ExportedModel` is.

  Attributes:
    path: the .tflite file.
    settings: its featurizer `model_lib.Settings`.
    settings_file: the file the settings came from (the .tflite).
    decoder: the decoder it records (export.recorded_decoder), or None.
    network: its `TFLiteNetwork` (for streaming).
    description: its network description (`describe`).
  """

  def __init__(self, path, num_threads=1):
    """Loads and checks `path` (`num_threads`: the interpreter's; None:
    every CPU this process may use).

    Raises:
      model_lib.ModelError: not a builtins-only deep_speech .tflite.
    """
    data = read_model_file(path)
    check_builtins(data, path)
    recorded, self.description = describe(data, path)
    self.path = path
    self.settings_file = path
    self.settings = model_lib.settings_from(recorded, None)
    self.decoder = export.recorded_decoder(recorded)
    self.network = TFLiteNetwork(data, self.description, num_threads, path)

  def __call__(self, features, lengths):
    """Runs the network over each row's real frames, as a stream would.

    Args:
      features: float32 [batch, time, bins, 1].
      lengths: int32 [batch, 1], real frames of each row (>= 1).

    Returns:
      (probabilities float32 [batch, out_time, classes], lengths int
      [batch]).
    """
    rows = []
    for row, length in zip(features, np.asarray(lengths)[:, 0]):
      state = self.network.start()
      frames = np.asarray(row[:length], np.float32)
      rows.append(np.concatenate([self.network.step(state, frames),
                                  self.network.finish(state)]))
    out_lengths = np.array([r.shape[0] for r in rows], np.int32)
    probabilities = np.zeros(
        (len(rows), max(out_lengths), rows[0].shape[1]), np.float32)
    for i, r in enumerate(rows):
      probabilities[i, :r.shape[0]] = r
    return probabilities, out_lengths

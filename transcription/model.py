"""The acoustic model behind transcription: an export or a training directory.

Both give the same call: features [batch, time, bins, 1] and their lengths
[batch, 1] in, per-frame class probabilities [batch, time / 4, classes] and
output lengths [batch] out, plus the featurizer settings the model was
trained with (`Settings`).
"""

import os

import numpy as np
import tensorflow as tf

from data import featurizer
from data import text_normalization
import deep_speech_model
from training import export
from training import runtime

class Settings(object):
  """How audio and text must be prepared for a model.

  Attributes:
    features: the `featurizer.AudioFeaturizer` training used (rate,
      framing, normalization); `sample_rate`, `window_ms`, `stride_ms`,
      `normalization` and `num_feature_bins` read it.
    labels: the speech labels, in class order (blank last).
    text_policy: the `text_normalization.TextPolicy` the transcripts went
      through in training (references and LM text go through it too).
  """

  def __init__(self, features, labels, text_policy=text_normalization.DEFAULT):
    self.features = features
    self.labels = labels
    self.text_policy = text_policy

  sample_rate = property(lambda self: self.features.sample_rate)
  window_ms = property(lambda self: self.features.window_ms)
  stride_ms = property(lambda self: self.features.stride_ms)
  normalization = property(lambda self: self.features.normalization)
  num_feature_bins = property(lambda self: self.features.num_feature_bins)


class ModelError(ValueError):
  """A model that cannot be loaded (names the directory and the reason)."""


def find_saved_model(path):
  """export.find_saved_model, its errors as `ModelError`s."""
  if not os.path.isdir(path):
    raise ModelError("%s does not exist" % path)
  try:
    return export.find_saved_model(path)
  except ValueError as e:
    raise ModelError(str(e)) from None


def read_recorded_settings(directory, num_classes=None):
  """What an export, or a model_dir that exported, records about its model.

  An export carries export.EXPORT_SETTINGS_FILE in its assets.extra/; the
  training run writes the same file into the model_dir.

  Args:
    directory: the export or the model_dir.
    num_classes: the model's output classes, checked against the labels.

  Returns:
    (settings dict or None, the file read or None); see
    export.load_settings.

  Raises:
    ModelError: a settings file that is not what the exporter writes.
  """
  for path in (os.path.join(directory, "assets.extra",
                            export.EXPORT_SETTINGS_FILE),
               os.path.join(directory, export.EXPORT_SETTINGS_FILE)):
    if os.path.exists(path):
      try:
        return export.load_settings(path, num_classes), path
      except export.SettingsError as e:
        raise ModelError(str(e)) from None
  return None, None


def settings_from(recorded, fallback):
  """`Settings` from a recorded dict, else the `fallback` Settings."""
  if recorded is None:
    return fallback
  return Settings(featurizer.AudioFeaturizer.from_record(recorded),
                  recorded["speech_labels"],
                  export.recorded_text_policy(recorded))


class ExportedModel(object):
  """A SavedModel exported by deep_speech.py.

  Attributes (also of `CheckpointModel`):
    path: the export (or checkpoint) used.
    settings: its featurizer `Settings`.
    settings_file: the settings file read, or None.
    decoder: the decoder it records (export.recorded_decoder): None for a
      model that records none.
  """

  def __init__(self, saved_model, fallback_settings):
    """Loads the newest export under `saved_model`.

    Args:
      saved_model: the export or its --export_dir.
      fallback_settings: `Settings` for older exports without a settings
        file.
    """
    self.path = find_saved_model(saved_model)
    self._serve = tf.saved_model.load(self.path).signatures["serving_default"]
    num_classes = self._serve.structured_outputs["probabilities"].shape[-1]
    recorded, self.settings_file = read_recorded_settings(self.path,
                                                          num_classes)
    self.settings = settings_from(recorded, fallback_settings)
    if self.settings and len(self.settings.labels) != num_classes:
      raise ModelError("%s has %d output classes but the vocabulary %d "
                       "labels" % (self.path, num_classes,
                                   len(self.settings.labels)))
    self.decoder = export.recorded_decoder(recorded)

  def __call__(self, features, lengths):
    """Runs the model.

    Args:
      features: float32 [batch, time, bins, 1].
      lengths: int32 [batch, 1], real frames of each row.

    Returns:
      (probabilities float32 [batch, out_time, classes], lengths int [batch]).
    """
    out = self._serve(features=tf.constant(features),
                      input_length=tf.constant(lengths))
    return out["probabilities"].numpy(), out["ctc_input_length"].numpy()


def infer_params(checkpoint):
  """The model's hyper-parameters, read from a checkpoint's variables.

  A training directory records its network only in the checkpoint's variable
  names and shapes; they fix every parameter `model_fn` needs to predict.

  Returns:
    A params dict for deep_speech.model_fn (PREDICT).

  Raises:
    ModelError: the checkpoint is not a DeepSpeech2 one.
  """
  shapes = dict(tf.train.list_variables(checkpoint))
  try:
    conv_filters = shapes["cnn_1/kernel"][-1]
    num_classes = shapes["dense/kernel"][-1]
  except KeyError as e:
    raise ModelError("%s is not a DeepSpeech2 checkpoint (no variable %s)"
                     % (checkpoint, e.args[0])) from None
  cells = {"gru_cell": ("gru", 3), "lstm_cell": ("lstm", 4),
           "simple_rnn_cell": ("rnn", 1)}
  layers, rnn_type, hidden, bidirectional = set(), None, None, False
  for name, shape in shapes.items():
    parts = name.split("/")
    if not name.endswith("/recurrent_kernel"):
      continue
    bidirectional = bidirectional or parts[0].startswith("bidirectional_")
    layers.add(parts[0])
    rnn_type, gates = cells[parts[-2]]
    hidden = shape[0]
  if not layers:
    raise ModelError("%s holds no RNN layer" % checkpoint)
  # The lookahead kernel is [context + 1, features, 1].
  lookahead_context = shapes.get("lookahead/depthwise_kernel", [1])[0] - 1
  return {"num_classes": num_classes, "rnn_hidden_layers": len(layers),
          "rnn_type": rnn_type, "is_bidirectional": bidirectional,
          "rnn_hidden_size": hidden, "conv_filters": conv_filters,
          "use_bias": "dense/bias" in shapes, "learning_rate": 0.0,
          "dtype": "float32", "lookahead_context": lookahead_context}


def describe_checkpoint(checkpoint, settings_dir, fallback_settings):
  """What transcription needs to know of a checkpoint, checked.

  Args:
    checkpoint: a checkpoint prefix (a training run's, or an export's
      variables/variables).
    settings_dir: where its settings file may be (the model_dir or the
      export).
    fallback_settings: `Settings` when none are recorded.

  Returns:
    (params for deep_speech.model_fn, `Settings`, the settings file read
    or None, export.recorded_decoder's dict or None).

  Raises:
    ModelError: no settings, or settings that do not fit the checkpoint.
  """
  params = infer_params(checkpoint)
  recorded, settings_file = read_recorded_settings(
      settings_dir, params["num_classes"])
  settings = settings_from(recorded, fallback_settings)
  if settings is None:
    raise ModelError("%s records no featurizer settings" % settings_dir)
  if params["num_classes"] != len(settings.labels):
    raise ModelError("%s has %d classes but the vocabulary %d labels" % (
        checkpoint, params["num_classes"], len(settings.labels)))
  problem = runtime.checkpoint_mismatch(
      checkpoint, deep_speech_model.from_params(params),
      settings.num_feature_bins)
  if problem:
    raise ModelError("%s does not fit these feature settings (%s)"
                     % (checkpoint, problem))
  return params, settings, settings_file, export.recorded_decoder(recorded)


class CheckpointModel(object):
  """The latest checkpoint of a training directory, no export needed."""

  def __init__(self, model_dir, fallback_settings):
    """Builds the inference graph model_fn's PREDICT mode builds, restored.

    Args:
      model_dir: a --model_dir of deep_speech.py.
      fallback_settings: `Settings` when the directory records none (it
        does after an export); they must fit the checkpoint.

    Raises:
      ModelError: no checkpoint, or settings that do not fit it.
    """
    checkpoint = tf.train.latest_checkpoint(model_dir)
    if checkpoint is None:
      raise ModelError("no checkpoint in %s" % model_dir)
    self.path = checkpoint
    (params, self.settings, self.settings_file,
     self.decoder) = describe_checkpoint(checkpoint, model_dir,
                                         fallback_settings)
    self._graph = tf.Graph()
    with self._graph.as_default():
      self._features = tf.compat.v1.placeholder(
          tf.float32, [None, None, self.settings.num_feature_bins, 1])
      self._lengths = tf.compat.v1.placeholder(tf.int32, [None, 1])
      logits = deep_speech_model.from_params(params)(self._features,
                                                     training=False)
      predictions = deep_speech_model.predictions(
          self._features, self._lengths, logits)
      self._outputs = (predictions["probabilities"],
                       predictions["ctc_input_length"])
      self._session = tf.compat.v1.Session(graph=self._graph)
      tf.compat.v1.train.Saver().restore(self._session, checkpoint)

  def __call__(self, features, lengths):
    """As `ExportedModel.__call__`."""
    probabilities, out_lengths = self._session.run(
        self._outputs, {self._features: features, self._lengths: lengths})
    return probabilities, np.asarray(out_lengths)

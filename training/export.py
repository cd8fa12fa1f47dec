"""The export contract: what deep_speech.py writes and transcribe.py reads.

An export is a SavedModel (serving signature: "features" float32
[batch, time, bins, 1] and "input_length" int32 [batch, 1] in;
"probabilities" [batch, time / 4, num_classes] and "ctc_input_length"
[batch] out) plus, in its assets.extra/, a JSON file of the featurizer
settings and the vocabulary, so that transcription featurizes audio exactly
as training did.
"""

import functools
import json
import os

import tensorflow as tf

from data import atomic_file

# Featurizer settings and vocabulary saved in the export's assets.extra/.
EXPORT_SETTINGS_FILE = "deep_speech_features.json"


def serving_input_receiver_fn(num_feature_bins=161):
  """Serving inputs: spectrogram features and their real lengths.

  Returns:
    A `ServingInputReceiver` taking "features" float32 [batch, time, bins, 1]
    and "input_length" int32 [batch, 1].
  """
  inputs = {
      "features": tf.compat.v1.placeholder(
          tf.float32, [None, None, num_feature_bins, 1], name="features"),
      "input_length": tf.compat.v1.placeholder(
          tf.int32, [None, 1], name="input_length"),
  }
  return tf.estimator.export.ServingInputReceiver(inputs, inputs)


def export_model(model_fn, model_dir, run_config, params, export_dir,
                 settings, num_feature_bins, checkpoint_path=None):
  """Exports the latest (or the given) checkpoint as a SavedModel.

  Args:
    model_fn: the Estimator model function.
    model_dir: the training directory.
    run_config: the run's `tf.estimator.RunConfig`.
    params: model_fn's params; the export is built in float32 whatever the
      training dtype: a float32 serving graph runs on any machine (bfloat16
      needs AVX512 on a CPU, and float16 is slow there).
    export_dir: where the timestamped export directory goes.
    settings: a dict of featurizer settings and "speech_labels", saved in the
      export's assets.extra/.
    num_feature_bins: spectrogram bins of the input.
    checkpoint_path: the checkpoint to export (default: the latest).

  Returns:
    The export's directory.
  """
  settings_path = os.path.join(model_dir, EXPORT_SETTINGS_FILE)
  atomic_file.write_json(settings_path, settings)
  exporter = tf.estimator.Estimator(
      model_fn=model_fn, model_dir=model_dir, config=run_config,
      params=dict(params, dtype="float32"))
  path = exporter.export_saved_model(
      export_dir,
      functools.partial(serving_input_receiver_fn, num_feature_bins),
      assets_extra={EXPORT_SETTINGS_FILE: settings_path},
      checkpoint_path=checkpoint_path)
  return path.decode() if isinstance(path, bytes) else path


def find_saved_model(path):
  """The export directory itself, or the newest timestamped one under it."""
  if os.path.exists(os.path.join(path, "saved_model.pb")):
    return path
  exports = sorted(
      d for d in os.listdir(path)
      if d.isdigit() and os.path.exists(os.path.join(path, d,
                                                     "saved_model.pb")))
  if not exports:
    raise ValueError("no SavedModel in %s (expected saved_model.pb or "
                     "timestamped exports from deep_speech.py --export_dir)"
                     % path)
  return os.path.join(path, exports[-1])


def read_export_settings(saved_model):
  """The settings an export carries, or None for an export without them.

  Args:
    saved_model: the export directory (as from `find_saved_model`).
  """
  path = os.path.join(saved_model, "assets.extra", EXPORT_SETTINGS_FILE)
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return json.load(f)

"""The export contract: what deep_speech.py writes and transcribe.py reads.

An export is a SavedModel (serving signature: "features" float32
[batch, time, bins, 1] and "input_length" int32 [batch, 1] in;
"probabilities" [batch, time / 4, num_classes] and "ctc_input_length"
[batch] out) plus, in its assets.extra/, a JSON file of the featurizer
settings and the vocabulary, so that transcription featurizes audio exactly
as training did, and the decoder the training evaluated with.

The settings file (EXPORT_SETTINGS_FILE, JSON) holds:
  "sample_rate", "window_ms", "stride_ms": the featurizer's settings;
  "speech_labels": the vocabulary as one string, blank last;
  "best_step", "best_WER", "best_decoder": with --export_best, the
    exported checkpoint's step, WER and the label of the decoder that gave
    it (the configured one: "greedy", "beam+LM", ...);
  "decoder": "greedy" or "beam"; "beam_width" (int), "alpha", "beta"
    (floats): the beam search's settings;
  "lm_path", "lexicon": the LM and lexicon files, copied into
    assets.extra/ and named relative to it in the file (None when not used).
`read_export_settings` returns these with "lm_path" and "lexicon" as
absolute paths; `decoder_args` turns them into `decoder.make_decoder`'s
arguments (greedy for an export written before the decoder keys existed).
"""

import functools
import json
import os

import tensorflow as tf

from data import atomic_file
from training import checkpoints

# Featurizer settings and vocabulary saved in the export's assets.extra/.
EXPORT_SETTINGS_FILE = "deep_speech_features.json"
# The decoder keys of the settings, and their values for older exports.
DECODER_DEFAULTS = {"decoder": "greedy", "beam_width": 100, "alpha": 0.0,
                    "beta": 0.0, "lm_path": None, "lexicon": None}
# Names of the copied LM and lexicon files in assets.extra/ (prefixed, so
# the two can never collide with each other or the settings file).
_PACKAGED_PREFIX = {"lm_path": "lm-", "lexicon": "lexicon-"}


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
                 settings, num_feature_bins, checkpoint_path=None,
                 extra_files=None):
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
    extra_files: a dict of name in assets.extra/ -> file to copy there
      (copied by TensorFlow's file copy, never read into memory).

  Returns:
    The export's directory.
  """
  settings_path = write_settings(model_dir, settings)
  exporter = tf.estimator.Estimator(
      model_fn=model_fn, model_dir=model_dir, config=run_config,
      params=dict(params, dtype="float32"))
  path = exporter.export_saved_model(
      export_dir,
      functools.partial(serving_input_receiver_fn, num_feature_bins),
      assets_extra=dict(extra_files or {},
                        **{EXPORT_SETTINGS_FILE: settings_path}),
      checkpoint_path=checkpoint_path)
  return path.decode() if isinstance(path, bytes) else path


def write_settings(model_dir, settings):
  """Writes the featurizer settings beside the checkpoints; returns the path.

  The training run writes them at its start, so that `transcribe.py
  --model_dir` featurizes as training did before any export exists; an
  export packages the same file.
  """
  path = os.path.join(model_dir, EXPORT_SETTINGS_FILE)
  atomic_file.write_json(path, settings)
  return path


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
  folder = os.path.join(saved_model, "assets.extra")
  path = os.path.join(folder, EXPORT_SETTINGS_FILE)
  if not os.path.exists(path):
    return None
  with open(path) as f:
    settings = json.load(f)
  for key in _PACKAGED_PREFIX:
    if settings.get(key):
      settings[key] = os.path.join(folder, settings[key])
  return settings


def decoder_args(settings):
  """`decoder.make_decoder`'s arguments ("kind" included) from settings.

  Args:
    settings: `read_export_settings`' dict (or None); missing decoder keys
      (an export older than them) take DECODER_DEFAULTS: greedy.
  """
  values = dict(DECODER_DEFAULTS)
  values.update((k, v) for k, v in (settings or {}).items()
                if k in DECODER_DEFAULTS)
  return {"kind": values["decoder"], "beam_width": values["beam_width"],
          "lm_path": values["lm_path"], "alpha": values["alpha"],
          "beta": values["beta"], "lexicon": values["lexicon"]}


def decoder_settings(args):
  """The settings' decoder keys and the files to package, from arguments.

  Args:
    args: `decoder.make_decoder`'s arguments with "kind" (None: greedy).

  Returns:
    (the decoder keys for the settings file, {name in assets.extra/: file
    to copy}).
  """
  args = dict(decoder_args(None), **(args or {}))
  settings = {"decoder": args["kind"], "beam_width": int(args["beam_width"]),
              "alpha": float(args["alpha"]), "beta": float(args["beta"])}
  files = {}
  for key, prefix in _PACKAGED_PREFIX.items():
    settings[key] = None
    if args[key]:
      settings[key] = prefix + os.path.basename(args[key])
      files[settings[key]] = args[key]
  return settings, files


def export_run(model_fn, model_dir, run_config, params, export_dir,
               settings, num_feature_bins, export_best=True,
               decoder_arguments=None):
  """Exports a training run: its best (or latest) checkpoint, and decoder.

  Args:
    model_fn, model_dir, run_config, params, export_dir, num_feature_bins:
      as for `export_model`.
    settings: the featurizer settings and "speech_labels".
    export_best: export the best checkpoint kept in `<model_dir>/best/`
      (its step and WER go into the settings); the latest when none is kept.
    decoder_arguments: the run's `decoder.make_decoder` arguments with
      "kind"; an LM and lexicon are copied into the export.

  Returns:
    The export's directory.
  """
  best, best_record = (checkpoints.best_checkpoint(model_dir)
                       if export_best else (None, None))
  settings = dict(settings)
  if best:
    settings.update(best_step=best_record["step"],
                    best_WER=best_record["WER"],
                    best_decoder=best_record["decoder"])
  decoding, files = decoder_settings(decoder_arguments)
  settings.update(decoding)
  return export_model(model_fn, model_dir, run_config, params, export_dir,
                      settings, num_feature_bins, checkpoint_path=best,
                      extra_files=files)

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
  "feature_normalization": how features are normalized per bin, one of
    featurizer.NORMALIZATIONS (optional; absent: "utterance", the seed's);
  "best_step", "best_WER", "best_decoder": with --export_best, the
    exported checkpoint's step, WER and the label of the decoder that gave
    it (the configured one: "greedy", "beam+LM", ...);
  "decoder": "greedy" or "beam"; "beam_width" (int), "alpha", "beta"
    (floats): the beam search's settings;
  "lm_path", "lexicon": the LM and lexicon files, copied into
    assets.extra/ and named relative to it in the file (None when not used);
  "text_policy": how transcripts became labels
    (data/text_normalization.TextPolicy.to_dict); an export without it was
    trained with the default policy.
`load_settings` is the one reader of the file: it checks every key's type
(and, given the model's class count, the number of labels), returns
"lm_path" and "lexicon" resolved against the file's folder, and raises a
`SettingsError` naming the file. `recorded_decoder` turns the result into
`decoder.make_decoder`'s arguments (None for an export written before the
decoder keys existed: nothing is recorded), and `recorded_text_policy` into
the `TextPolicy`.
"""

import functools
import json
import math
import os

import tensorflow as tf

from common import atomic_file
from data import featurizer
from data import text_normalization
import decoder
from training import checkpoints

# Featurizer settings and vocabulary saved in the export's assets.extra/.
EXPORT_SETTINGS_FILE = "deep_speech_features.json"
# The settings file's keys and the JSON types each may hold: the featurizer
# keys are required, the rest optional (older exports lack them).
_REQUIRED = {"sample_rate": (int,), "window_ms": (int, float),
             "stride_ms": (int, float), "speech_labels": (str,)}
_OPTIONAL = {"best_step": (int,), "best_WER": (int, float),
             "best_decoder": (str,), "decoder": (str,), "beam_width": (int,),
             "alpha": (int, float), "beta": (int, float),
             "lm_path": (str, type(None)), "lexicon": (str, type(None)),
             "feature_normalization": (str,), "text_policy": (dict,)}
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


class SettingsError(ValueError):
  """A settings file that is not what the exporter writes (names the file)."""


def _check_types(settings, path):
  """Raises SettingsError unless `settings` holds the keys, each well typed."""
  if not isinstance(settings, dict):
    raise SettingsError("%s: the settings must be a JSON object, not %s"
                        % (path, type(settings).__name__))
  missing = [key for key in _REQUIRED if key not in settings]
  if missing:
    raise SettingsError("%s: missing key%s %s" % (
        path, "s" * (len(missing) > 1), ", ".join(missing)))
  for key, types in list(_REQUIRED.items()) + list(_OPTIONAL.items()):
    value = settings.get(key)
    if key in settings and (isinstance(value, bool) or
                            not isinstance(value, types)):
      raise SettingsError("%s: %s must be %s, not %r" % (
          path, key, " or ".join("null" if t is type(None) else t.__name__
                                 for t in types), value))
  for key, value in settings.items():
    if isinstance(value, float) and not math.isfinite(value):
      raise SettingsError("%s: %s must be a finite number" % (path, key))
  positive = [key for key in ("sample_rate", "window_ms", "stride_ms",
                              "beam_width")
              if key in settings and not settings[key] > 0]
  if positive:
    raise SettingsError("%s: %s must be positive" % (path, positive[0]))


def load_settings(path, num_classes=None):
  """Reads and checks a settings file (an export's, or a model_dir's copy).

  Args:
    path: the settings file (EXPORT_SETTINGS_FILE).
    num_classes: the model's output classes; the labels must match them
      (one label per class, the blank last), or None to skip the check.

  Returns:
    The settings dict, "lm_path" and "lexicon" resolved against the file's
    folder (absolute names stay).

  Raises:
    SettingsError: unreadable, not JSON, a missing key, a value of the wrong
      type, an unknown decoder, repeated labels, or a label count other than
      `num_classes` (naming the file).
  """
  try:
    with open(path, "rb") as f:
      data = f.read()
  except OSError as e:
    raise SettingsError("cannot read the settings file %s: %s"
                        % (path, e.strerror or e)) from None
  settings = decode_settings(data, path, num_classes)
  # Resolved once, here, against an absolute folder: a relative export path
  # joined again later would name the file twice.
  return resolve_packaged(settings, os.path.dirname(os.path.abspath(path)))


def decode_settings(data, path, num_classes=None):
  """`load_settings` on the file's bytes, its packaged files unresolved.

  Args:
    data: the settings file's bytes (also as a TFLite model carries them).
    path: what the errors name.
    num_classes: as for `load_settings`.

  Raises:
    SettingsError: see `load_settings`.
  """
  try:
    settings = json.loads(data.decode("utf-8"))
  except (ValueError, RecursionError) as e:  # bad UTF-8 is a ValueError too
    raise SettingsError("%s is not valid JSON: %s" % (path, e)) from None
  _check_types(settings, path)
  labels = settings["speech_labels"]
  if len(labels) < 2 or len(set(labels)) != len(labels):
    raise SettingsError("%s: speech_labels must be two or more distinct "
                        "characters, blank last; got %r" % (path, labels))
  if num_classes is not None and len(labels) != num_classes:
    raise SettingsError(
        "%s: %d speech labels, but the model has %d output classes; the "
        "settings belong to another model" % (path, len(labels), num_classes))
  if settings.get("feature_normalization",
                  "utterance") not in featurizer.NORMALIZATIONS:
    raise SettingsError("%s: unknown feature_normalization %r (expected %s)"
                        % (path, settings["feature_normalization"],
                           ", ".join(featurizer.NORMALIZATIONS)))
  try:
    recorded_text_policy(settings)
  except text_normalization.TextPolicyError as e:
    raise SettingsError("%s: text_policy: %s" % (path, e)) from None
  if settings.get("decoder", "greedy") not in decoder.DECODERS:
    raise SettingsError("%s: unknown decoder %r (expected %s)" % (
        path, settings["decoder"], ", ".join(decoder.DECODERS)))
  return settings


def resolve_packaged(settings, folder):
  """`settings` with "lm_path" and "lexicon" joined to `folder` (absolute
  names stay); returns the dict, changed in place."""
  for key in _PACKAGED_PREFIX:
    if settings.get(key):
      settings[key] = os.path.join(folder, settings[key])
  return settings


def read_export_settings(saved_model, num_classes=None):
  """The settings an export carries, or None for an export without them.

  Args:
    saved_model: the export directory (as from `find_saved_model`).
    num_classes: as for `load_settings`.

  Raises:
    SettingsError: see `load_settings`.
  """
  path = os.path.join(saved_model, "assets.extra", EXPORT_SETTINGS_FILE)
  if not os.path.exists(path):
    return None
  return load_settings(path, num_classes)


def recorded_decoder(settings):
  """The decoder the settings record, as `decoder.make_decoder`'s arguments.

  The one reader of an export's decoder keys.

  Args:
    settings: `load_settings`' dict (paths already resolved), or None.

  Returns:
    A dict with "kind" and the beam's settings (decoder.DEFAULTS filling the
    keys not recorded), or None when the settings record no decoder (an
    export older than the decoder keys, or a model_dir before its export).
  """
  if not settings or "decoder" not in settings:
    return None
  values = dict(decoder.DEFAULTS, kind=settings["decoder"])
  values.update((key, settings[key]) for key in decoder.DEFAULTS
                if key != "kind" and settings.get(key) is not None)
  return values


def recorded_text_policy(settings):
  """The `TextPolicy` the settings record; the default for settings (or an
  export) older than the key, or None settings.

  Raises:
    text_normalization.TextPolicyError: a recorded policy that is none.
  """
  if not settings or "text_policy" not in settings:
    return text_normalization.DEFAULT
  return text_normalization.TextPolicy.from_dict(settings["text_policy"])


def decoder_settings(args):
  """The settings' decoder keys and the files to package, from arguments.

  Args:
    args: `decoder.make_decoder`'s arguments with "kind" (None: greedy).

  Returns:
    (the decoder keys for the settings file, {name in assets.extra/: file
    to copy}).
  """
  args = dict(decoder.DEFAULTS, **(args or {}))
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

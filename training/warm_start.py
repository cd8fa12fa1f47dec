"""--warm_start_from, --warm_start_exclude: the flags to the Estimator's
`WarmStartSettings`, with the checks and messages in flag terms.

What a warm start takes from a source, and how a new vocabulary's output
layer is remapped, is training/fine_tune.py's (plain arguments); this module
only reads the flags, checks them against the run and says what it does.
"""

from absl import logging
import tensorflow as tf

from training import export
from training import fine_tune
from training import runtime


def warm_start_settings(flags_obj, model, train_speech_dataset):
  """The Estimator's `WarmStartSettings` from --warm_start_from, or None.

  None too when --model_dir has a checkpoint: the run resumes from it (the
  Estimator would skip the warm start then as well; this says so).

  Args:
    flags_obj: the flags.
    model: the network of this run (deep_speech_model.from_params(params)).
    train_speech_dataset: the training `DeepSpeechDataset` (features and
      vocabulary of this run).

  Raises:
    ValueError: in flag terms: a bad source or --warm_start_exclude, other
      featurizer settings than the source's, or a model that does not fit.
  """
  path = flags_obj.warm_start_from
  if not path:
    if flags_obj.warm_start_exclude:
      raise ValueError("--warm_start_exclude needs --warm_start_from")
    return None
  resumed = tf.train.latest_checkpoint(flags_obj.model_dir)
  if resumed:
    logging.info("--warm_start_from not applied: %s has its own checkpoint "
                 "(%s); resuming from it.", flags_obj.model_dir, resumed)
    return None
  try:
    (exclude,) = fine_tune.compile_patterns(
        [flags_obj.warm_start_exclude or "(?!)"])
  except ValueError as e:
    raise ValueError("--warm_start_exclude: %s" % e) from None
  try:
    source = fine_tune.find_source(path)
    source_settings = fine_tune.read_settings(source)
  except ValueError as e:
    raise ValueError("--warm_start_from: %s" % e) from None
  labels = train_speech_dataset.speech_labels
  _check_source_features(
      source, source_settings,
      train_speech_dataset.config.audio_config.to_record())
  bins = train_speech_dataset.num_feature_bins
  try:
    plan = fine_tune.plan(
        source.checkpoint, model, bins,
        source_settings and source_settings["speech_labels"], labels, exclude)
  except runtime.CheckpointMismatchError as e:
    raise ValueError(
        "--warm_start_from: %s. Use the model flags the source was trained "
        "with (--rnn_hidden_size, --rnn_hidden_layers, --rnn_type, "
        "--is_bidirectional, --use_bias, --conv_filters), or leave the "
        "variable out with --warm_start_exclude" % e) from None
  _log_plan(source, plan, source_settings, labels, flags_obj.vocabulary_file)
  label_files = None
  if plan.remapped:
    label_files = fine_tune.write_label_files(
        flags_obj.model_dir, source_settings["speech_labels"], labels)
  return fine_tune.warm_start_settings(source.checkpoint, plan, label_files)


def _check_source_features(source, source_settings, settings):
  """ValueError when the source's features were computed otherwise."""
  if source_settings is None:
    logging.warning(
        "--warm_start_from: no %s beside %s: cannot check that --sample_rate, "
        "--window_ms and --stride_ms are the source's.",
        export.EXPORT_SETTINGS_FILE, source.checkpoint)
    return
  differences = fine_tune.featurizer_differences(source_settings, settings)
  if differences:
    raise ValueError(
        "--warm_start_from: the source was trained on features with %s (%s); "
        "this run has %s. Its weights fit only those features: pass the "
        "same flags" % (
            ", ".join("--%s=%g" % (k, float(theirs))
                      for k, theirs, _ in differences),
            source.settings_path,
            ", ".join("--%s=%g" % (k, float(ours))
                      for k, _, ours in differences)))


def _log_plan(source, plan, source_settings, labels, vocabulary_file):
  """One line for a new vocabulary's output layer, one for what is taken."""
  shapes = lambda items: ", ".join("%s %s -> %s" % item for item in items)
  if plan.remapped:
    source_labels = source_settings["speech_labels"]
    logging.info(
        "Warm start: the output layer is remapped to --vocabulary_file=%s "
        "(%d labels): %s keeps the columns of the %d labels the source has "
        "too (blank included), new labels %r start at zero; %s starts "
        "afresh.", vocabulary_file, len(labels), shapes(plan.remapped),
        fine_tune.shared_labels(source_labels, labels),
        "".join(sorted(set(labels[:-1]) - set(source_labels))),
        shapes(plan.dropped) or "nothing else")
  elif plan.dropped:
    logging.info(
        "Warm start: the output layer is not taken (%s): the source records "
        "no vocabulary and its class count is not that of "
        "--vocabulary_file=%s (%d labels); it starts afresh.",
        shapes(plan.dropped), vocabulary_file, len(labels))
  logging.info(
      "Warm start from %s (%s): %d variables taken%s; the global step and "
      "the optimizer start afresh.", source.checkpoint, source.kind,
      len(plan.variables) + len(plan.remapped),
      "; left out by --warm_start_exclude: " + ", ".join(plan.excluded)
      if plan.excluded else "")

"""Flag values -> the plain arguments of each part of a run.

The CLI's flags are defined in training/flags.py; here they become the
arguments of the data, model, Estimator, augmentation and decoder code, and
the checks whose errors name flags. Only deep_speech.py's entry functions
call these; nothing below training/ sees a flag.
"""

import collections
import functools

from absl import logging
import tensorflow as tf

from common import cpu
from data import augment as augment_lib
from data import dataset
from data import featurizer
from data import sampler
from data import text_flags
from decoding import flags as decoder_flags
import deep_speech_model
from official_utils.flags import core as flags_core
from official_utils.logs import hooks_helper
from official_utils.logs import logger
from official_utils.misc import distribution_utils
from training import checkpoints
from training import cycles
from training import evaluation
from training import fine_tune
from training import inputs
from training import runtime
from training import summaries
from training import warm_start
from training import wave_settings

def audio_features(flags_obj):
  """The run's `featurizer.AudioFeaturizer`, from the flags."""
  return featurizer.AudioFeaturizer(
      flags_obj.sample_rate, window_ms=flags_obj.window_ms,
      stride_ms=flags_obj.stride_ms,
      normalization=flags_obj.feature_normalization)


def data_args(flags_obj):
  """`inputs.generate_dataset`'s arguments, from the flags."""
  return dict(features=audio_features(flags_obj),
              vocabulary_file=flags_obj.vocabulary_file,
              sortagrad=flags_obj.sortagrad,
              max_audio_sec=flags_obj.max_audio_sec,
              strict=flags_obj.strict_data,
              text_policy=text_flags.text_policy(flags_obj))


def feature_settings(flags_obj, speech_labels):
  """The export's featurizer settings, vocabulary and text policy."""
  return dict(audio_features(flags_obj).to_record(),
              speech_labels=speech_labels,
              text_policy=text_flags.text_policy(flags_obj).to_dict())


def run_config(flags_obj, strategy, session_config):
  """The Estimator's `RunConfig`: seed and checkpoint cadence."""
  return tf.estimator.RunConfig(
      train_distribute=strategy, session_config=session_config,
      tf_random_seed=flags_obj.seed,
      save_checkpoints_steps=flags_obj.save_checkpoints_steps,
      save_checkpoints_secs=(None if flags_obj.save_checkpoints_steps
                             else 600),
      keep_checkpoint_max=flags_obj.keep_checkpoint_max,
      log_step_count_steps=flags_obj.log_every_n_steps)


def augmentation(flags_obj):
  """The training augmentation (`augment.Chain`), from the flags."""
  try:
    warp = augment_lib.Warp(flags_obj.tempo_warp, flags_obj.freq_warp,
                            flags_obj.seed)
  except ValueError as e:
    raise ValueError("--tempo_warp, --freq_warp: %s" % e) from None
  return augment_lib.Chain(
      warp, augment_lib.SpecAugment(flags_obj.freq_mask, flags_obj.time_mask,
                                    flags_obj.seed))


def pipeline_args(flags_obj):
  """`dataset.input_fn`'s pipeline options, from the flags."""
  return dict(num_parallel_calls=flags_obj.num_parallel_calls,
              feature_cache_dir=flags_obj.feature_cache_dir)


def eval_input_fn(flags_obj, batch_size, speech_dataset):
  """An evaluation set's input function (per-replica batch_size)."""
  return functools.partial(dataset.input_fn, batch_size, speech_dataset,
                           **pipeline_args(flags_obj))


def extra_eval_datasets(flags_obj, *known_datasets):
  """--extra_eval_data_dir's sets: (name, `DeepSpeechDataset`) pairs.

  Read and checked now, before training, like --eval_data_dir: a bad
  manifest stops the run before its first step. `known_datasets` (the
  training and dev sets) are reused for a manifest they already read.

  Raises:
    ValueError: in flag terms, naming the value and the file.
  """
  specs = flags_obj.extra_eval_data_dir or []
  try:
    return inputs.load_extra_sets(specs, known_datasets,
                                  evaluation.TAKEN_SET_NAMES,
                                  **data_args(flags_obj))
  except ValueError as e:  # ManifestError and DataError included
    raise ValueError("--extra_eval_data_dir=%s" % e) from None


def eval_sets(flags_obj, batch_size, named_datasets):
  """`evaluation.EvalSet`s of `extra_eval_datasets`' pairs."""
  return [evaluation.EvalSet(name, speech,
                             eval_input_fn(flags_obj, batch_size, speech))
          for name, speech in named_datasets]


def fingerprint_args(flags_obj, train_entries, num_replicas):
  """`cycles.fingerprint`'s arguments: what fixes a run's batches."""
  return dict(train_entries=train_entries, batch_size=flags_obj.batch_size,
              num_replicas=num_replicas,
              epochs_between_evals=flags_obj.epochs_between_evals,
              sortagrad=flags_obj.sortagrad, seed=flags_obj.seed,
              length_buckets=flags_obj.length_buckets)


def check_before_training(flags_obj, params, model, num_feature_bins,
                          checkpoint=None):
  """Stops with a message in flag terms before anything would fail later.

  Args:
    flags_obj: the flags.
    params: model_fn's params (`model_params`).
    model: the network they describe (deep_speech_model.from_params(params)).
    num_feature_bins: spectrogram bins of the input.
    checkpoint: a checkpoint prefix to check instead of --model_dir's
      latest (--eval_only).
  """
  try:
    runtime.check_dtype(params["dtype"])
  except ValueError as e:
    raise ValueError("--dtype=%s: %s. Use --dtype=fp32." % (
        flags_obj.dtype, e)) from None
  emulated = params["dtype"] == "bfloat16" and cpu.bfloat16_emulation_warning()
  if emulated:
    logging.warning("--dtype=bf16: %s Use --dtype=fp32 for speed.", emulated)
  _check_trainable_scopes(flags_obj.trainable_scopes, model,
                          num_feature_bins)
  try:
    runtime.check_model_dir(flags_obj.model_dir, model, num_feature_bins,
                            checkpoint)
  except runtime.CheckpointMismatchError as e:
    raise ValueError(
        "%s. Use the flags it was trained with (--rnn_hidden_size, "
        "--rnn_hidden_layers, --rnn_type, --is_bidirectional, --use_bias, "
        "--conv_filters, --lookahead_context, --window_ms, --sample_rate), "
        "or another --model_dir." % e) from None


def _check_trainable_scopes(scopes, model, num_feature_bins):
  """ValueError unless each --trainable_scopes regex matches a variable."""
  if not scopes:
    return
  try:
    fine_tune.compile_patterns(scopes)
  except ValueError as e:
    raise ValueError("--trainable_scopes: %s" % e) from None
  names = list(runtime.variable_shapes(model, num_feature_bins))
  unmatched = fine_tune.unmatched_scope(scopes, names)
  if unmatched is not None:
    layers = sorted(set(name.split("/")[0] for name in names))
    raise ValueError(
        "--trainable_scopes: %r matches no variable of this model (its "
        "layers: %s)" % (unmatched, ", ".join(layers)))


def checkpoint_to_evaluate(flags_obj):
  """--eval_only's checkpoint: --checkpoint_path, or --model_dir's newest.

  Damaged checkpoints are logged and passed over, never moved (a training
  run may own the directory).
  """
  try:
    chosen = checkpoints.choose_for_reading(
        flags_obj.checkpoint_path or flags_obj.model_dir)
  except checkpoints.NoCheckpointError as e:
    raise ValueError("--eval_only: %s (see --checkpoint_path, --model_dir)"
                     % e) from None
  for path, problem in chosen.damaged:
    logging.warning("Passing over damaged checkpoint %s: %s", path, problem)
  return chosen.latest


def model_params(flags_obj, num_classes):
  """model_fn's params, from the flags."""
  try:
    loss_scale = runtime.parse_loss_scale(flags_obj.loss_scale)
  except ValueError as e:
    raise ValueError("--loss_scale: %s" % e) from None
  return {
      "num_classes": num_classes,
      "rnn_hidden_layers": flags_obj.rnn_hidden_layers,
      "rnn_type": flags_obj.rnn_type,
      "is_bidirectional": flags_obj.is_bidirectional,
      "rnn_hidden_size": flags_obj.rnn_hidden_size,
      "conv_filters": flags_obj.conv_filters,
      "lookahead_context": flags_obj.lookahead_context,
      "use_bias": flags_obj.use_bias,
      "learning_rate": flags_obj.learning_rate,
      "learning_rate_decay_steps": flags_obj.learning_rate_decay_steps,
      "learning_rate_decay_rate": flags_obj.learning_rate_decay_rate,
      "dtype": flags_core.DTYPE_MAP[flags_obj.dtype],
      "loss_scale": loss_scale,
      "trainable_scopes": flags_obj.trainable_scopes or None,
  }


def decoder_args(flags_obj):
  """`decoder.make_decoder`'s arguments (kind included), from the flags.

  decoding/flags.py's `decoder_options`: the one precedence rule of the
  three CLIs (a training run has no recorded decoder).

  Raises:
    ValueError: in flag terms: an unreadable settings file, a missing LM or
      lexicon file, or an LM or lexicon with --decoder=greedy.
  """
  return decoder_flags.decoder_options(flags_obj)


# What the cycles of one run share: the Estimator, its params, the batch
# layout, the input functions and the hooks.
Run = collections.namedtuple("Run", [
    "estimator", "params", "num_replicas", "per_device_batch_size",
    "boundaries", "make_input_fn", "input_fn_eval", "train_hooks",
    "fingerprint", "decoders", "decoder_kind", "model_dir", "multi_worker",
    "order", "show_samples"])

# What fixes each epoch's order (data/sampler.py's epoch_entries).
Order = collections.namedtuple("Order", ["sortagrad", "seed", "length_buckets"])


def setup_run(flags_obj, role, model_fn, train_speech_dataset,
              eval_speech_dataset, decoders):
  """The Estimator and the rest of a `Run`, from the flags.

  Args:
    flags_obj: the flags.
    role: the TF_CONFIG cluster role, or None on one machine.
    model_fn: deep_speech.model_fn.
    train_speech_dataset: the training `DeepSpeechDataset`.
    eval_speech_dataset: the evaluation `DeepSpeechDataset`.
    decoders: `evaluation.make_decoders`' dict.
  """
  strategy, session_config, num_replicas = runtime.distribution(
      role, flags_core.get_num_gpus(flags_obj), flags_obj.num_cpu_replicas)
  per_device_batch_size = distribution_utils.per_device_batch_size(
      flags_obj.batch_size, num_replicas)
  config = run_config(flags_obj, strategy, session_config)
  params = model_params(flags_obj, len(train_speech_dataset.speech_labels))
  check_before_training(flags_obj, params,
                        deep_speech_model.from_params(params),
                        train_speech_dataset.num_feature_bins)
  estimator = tf.estimator.Estimator(
      model_fn=model_fn, model_dir=flags_obj.model_dir, config=config,
      params=params,
      warm_start_from=warm_start.warm_start_settings(
          flags_obj, deep_speech_model.from_params(params),
          train_speech_dataset))
  logger.get_benchmark_logger().log_run_info(
      "deep_speech", "LibriSpeech",
      dict(params, batch_size=flags_obj.batch_size,
           train_epochs=flags_obj.train_epochs),
      test_id=flags_obj.benchmark_test_id)

  pipeline = pipeline_args(flags_obj)
  boundaries = sampler.bucket_boundaries(train_speech_dataset.entries,
                                         flags_obj.length_buckets)
  augment = augmentation(flags_obj)
  wave = wave_settings.wave_augmentation(flags_obj, train_speech_dataset)
  train_hooks = hooks_helper.get_train_hooks(
      flags_obj.hooks, model_dir=flags_obj.model_dir,
      batch_size=flags_obj.batch_size)
  if role is None or role.is_chief:
    # examples/s in TensorBoard, beside the Estimator's global_step/sec.
    train_hooks.append(summaries.ExamplesPerSecondSummaryHook(
        flags_obj.batch_size, flags_obj.model_dir,
        every_n_steps=flags_obj.log_every_n_steps))
  return Run(
      estimator, params, num_replicas, per_device_batch_size, boundaries,
      functools.partial(inputs.train_input_fn, train_speech_dataset,
                        per_device_batch_size, num_replicas, boundaries,
                        augment, wave_augment=wave, **pipeline),
      eval_input_fn(flags_obj, per_device_batch_size, eval_speech_dataset),
      train_hooks,
      cycles.fingerprint(**fingerprint_args(
          flags_obj, len(train_speech_dataset.entries), num_replicas)),
      # The configured decoder comes last (greedy when it is the only one).
      decoders, list(decoders)[-1], flags_obj.model_dir, role is not None,
      Order(flags_obj.sortagrad, flags_obj.seed, flags_obj.length_buckets),
      flags_obj.show_samples)

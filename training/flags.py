"""The flags this port adds to deep_speech.py, and flag values -> arguments.

The original's flags (and their defaults) are defined in deep_speech.py; these
are the port's additions: model size and learning-rate schedule, data
checks, checkpoints, the feature cache, batching, augmentation, and the
decoders and evaluation-only runs.
"""

import os

from absl import flags
from absl import logging
import tensorflow as tf

from data import augment as augment_lib
from data import vocabulary
import decoder
import deep_speech_model
from official_utils.flags import core as flags_core
from training import checkpoints
from training import cpu
from training import runtime

# --dtype -> the model's compute dtype.
DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}


def define_deep_speech_flags():
  """Add flags for run_deep_speech."""
  # Add common flags
  flags_core.define_base(data_dir=False)
  flags_core.define_performance(num_parallel_calls=True, dtype=True,
                                loss_scale=True)
  flags_core.define_benchmark()
  flags.adopt_module_key_flags(flags_core)

  flags_core.set_defaults(
      model_dir="/tmp/deep_speech_model/",
      export_dir="/tmp/deep_speech_saved_model/",
      train_epochs=200,
      batch_size=128,
      hooks="")

  # Deep speech flags
  flags.DEFINE_integer(
      name="seed", default=1,
      help=flags_core.help_wrap("The random seed: weights, shuffling and "
                                "dropout; the same seed on the same machine "
                                "gives the same run."))
  flags.DEFINE_string(
      name="train_data_dir",
      default="/tmp/librispeech_data/test-clean/LibriSpeech/test-clean.csv",
      help=flags_core.help_wrap("The csv file path of train dataset."))
  flags.DEFINE_string(
      name="eval_data_dir",
      default="/tmp/librispeech_data/test-clean/LibriSpeech/test-clean.csv",
      help=flags_core.help_wrap("The csv file path of evaluation dataset."))
  flags.DEFINE_bool(
      name="sortagrad", default=True,
      help=flags_core.help_wrap(
          "If true, sort examples by audio length and perform no "
          "batch_wise shuffling for the first epoch."))
  flags.DEFINE_integer(
      name="sample_rate", default=16000,
      help=flags_core.help_wrap("The sample rate for audio."))
  flags.DEFINE_integer(
      name="window_ms", default=20,
      help=flags_core.help_wrap("The frame length for spectrogram."))
  flags.DEFINE_integer(
      name="stride_ms", default=10,
      help=flags_core.help_wrap("The frame step."))
  flags.DEFINE_string(
      name="vocabulary_file", default=vocabulary.VOCABULARY_FILE,
      help=flags_core.help_wrap("The file path of vocabulary file."))

  # RNN related flags
  flags.DEFINE_integer(
      name="rnn_hidden_size", default=800,
      help=flags_core.help_wrap("The hidden size of RNNs."))
  flags.DEFINE_integer(
      name="rnn_hidden_layers", default=5,
      help=flags_core.help_wrap("The number of RNN layers."))
  flags.DEFINE_bool(
      name="use_bias", default=True,
      help=flags_core.help_wrap("Use bias in the last fully-connected layer"))
  flags.DEFINE_bool(
      name="is_bidirectional", default=True,
      help=flags_core.help_wrap("If rnn unit is bidirectional"))
  flags.DEFINE_enum(
      name="rnn_type", default="gru",
      enum_values=list(deep_speech_model.SUPPORTED_RNNS.keys()),
      case_sensitive=False,
      help=flags_core.help_wrap("Type of RNN cell."))
  # Training related flags
  flags.DEFINE_float(
      name="learning_rate", default=5e-4,
      help=flags_core.help_wrap("The initial learning rate."))
  # Evaluation metrics threshold
  flags.DEFINE_float(
      name="wer_threshold", default=None,
      help=flags_core.help_wrap(
          "If passed, training stops once the evaluation WER is at or below "
          "it. The MLPerf target is 0.23."))
  _define_port_flags()


def _define_port_flags():
  """Defines the flags this port adds to the original's."""
  flags.DEFINE_integer(
      name="conv_filters", default=deep_speech_model.DEFAULT_CONV_FILTERS,
      lower_bound=1,
      help=flags_core.help_wrap(
          "Channels of each of the two convolutions (the original's fixed "
          "32). 16 makes a 3x256 model's training step ~1.7x faster on a "
          "CPU."))
  flags.DEFINE_integer(
      name="learning_rate_decay_steps", default=0, lower_bound=0,
      help=flags_core.help_wrap(
          "Decay the learning rate exponentially, by "
          "--learning_rate_decay_rate every this many steps (0: constant, as "
          "the original)."))
  flags.DEFINE_float(
      name="learning_rate_decay_rate", default=0.5, lower_bound=0.0,
      upper_bound=1.0,
      help=flags_core.help_wrap(
          "Factor the learning rate is multiplied by every "
          "--learning_rate_decay_steps steps."))
  flags.DEFINE_float(
      name="max_audio_sec", default=None,
      help=flags_core.help_wrap(
          "Skip clips longer than this many seconds (they can exhaust "
          "memory); default: no limit."))
  flags.DEFINE_bool(
      name="strict_data", default=False,
      help=flags_core.help_wrap(
          "Fail on the first bad manifest row instead of skipping bad rows "
          "(skipped rows are listed in <model_dir>/skipped_<manifest>.tsv)."))
  flags.DEFINE_integer(
      name="save_checkpoints_steps", default=None,
      help=flags_core.help_wrap(
          "Save a checkpoint every this many steps (default: every 600 s, and "
          "always at the end of each cycle)."))
  flags.DEFINE_bool(
      name="export_best", default=True,
      help=flags_core.help_wrap(
          "Export the checkpoint with the best evaluation WER (kept in "
          "<model_dir>/best/, outside --keep_checkpoint_max) instead of the "
          "last one; its step and WER go into the export's settings."))
  flags.DEFINE_integer(
      name="keep_checkpoint_max", default=5,
      help=flags_core.help_wrap("How many recent checkpoints to keep."))
  flags.DEFINE_integer(
      name="log_every_n_steps", default=100,
      help=flags_core.help_wrap("Log the loss and steps/s every this many "
                                "steps."))
  flags.DEFINE_integer(
      name="show_samples", default=3,
      help=flags_core.help_wrap("After each evaluation, log this many "
                                "reference/prediction pairs."))
  flags.DEFINE_string(
      name="feature_cache_dir", default=None,
      help=flags_core.help_wrap(
          "Cache each utterance's features in this directory: computed once, "
          "read back by later epochs, evaluations and runs. Entries are keyed "
          "by the audio file (path, size, mtime) and the featurizer settings, "
          "so changed audio or settings are recomputed. Same numbers as "
          "without the cache."))
  flags.DEFINE_integer(
      name="length_buckets", default=0,
      help=flags_core.help_wrap(
          "If > 0, epochs after the sorted sortagrad epoch shuffle utterances "
          "individually and batch them within this many length buckets "
          "(tf.data group_by_window), instead of shuffling sorted blocks. "
          "Changes batch composition; 0 keeps the original's batch-wise "
          "shuffle."))
  flags.DEFINE_integer(
      name="freq_mask", default=0,
      help=flags_core.help_wrap(
          "SpecAugment for training: mask up to this many frequency bins, "
          "twice per utterance (0: off). Regularizes small corpora."))
  flags.DEFINE_integer(
      name="time_mask", default=0,
      help=flags_core.help_wrap(
          "SpecAugment for training: mask up to this many frames (at most a "
          "fifth of the utterance), twice per utterance (0: off)."))
  flags.DEFINE_float(
      name="tempo_warp", default=0.0,
      help=flags_core.help_wrap(
          "For training: resample each utterance's frames to a random "
          "length within this relative change (0.1: 90-110%%), keeping "
          "enough frames for its transcript (0: off). Mimics speaking-rate "
          "changes; works on cached features."))
  flags.DEFINE_float(
      name="freq_warp", default=0.0,
      help=flags_core.help_wrap(
          "For training: scale each utterance's frequency axis by a random "
          "factor within this relative change (0.1: 0.9-1.1), like vocal "
          "tract length perturbation (0: off)."))
  flags.DEFINE_integer(
      name="num_cpu_replicas", default=0,
      help=flags_core.help_wrap(
          "With --num_gpus=0, train with MirroredStrategy over this many "
          "simulated CPU devices (tests the multi-device path; slower than "
          "one device)."))
  _define_decoder_flags()


def _define_decoder_flags():
  """Defines the decoder and evaluation flags (issue 13)."""
  flags.DEFINE_enum(
      name="decoder", default="greedy", enum_values=list(decoder.DECODERS),
      help=flags_core.help_wrap(
          "How each evaluation decodes besides greedy: greedy (the "
          "original's only decoder) or beam (CTC beam search, optionally "
          "with --lm_path and --lexicon; needs flashlight-text). The "
          "'Iteration N' line stays greedy; a beam decoder adds its own line, "
          "and --wer_threshold and the best checkpoint follow it."))
  flags.DEFINE_integer(
      name="beam_width", default=100, lower_bound=1,
      help=flags_core.help_wrap("Hypotheses the beam search keeps per "
                                "frame."))
  flags.DEFINE_string(
      name="lm_path", default=None,
      help=flags_core.help_wrap(
          "A KenLM-format word n-gram (ARPA or KenLM binary, e.g. from "
          "data/build_lm.py) for --decoder=beam."))
  flags.DEFINE_float(
      name="lm_alpha", default=0.0,
      help=flags_core.help_wrap("Weight of the LM's log10 probabilities in "
                                "the beam search."))
  flags.DEFINE_float(
      name="lm_beta", default=0.0,
      help=flags_core.help_wrap("Score added per word by the beam search "
                                "(word insertion bonus)."))
  flags.DEFINE_string(
      name="lexicon", default=None,
      help=flags_core.help_wrap(
          "A words file (one word per line) the beam search must spell "
          "from; with an LM but no lexicon, the LM's unigrams."))
  flags.DEFINE_string(
      name="lm_settings", default=None,
      help=flags_core.help_wrap(
          "An LM settings file (JSON: lm_path, alpha, beta and optionally "
          "beam_width and lexicon) as the alpha/beta tuning writes; "
          "--lm_path, --lm_alpha, --lm_beta, --beam_width and --lexicon "
          "given on the command line override its values."))
  flags.DEFINE_bool(
      name="eval_only", default=False,
      help=flags_core.help_wrap(
          "Evaluate one checkpoint on --eval_data_dir without training: "
          "the newest intact one in --model_dir, or --checkpoint_path. "
          "Takes no lock (a running training is not disturbed) and writes "
          "the report to <model_dir>/eval/."))
  flags.DEFINE_string(
      name="checkpoint_path", default=None,
      help=flags_core.help_wrap(
          "With --eval_only: the checkpoint to evaluate (a prefix such as "
          "<model_dir>/model.ckpt-1200, or a directory such as "
          "<model_dir>/best); default the newest intact one in "
          "--model_dir."))


def data_args(flags_obj):
  """`inputs.generate_dataset`'s arguments, from the flags."""
  return dict(sample_rate=flags_obj.sample_rate,
              window_ms=flags_obj.window_ms, stride_ms=flags_obj.stride_ms,
              vocabulary_file=flags_obj.vocabulary_file,
              sortagrad=flags_obj.sortagrad,
              max_audio_sec=flags_obj.max_audio_sec,
              strict=flags_obj.strict_data)


def feature_settings(flags_obj, speech_labels):
  """The export's featurizer settings and vocabulary, from the flags."""
  return {"sample_rate": flags_obj.sample_rate,
          "window_ms": flags_obj.window_ms, "stride_ms": flags_obj.stride_ms,
          "speech_labels": speech_labels}


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
    model: the network they describe (deep_speech.network(params)).
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
  try:
    runtime.check_model_dir(flags_obj.model_dir, model, num_feature_bins,
                            checkpoint)
  except runtime.CheckpointMismatchError as e:
    raise ValueError(
        "%s. Use the flags it was trained with (--rnn_hidden_size, "
        "--rnn_hidden_layers, --rnn_type, --is_bidirectional, --use_bias, "
        "--conv_filters, --window_ms, --sample_rate), or another "
        "--model_dir." % e) from None


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
      "use_bias": flags_obj.use_bias,
      "learning_rate": flags_obj.learning_rate,
      "learning_rate_decay_steps": flags_obj.learning_rate_decay_steps,
      "learning_rate_decay_rate": flags_obj.learning_rate_decay_rate,
      "dtype": DTYPES[flags_obj.dtype],
      "loss_scale": loss_scale,
  }


# --lm_settings keys -> the flags that override them.
_LM_SETTINGS_FLAGS = {"lm_path": "lm_path", "alpha": "lm_alpha",
                      "beta": "lm_beta", "beam_width": "beam_width",
                      "lexicon": "lexicon"}


def _given(flags_obj, name):
  """Whether flag `name` was given on the command line (not defaulted)."""
  if isinstance(flags_obj, flags.FlagValues):
    return flags_obj[name].present
  # A plain namespace of flag values (bench/convergence.py): a value other
  # than the flag's default counts as given.
  default = flags.FLAGS[name].default if name in flags.FLAGS else None
  return getattr(flags_obj, name) != default


def decoder_args(flags_obj):
  """`decoder.make_decoder`'s arguments (kind included), from the flags.

  --lm_settings supplies lm_path, alpha, beta and optionally beam_width and
  lexicon; flags given on the command line override them.

  Raises:
    ValueError: in flag terms: an unreadable settings file, a missing LM or
      lexicon file, or an LM or lexicon without --decoder=beam.
  """
  args = {"kind": flags_obj.decoder, "beam_width": flags_obj.beam_width,
          "lm_path": flags_obj.lm_path, "alpha": flags_obj.lm_alpha,
          "beta": flags_obj.lm_beta, "lexicon": flags_obj.lexicon}
  if flags_obj.lm_settings:
    try:
      settings = decoder.read_lm_settings(flags_obj.lm_settings)
    except ValueError as e:
      raise ValueError("--lm_settings: %s" % e) from None
    for key, value in settings.items():
      if not _given(flags_obj, _LM_SETTINGS_FLAGS[key]):
        args[key] = value
  if args["kind"] != "beam" and (args["lm_path"] or args["lexicon"]):
    raise ValueError("--lm_path, --lexicon and --lm_settings need "
                     "--decoder=beam (greedy decoding uses neither)")
  for key, flag in (("lm_path", "--lm_path"), ("lexicon", "--lexicon")):
    if args[key] and not os.path.isfile(args[key]):
      raise ValueError("%s=%s: no such file%s" % (
          flag, args[key],
          " (read from --lm_settings=%s)" % flags_obj.lm_settings
          if flags_obj.lm_settings and not _given(flags_obj, key) else ""))
  return args

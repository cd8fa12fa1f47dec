"""deep_speech.py's flags, and flag values -> arguments.

`define_deep_speech_flags` (called by deep_speech.py's entry point) defines
the original's flags with their defaults, then the port's additions: model
size and learning-rate schedule, data checks, checkpoints, the feature cache,
batching, augmentation, and the decoders and evaluation-only runs.
"""

from absl import flags

from data import featurizer
from data import text_flags
from data import vocabulary
from decoding import flags as decoder_flags
import deep_speech_model
from official_utils.flags import core as flags_core


def define_deep_speech_flags():
  """Add flags for run_deep_speech."""
  _define_common_flags()
  _define_data_flags()
  _define_rnn_flags()
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
  _register_validators()


def _define_common_flags():
  """The official/utils groups, with this model's defaults."""
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


def _define_data_flags():
  """The seed, the manifests, the features and how transcripts are read."""
  flags.DEFINE_integer(
      name="seed", default=1, lower_bound=0, upper_bound=2**32 - 1,
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
  flags.DEFINE_multi_string(
      name="extra_eval_data_dir", default=None,
      help=flags_core.help_wrap(
          "Another evaluation set, NAME=path/to/manifest.csv or a path "
          "(named by its file's stem); repeat for several. Each is decoded "
          "after --eval_data_dir in every cycle (and with --eval_only), "
          "logged as 'Iteration N [NAME]', recorded under \"extra_eval\" "
          "in train_state.json and the report. --eval_data_dir alone "
          "decides --wer_threshold and the best checkpoint."))
  flags.DEFINE_bool(
      name="sortagrad", default=True,
      help=flags_core.help_wrap(
          "If true, sort examples by audio length and perform no "
          "batch_wise shuffling for the first epoch."))
  flags.DEFINE_integer(
      name="sample_rate", default=16000, lower_bound=1,
      help=flags_core.help_wrap("The sample rate for audio."))
  flags.DEFINE_integer(
      name="window_ms", default=20, lower_bound=1,
      help=flags_core.help_wrap("The frame length for spectrogram."))
  flags.DEFINE_integer(
      name="stride_ms", default=10, lower_bound=1,
      help=flags_core.help_wrap("The frame step."))
  flags.DEFINE_string(
      name="vocabulary_file", default=vocabulary.VOCABULARY_FILE,
      help=flags_core.help_wrap("The file path of vocabulary file."))
  # --unicode_form, --strip_accents, --lowercase: how transcripts become
  # labels; recorded in the export for transcription and the LM builder.
  text_flags.define_text_policy_flags()


def _define_rnn_flags():
  """The network's RNN layers."""
  flags.DEFINE_integer(
      name="rnn_hidden_size", default=800, lower_bound=1,
      help=flags_core.help_wrap("The hidden size of RNNs."))
  flags.DEFINE_integer(
      name="rnn_hidden_layers", default=5, lower_bound=1,
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


def _register_validators():
  """Bounds that `lower_bound`/`upper_bound` (inclusive) cannot say."""
  for name in ("learning_rate", "max_audio_sec"):
    flags.register_validator(
        name, lambda value: value is None or value > 0,
        message="--%s must be > 0" % name)
  for name in ("tempo_warp", "freq_warp"):
    flags.register_validator(
        name, lambda value: value < 1,
        message="--%s must be below 1 (a relative change)" % name)


def _define_port_flags():
  """Defines the flags this port adds to the original's."""
  _define_model_size_flags()
  _define_schedule_flags()
  _define_data_check_flags()
  flags.DEFINE_float(
      name="max_train_minutes", default=0.0, lower_bound=0.0,
      help=flags_core.help_wrap(
          "Stop training before a cycle that would end more than this many "
          "minutes after this run started (predicted from the last cycle's "
          "training and evaluation time), then export as usual; 0: no limit. "
          "For a fixed budget (make demo) or a batch job's time limit; "
          "running the command again continues the remaining cycles."))
  _define_wave_augmentation_flags()
  flags.DEFINE_integer(
      name="num_cpu_replicas", default=0, lower_bound=0,
      help=flags_core.help_wrap(
          "With --num_gpus=0, train with MirroredStrategy over this many "
          "simulated CPU devices (tests the multi-device path; slower than "
          "one device)."))
  _define_decoder_flags()
  _define_fine_tuning_flags()
  _define_checkpoint_flags()
  _define_input_flags()


def _define_model_size_flags():
  """The convolutions' width and the lookahead convolution."""
  flags.DEFINE_integer(
      name="conv_filters", default=deep_speech_model.DEFAULT_CONV_FILTERS,
      lower_bound=1,
      help=flags_core.help_wrap(
          "Channels of each of the two convolutions (the original's fixed "
          "32). 16 makes a small model's training step markedly faster on "
          "a CPU (docs/benchmarks.md)."))
  flags.DEFINE_integer(
      name="lookahead_context", default=0, lower_bound=0,
      help=flags_core.help_wrap(
          "Add DeepSpeech2's lookahead (row) convolution after the RNN "
          "layers: each output frame also sees this many future output "
          "frames (40 ms each). With --is_bidirectional=false the model "
          "can then transcribe as audio arrives (transcribe.py --stream). "
          "0: none, the original network."))


def _define_schedule_flags():
  """The learning rate's exponential decay (constant by default)."""
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


def _define_data_check_flags():
  """Which clips and rows are skipped, and how features are normalized."""
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
  flags.DEFINE_enum(
      name="feature_normalization", default="utterance",
      enum_values=list(featurizer.NORMALIZATIONS),
      help=flags_core.help_wrap(
          "How each frequency bin is normalized: over the whole utterance "
          "(the original's), or running - by the frames so far, as a stream "
          "can (transcribe.py --stream then gives exactly the offline "
          "transcript). Recorded in the export."))


def _define_checkpoint_flags():
  """Checkpoints, the best one kept, and what the logs show."""
  flags.DEFINE_integer(
      name="save_checkpoints_steps", default=None, lower_bound=1,
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
      name="keep_checkpoint_max", default=5, lower_bound=0,
      help=flags_core.help_wrap("How many recent checkpoints to keep."))
  flags.DEFINE_integer(
      name="log_every_n_steps", default=100, lower_bound=1,
      help=flags_core.help_wrap("Log the loss and steps/s every this many "
                                "steps."))
  flags.DEFINE_integer(
      name="show_samples", default=3, lower_bound=0,
      help=flags_core.help_wrap("After each evaluation, log this many "
                                "reference/prediction pairs."))


def _define_input_flags():
  """The feature cache, length buckets and SpecAugment-style masks and warps."""
  flags.DEFINE_string(
      name="feature_cache_dir", default=None,
      help=flags_core.help_wrap(
          "Cache each utterance's features in this directory: computed once, "
          "read back by later epochs, evaluations and runs. Entries are keyed "
          "by the audio file (path, size, mtime) and the featurizer settings, "
          "so changed audio or settings are recomputed. Same numbers as "
          "without the cache."))
  flags.DEFINE_integer(
      name="length_buckets", default=0, lower_bound=0,
      help=flags_core.help_wrap(
          "If > 0, epochs after the sorted sortagrad epoch shuffle utterances "
          "individually and batch them within this many length buckets "
          "(tf.data group_by_window), instead of shuffling sorted blocks. "
          "Changes batch composition; 0 keeps the original's batch-wise "
          "shuffle."))
  flags.DEFINE_integer(
      name="freq_mask", default=0, lower_bound=0,
      help=flags_core.help_wrap(
          "SpecAugment for training: mask up to this many frequency bins, "
          "twice per utterance (0: off). Regularizes small corpora."))
  flags.DEFINE_integer(
      name="time_mask", default=0, lower_bound=0,
      help=flags_core.help_wrap(
          "SpecAugment for training: mask up to this many frames (at most a "
          "fifth of the utterance), twice per utterance (0: off)."))
  flags.DEFINE_float(
      name="tempo_warp", default=0.0, lower_bound=0.0,
      help=flags_core.help_wrap(
          "For training: resample each utterance's frames to a random "
          "length within this relative change (0.1: 90-110%%), keeping "
          "enough frames for its transcript (0: off). Mimics speaking-rate "
          "changes; works on cached features."))
  flags.DEFINE_float(
      name="freq_warp", default=0.0, lower_bound=0.0,
      help=flags_core.help_wrap(
          "For training: scale each utterance's frequency axis by a random "
          "factor within this relative change (0.1: 0.9-1.1), like vocal "
          "tract length perturbation (0: off)."))


def _define_wave_augmentation_flags():
  """Defines the training waveform augmentation flags (all off by default)."""
  def probability(name, what):
    flags.DEFINE_float(
        name=name, default=0.0, lower_bound=0.0, upper_bound=1.0,
        help=flags_core.help_wrap(
            "For training: the probability that an utterance %s (0: off). "
            "Augmented utterances bypass --feature_cache_dir." % what))
  probability("reverb_prob", "is reverberated by a simulated room (a bank "
              "of --reverb_rooms random shoebox rooms, simulated once per "
              "run; needs pyroomacoustics)")
  flags.DEFINE_float(name="reverb_rt60_min", default=0.2, lower_bound=0.01,
                     help=flags_core.help_wrap(
                         "Shortest reverberation time (RT60) of the "
                         "simulated rooms, in seconds."))
  flags.DEFINE_float(name="reverb_rt60_max", default=0.8, lower_bound=0.01,
                     help=flags_core.help_wrap(
                         "Longest reverberation time of the simulated "
                         "rooms, in seconds (longer ones take longer to "
                         "simulate)."))
  flags.DEFINE_integer(name="reverb_rooms", default=32, lower_bound=1,
                       help=flags_core.help_wrap(
                           "How many random rooms --reverb_prob draws "
                           "from."))
  probability("babble_prob", "gets babble: 3-6 other training utterances "
              "mixed at an SNR in --noise_snr_min..max")
  probability("noise_prob", "gets a stretch of a --noise_dir recording at "
              "an SNR in --noise_snr_min..max")
  flags.DEFINE_string(name="noise_dir", default=None,
                      help=flags_core.help_wrap(
                          "A folder of noise recordings (.wav, .flac, .ogg; "
                          "subfolders too) for --noise_prob."))
  flags.DEFINE_float(name="noise_snr_min", default=5.0,
                     help=flags_core.help_wrap(
                         "Lowest speech-to-noise ratio of --noise_prob and "
                         "--babble_prob, in dB."))
  flags.DEFINE_float(name="noise_snr_max", default=20.0,
                     help=flags_core.help_wrap(
                         "Highest speech-to-noise ratio, in dB."))
  probability("gain_prob", "is scaled by a gain in --gain_db_min..max "
              "(clipped at full scale)")
  flags.DEFINE_float(name="gain_db_min", default=-10.0,
                     help=flags_core.help_wrap("Lowest gain, in dB."))
  flags.DEFINE_float(name="gain_db_max", default=6.0,
                     help=flags_core.help_wrap("Highest gain, in dB."))
  probability("telephone_prob", "is band-limited to the telephone band "
              "(300-3400 Hz) with 8-bit mu-law quantization")
  probability("codec_prob", "goes through a lossy codec of --codecs (sox)")
  flags.DEFINE_list(name="codecs", default=["mp3", "gsm"],
                    help=flags_core.help_wrap(
                        "The codecs --codec_prob draws from: mp3 (8-24 "
                        "kbit/s), gsm (8 kHz GSM 06.10)."))


def _define_decoder_flags():
  """Defines the decoder flags (decoding/flags.py) and the evaluation's."""
  decoder_flags.define_decoder_flags(decoder_help=(
      "Each evaluation decodes greedily, and with this decoder too: the "
      "'Iteration N' line stays greedy; a beam decoder adds its own line, "
      "and --wer_threshold and the best checkpoint follow it. "))
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


def _define_fine_tuning_flags():
  """Defines the warm-start and freezing flags (training/fine_tune.py)."""
  flags.DEFINE_string(
      name="warm_start_from", default=None,
      help=flags_core.help_wrap(
          "Fine-tune: start a new --model_dir from a trained model: a "
          "checkpoint prefix, a model directory (its best/ checkpoint, else "
          "its newest) or an export (--export_dir, or one SavedModel in it). "
          "The network's variables are taken, not the step or the "
          "optimizer; the output layer is left out when the vocabulary "
          "differs. Applies only while --model_dir has no checkpoint: a "
          "re-run resumes from its own."))
  flags.DEFINE_string(
      name="warm_start_exclude", default=None,
      help=flags_core.help_wrap(
          "With --warm_start_from: a regular expression; variables whose "
          "names it matches (from the start, e.g. 'dense/' for the output "
          "layer) keep their fresh initial values."))
  flags.DEFINE_list(
      name="trainable_scopes", default=None,
      help=flags_core.help_wrap(
          "Train only the variables whose names match one of these "
          "comma-separated regular expressions (from the start, e.g. "
          "'dense/,batch_normalization_2/'); the others, and the batch-norm "
          "statistics of the others, stay as they are. Default: all."))

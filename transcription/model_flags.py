"""The model and decoder flags of the CLIs that transcribe with a model.

transcribe.py and serve.py load a model the same way (--saved_model: an
export or a .tflite file, or --model_dir, with featurizer fallbacks for
older exports), chunk and batch it
the same way, and pick its decoder through decoding/flags.py; the flags are
declared here once and read only by the CLIs' entry functions, which hand
their values to `load_model` and `make_decoder`; `exit_status` turns what
goes wrong into their one-line errors. tune_lm.py and export_tflite.py,
which take one model from either flag, share its check
(`register_one_model_validator`).
"""

from absl import flags

from data import featurizer
from data import vocabulary
import decoder
from decoding import flags as decoder_flags


def define_model_flags():
  """Declares the model, chunking and decoder flags; from `__main__` only."""
  flags.DEFINE_string("saved_model", "/tmp/deep_speech_saved_model/",
                      "An export of deep_speech.py (or its --export_dir), "
                      "or a .tflite file of export_tflite.py.")
  flags.DEFINE_string(
      "model_dir", None,
      "A training directory of deep_speech.py: transcribe with its latest "
      "checkpoint, no export needed (instead of --saved_model).")
  flags.DEFINE_string("vocabulary_file", vocabulary.VOCABULARY_FILE,
                      "The vocabulary (fallback).")
  # Exports of deep_speech.py carry their own settings; these flags only
  # serve older exports and training directories that never exported.
  flags.DEFINE_integer("sample_rate", 16000, "Audio rate in Hz (fallback).",
                       lower_bound=1)
  flags.DEFINE_integer("window_ms", 20, "Spectrogram window in ms (fallback).",
                       lower_bound=1)
  flags.DEFINE_integer("stride_ms", 10, "Spectrogram stride in ms (fallback).",
                       lower_bound=1)
  flags.DEFINE_float(
      "max_chunk_sec", 20.0,
      "Longer audio is split at pauses into chunks of at most this many "
      "seconds (the model was trained on utterances of up to ~20 s).")
  flags.register_validator("max_chunk_sec", lambda value: value > 0,
                           message="--max_chunk_sec must be > 0")
  flags.DEFINE_integer("batch_size", 16, "Chunks decoded per model call.",
                       lower_bound=1)
  flags.DEFINE_integer(
      "tflite_threads", 1,
      "Threads of a .tflite model's interpreter (0: every CPU this process "
      "may use). Its calls are small (a few frames each), so more threads "
      "seldom pay, and on a busy machine they wait for each other.",
      lower_bound=0)
  decoder_flags.define_decoder_flags()


def register_one_model_validator(flag_values=flags.FLAGS):
  """Requires exactly one of --saved_model and --model_dir.

  For the CLIs where both default to None (tune_lm.py, export_tflite.py):
  with both, which model the user meant is a guess; with neither, there is
  none. Call it from their flag definers, after the two flags.
  """
  flags.register_multi_flags_validator(
      ["saved_model", "model_dir"],
      lambda values: bool(values["saved_model"]) != bool(values["model_dir"]),
      message="give the model with --saved_model or --model_dir (one of them)",
      flag_values=flag_values)


def load_model(saved_model, model_dir, vocabulary_file, sample_rate,
               window_ms, stride_ms, tflite_threads=1):
  """The model: `model_dir`'s checkpoint if given, else the export (or the
  .tflite file) `saved_model`.

  The featurizer arguments are the fallback for models that record no
  settings; `tflite_threads` (0: all CPUs) serves a .tflite.
  """
  from transcription import model as model_lib  # pylint: disable=g-import-not-at-top
  from transcription import tflite_model  # pylint: disable=g-import-not-at-top
  if model_dir and model_dir.endswith(".tflite"):
    raise model_lib.ModelError("%s is a .tflite file, not a training "
                               "directory: give it as --saved_model"
                               % model_dir)
  if not model_dir and tflite_model.is_tflite_path(saved_model):
    return tflite_model.TFLiteModel(saved_model, tflite_threads or None)
  labels = "".join(vocabulary.read_tokens(vocabulary_file))
  fallback = model_lib.Settings(featurizer.AudioFeaturizer(
      sample_rate, window_ms=window_ms, stride_ms=stride_ms), labels)
  if model_dir:
    return model_lib.CheckpointModel(model_dir, fallback)
  return model_lib.ExportedModel(saved_model, fallback)


def fallback_settings(flags_obj):
  """The featurizer `model.Settings` of the fallback flags."""
  from transcription import model as model_lib  # pylint: disable=g-import-not-at-top
  labels = "".join(vocabulary.read_tokens(flags_obj.vocabulary_file))
  return model_lib.Settings(featurizer.AudioFeaturizer(
      flags_obj.sample_rate, window_ms=flags_obj.window_ms,
      stride_ms=flags_obj.stride_ms), labels)


def load_model_from_flags(flags_obj):
  """`load_model` with the values of `define_model_flags`' flags."""
  return load_model(flags_obj.saved_model, flags_obj.model_dir,
                    flags_obj.vocabulary_file, flags_obj.sample_rate,
                    flags_obj.window_ms, flags_obj.stride_ms,
                    flags_obj.tflite_threads)


def make_decoder(flags_obj, model, log):
  """(decoder, its options dict): the decoder flags over the model's own.

  `log` is called with the line saying which flags selected the search.
  """
  return decoder_from_flags(flags_obj, model.settings.labels, model.decoder,
                            model.settings_file, log)


def decoder_from_flags(flags_obj, labels, recorded, settings_file, log):
  """`make_decoder` for what is not a loaded model (a streaming one).

  Args:
    labels: the model's labels; recorded, settings_file: the decoder its
      settings record (or None) and the file that records it.
  """
  options = decoder_flags.decoder_options(flags_obj, recorded, settings_file,
                                          log=log)
  kind = options.pop("kind")
  return (decoder.make_decoder(kind, labels, **options),
          dict(options, kind=kind))


def define_endpoint_flag():
  """--endpoint_silence_sec, of transcribe.py --stream and serve.py."""
  flags.DEFINE_float(
      "endpoint_silence_sec", None,
      "Streaming: end an utterance after this many seconds of pause (output "
      "frames of the model's blank or space): its final transcript comes "
      "out then, words timed from the stream's start, and the next "
      "utterance starts afresh. Unset: the stream is one utterance.")
  flags.register_validator(
      "endpoint_silence_sec", lambda value: value is None or value > 0,
      message="--endpoint_silence_sec must be > 0")


def exit_status(run, error):
  """Runs `run()` for a CLI; returns its exit status.

  A user's mistake (a missing model, an unreadable file, a missing package)
  is `error(exception)`'s one line and status 1, Ctrl-C status 130; never a
  traceback.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  try:
    return run()
  except KeyboardInterrupt:
    error("interrupted")
    return 130
  except (ValueError, OSError, RuntimeError, ImportError,
          tf.errors.OpError) as e:
    error(e)
    return 1

"""Exports a unidirectional model as one .tflite file of TFLite builtins.

    python export_tflite.py --model_dir=/tmp/deep_speech_model \
        --output=/tmp/model.tflite
    python export_tflite.py --saved_model=/tmp/deep_speech_saved_model \
        --output=/tmp/model_int8.tflite --quantize=int8

The model is a training directory (--model_dir: its latest checkpoint) or
an export (--saved_model: the export or its --export_dir; the newest is
used), trained with --is_bidirectional=false. The file holds the streaming
network's pieces (transcription/tflite_model.py) and the model's settings
(featurizer, vocabulary, normalization, decoder); an LM and lexicon the
settings name are copied beside it. --quantize: float32, float16 (weights
stored as float16) or int8 (dynamic range: weights int8).

    python transcribe.py --saved_model=/tmp/model.tflite a.wav
    arecord -q -f S16_LE -r 16000 -c 1 | python transcribe.py --stream \
        --saved_model=/tmp/model.tflite

The conversion uses builtin ops only (no Flex delegate) and checks the
written model for any other op; a bidirectional model is refused.
"""

import os
import sys
import tempfile

from absl import app
from absl import flags
from absl import logging

from common import output_paths
from transcription import model_flags

_NAME = "export_tflite.py"


def _error(message):
  print("%s: error: %s" % (_NAME, message), file=sys.stderr)


class _QuietStderr(object):
  """Keeps the converter's C++ chatter (op tables) off standard error; a
  failed conversion still says why, in its error."""

  def __enter__(self):
    sys.stderr.flush()
    self._saved = os.dup(2)
    self._log = tempfile.TemporaryFile()
    os.dup2(self._log.fileno(), 2)
    return self

  def __exit__(self, *unused):
    sys.stderr.flush()
    os.dup2(self._saved, 2)
    os.close(self._saved)
    self._log.close()
    return False


def run_export_tflite(flags_obj):
  """Writes --output; returns the network description written."""
  from transcription import tflite_export  # pylint: disable=g-import-not-at-top
  model_path = flags_obj.model_dir or flags_obj.saved_model
  output_paths.check_outputs([("--output", flags_obj.output)],
                             [("--model_dir", flags_obj.model_dir),
                              ("--saved_model", flags_obj.saved_model)])
  if os.path.isdir(flags_obj.output):
    raise ValueError("--output %s is a directory; name the .tflite file"
                     % flags_obj.output)
  with _QuietStderr():
    description = tflite_export.export_tflite(model_path, flags_obj.output,
                                              flags_obj.quantize)
  print("%s: wrote %s (%s, %d bytes; %s x %d %s, lookahead %d)" % (
      _NAME, flags_obj.output, flags_obj.quantize,
      os.path.getsize(flags_obj.output), description["rnn_layers"],
      description["rnn_units"], description["rnn_type"],
      description["lookahead_context"]))
  return description


def define_export_tflite_flags():
  flags.DEFINE_string("model_dir", None,
                      "A training directory of deep_speech.py (its latest "
                      "checkpoint).")
  flags.DEFINE_string("saved_model", None,
                      "An export of deep_speech.py (or its --export_dir), "
                      "instead of --model_dir.")
  flags.DEFINE_string("output", None, "The .tflite file to write.")
  flags.DEFINE_enum("quantize", "float32", ["float32", "float16", "int8"],
                    "float32; float16: weights stored as float16; int8: "
                    "dynamic range (weights int8).")
  flags.mark_flag_as_required("output")
  model_flags.register_one_model_validator()


def main(_):
  logging.set_verbosity(logging.WARNING)
  from common import cpu  # pylint: disable=g-import-not-at-top
  from transcription import model_flags  # pylint: disable=g-import-not-at-top
  cpu.enable_onednn_if_unset()
  sys.exit(model_flags.exit_status(
      lambda: run_export_tflite(flags.FLAGS) and 0, _error))


if __name__ == "__main__":
  define_export_tflite_flags()
  app.run(main)

"""Transcribes audio with a SavedModel exported by deep_speech.py.

    python transcribe.py --saved_model=/tmp/deep_speech_saved_model a.wav b.wav
    python transcribe.py --saved_model=DIR --manifest=dev.csv --num=5

--saved_model may name the export directory itself or the --export_dir that
holds timestamped exports (the newest is used). With --manifest, the first
--num rows are transcribed and shown next to their reference transcripts, with
their corpus WER and CER.
"""

import os
import sys

from absl import app
from absl import flags
from absl import logging
import numpy as np
import soundfile
import tensorflow as tf

from data import featurizer
from data import manifest as manifest_lib
from data import vocabulary
import decoder
from training import export
from training import cpu

class Transcriber(object):
  """Greedy transcription with an exported DeepSpeech2 SavedModel.

  The featurizer settings and vocabulary come from the export's
  assets.extra/deep_speech_features.json when it has one (every export of
  deep_speech.py does); the arguments are the fallback for older exports.
  """

  def __init__(self, saved_model, vocabulary_file=vocabulary.VOCABULARY_FILE,
               sample_rate=16000, window_ms=20, stride_ms=10):
    path = export.find_saved_model(saved_model)
    loaded = tf.saved_model.load(path)
    self._serve = loaded.signatures["serving_default"]
    labels = featurizer.TextFeaturizer(vocabulary_file).speech_labels
    settings = export.read_export_settings(path)
    if settings:
      sample_rate = settings["sample_rate"]
      window_ms = settings["window_ms"]
      stride_ms = settings["stride_ms"]
      labels = settings["speech_labels"]
    self._decoder = decoder.DeepSpeechDecoder(
        labels, vocabulary.blank_index(labels))
    self._audio = (sample_rate, window_ms, stride_ms)

  def _features(self, path):
    """Features of one file, exactly as training computes them."""
    sample_rate, window_ms, stride_ms = self._audio
    try:
      return featurizer.featurize_file(path, sample_rate, window_ms, stride_ms)
    except (RuntimeError, ValueError, soundfile.LibsndfileError) as e:
      raise ValueError("%s: %s" % (path, e)) from None

  def transcribe(self, paths, batch_size=16):
    """Transcripts of the audio files, in order."""
    texts = []
    for start in range(0, len(paths), batch_size):
      feats = [self._features(p) for p in paths[start:start + batch_size]]
      frames = max(f.shape[0] for f in feats)
      batch = np.zeros((len(feats), frames) + feats[0].shape[1:], np.float32)
      for i, f in enumerate(feats):
        batch[i, :f.shape[0]] = f
      lengths = np.array([[f.shape[0]] for f in feats], np.int32)
      out = self._serve(features=tf.constant(batch),
                        input_length=tf.constant(lengths))
      texts.extend(self._decoder.decode_batch(
          out["probabilities"].numpy(), out["ctc_input_length"].numpy()))
    return texts


def define_flags():
  flags.DEFINE_string("saved_model", "/tmp/deep_speech_saved_model/",
                      "An export of deep_speech.py (or its --export_dir).")
  flags.DEFINE_string("manifest", None,
                      "Transcribe rows of this manifest next to references.")
  flags.DEFINE_integer("num", 5, "Rows of --manifest to transcribe.")
  flags.DEFINE_string("vocabulary_file", vocabulary.VOCABULARY_FILE, "The vocabulary.")
  # Exports of deep_speech.py carry their own settings; these flags only
  # serve older exports without assets.extra/deep_speech_features.json.
  flags.DEFINE_integer("sample_rate", 16000, "Audio rate in Hz (fallback).")
  flags.DEFINE_integer("window_ms", 20, "Spectrogram window in ms (fallback).")
  flags.DEFINE_integer("stride_ms", 10, "Spectrogram stride in ms (fallback).")


def main(argv):
  logging.set_verbosity(logging.WARNING)
  cpu.enable_onednn_if_unset()
  flags_obj = flags.FLAGS
  paths, references = list(argv[1:]), None
  try:
    if flags_obj.manifest:
      token_to_index = featurizer.TextFeaturizer(
          flags_obj.vocabulary_file).token_to_index
      entries, _ = manifest_lib.read_manifest(flags_obj.manifest,
                                              token_to_index)
      entries = entries[:flags_obj.num]
      paths = [e.wav_filename for e in entries]
      references = [e.transcript for e in entries]
    if not paths:
      raise ValueError("give audio files or --manifest")
    transcriber = Transcriber(flags_obj.saved_model, flags_obj.vocabulary_file,
                              flags_obj.sample_rate, flags_obj.window_ms,
                              flags_obj.stride_ms)
    texts = transcriber.transcribe(paths)
  except (ValueError, OSError, RuntimeError,
          tf.errors.InvalidArgumentError) as e:
    print("transcribe.py: error: %s" % e, file=sys.stderr)
    sys.exit(1)
  for i, (path, text) in enumerate(zip(paths, texts)):
    if references is None:
      print("%s\t%s" % (path, text))
    else:
      print("%s\n  reference : %s\n  prediction: %s" % (
          os.path.basename(path), references[i], text))
  if references is not None:
    rates = decoder.compute_error_rates(texts, references)
    print("WER %.4f, CER %.4f over %d utterances (corpus level)" % (
        rates["corpus_WER"], rates["corpus_CER"], len(texts)))


if __name__ == "__main__":
  define_flags()
  app.run(main)

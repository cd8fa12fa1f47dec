"""Transcribes audio with a model trained by deep_speech.py.

    python transcribe.py --saved_model=/tmp/deep_speech_saved_model a.wav b.mp3
    python transcribe.py --model_dir=/tmp/deep_speech_model recordings/
    find . -name '*.flac' | python transcribe.py --output_format=json -
    python transcribe.py --output_format=srt --output_dir=subs meeting.mp3
    python transcribe.py --saved_model=DIR --manifest=dev.csv --num=5

Arguments are audio files (anything soundfile or sox reads, any rate, any
number of channels: converted to the model's rate, mono), directories
(searched recursively), manifests, or `-` (paths on standard input). Long
recordings are split at pauses into chunks of at most --max_chunk_sec.

The model is an export (--saved_model: the export directory or the
--export_dir holding timestamped exports; the newest is used) or a training
directory (--model_dir: its latest checkpoint, no export needed).

Decoding: the decoder flags given, else --lm_settings, else the decoder the
export records, else greedy (decoding/flags.py, shared with deep_speech.py
and tune_lm.py); --lm_path, --lexicon or --lm_settings select the beam
search.

Output, in UTF-8 whatever the locale: `path<TAB>text` per file, or with
--output_format=json one JSON object per file (text, duration, words with
start/end seconds and a confidence), or --output_format=srt subtitles. A
file that cannot be read is reported on standard error and the others are
still transcribed; the exit status is 1 if any failed. With --manifest, the first --num rows are shown
next to their reference transcripts, with their corpus WER and CER.
"""

import collections
import os
import sys

from absl import app
from absl import flags
from absl import logging

from data import output_paths
from data import progress
from data import vocabulary
import decoder
from decoding import flags as decoder_flags
from decoding import scoring
from training import cpu

_NAME = "transcribe.py"


def _error(message):
  print("%s: error: %s" % (_NAME, message), file=sys.stderr)


def _note(message):
  print("%s: note: %s" % (_NAME, message), file=sys.stderr)


def _load_model(flags_obj):
  """The model: --model_dir's checkpoint, else the --saved_model export."""
  from transcription import model as model_lib  # pylint: disable=g-import-not-at-top
  labels = "".join(vocabulary.read_tokens(flags_obj.vocabulary_file))
  fallback = model_lib.Settings(flags_obj.sample_rate, flags_obj.window_ms,
                                flags_obj.stride_ms, labels)
  if flags_obj.model_dir:
    return model_lib.CheckpointModel(flags_obj.model_dir, fallback)
  return model_lib.ExportedModel(flags_obj.saved_model, fallback)


def _make_decoder(flags_obj, model):
  options = decoder_flags.decoder_options(
      flags_obj, model.decoder, model.settings_file, log=_note)
  return decoder.make_decoder(options.pop("kind"), model.settings.labels,
                              **options)


def _paths(flags_obj, args, model=None):
  """(paths, references or None, problems): the audio to transcribe.

  With --manifest, `model` gives the labels and the text policy its rows
  and references are read with (the ones it was trained with).
  `problems` lists the arguments that named no audio (reported, not fatal).
  """
  from transcription import inputs  # pylint: disable=g-import-not-at-top
  if flags_obj.manifest:
    from data import manifest as manifest_lib  # pylint: disable=g-import-not-at-top
    token_to_index = {t: i for i, t in enumerate(model.settings.labels)}
    entries, _ = manifest_lib.read_manifest(
        flags_obj.manifest, token_to_index,
        text_policy=model.settings.text_policy)
    entries = entries[:flags_obj.num]
    return ([e.wav_filename for e in entries],
            [e.transcript for e in entries], [])
  paths, problems = inputs.expand(args, sys.stdin)
  return paths, None, problems


class _Writer(object):
  """Writes transcripts to standard output or one file each in a directory.

  The file names are chosen up front, one per input path (`name.tsv`, then
  `name_2.tsv` for a second input of that name), so they can be checked
  against the inputs before anything runs.
  """

  def __init__(self, output_format, output_dir, paths):
    from transcription import output  # pylint: disable=g-import-not-at-top
    self._format = output.formatter(output_format)
    self._dir = output_dir
    self._names = collections.defaultdict(collections.deque)
    used = set()
    for path in paths if output_dir else []:
      stem = os.path.splitext(os.path.basename(path))[0]
      name, n = stem, 1
      while name in used:
        n += 1
        name = "%s_%d" % (stem, n)
      used.add(name)
      self._names[path].append(os.path.join(
          output_dir, name + output.EXTENSIONS[output_format]))

  def outputs(self):
    """The files this writer will write."""
    return [name for names in self._names.values() for name in names]

  def write(self, transcript):
    text = self._format(transcript)
    if not self._dir:
      sys.stdout.write(text)
      sys.stdout.flush()
      return
    from data import atomic_file  # pylint: disable=g-import-not-at-top
    atomic_file.write_text(self._names[transcript.path].popleft(), text)


def _transcribe(flags_obj, args):
  """Transcribes everything `args` name; returns the exit status."""
  from transcription import pipeline  # pylint: disable=g-import-not-at-top
  import deep_speech_model  # pylint: disable=g-import-not-at-top
  # A manifest's rows are read with the model's labels and text policy; it
  # names no output, so loading the model first refuses nothing later.
  model = _load_model(flags_obj) if flags_obj.manifest else None
  paths, references, problems = _paths(flags_obj, args, model)
  for arg, reason in problems:
    _error("%s: %s" % (arg, reason))
  if not paths:
    if not problems:
      _error("give audio files, directories, manifests, - or --manifest")
    return 1
  if (flags_obj.output_format == "srt" and len(paths) > 1 and
      not flags_obj.output_dir):
    _error("--output_format=srt with several files needs --output_dir "
           "(one .srt per file)")
    return 1
  writer = _Writer(flags_obj.output_format,
                   flags_obj.output_dir if references is None else None,
                   paths)
  output_paths.check_outputs(
      [("--output_dir", name) for name in writer.outputs()],
      [("input", path) for path in paths] +
      [("argument", arg) for arg in args if arg != "-"] +
      [(flag, getattr(flags_obj, flag[2:])) for flag in (
          "--manifest", "--lm_path", "--lexicon", "--lm_settings",
          "--vocabulary_file")])
  if flags_obj.output_dir:
    os.makedirs(flags_obj.output_dir, exist_ok=True)
  model = model or _load_model(flags_obj)
  bar = progress.Progress("transcribing", len(paths), unit="files",
                          delay_s=5.0)
  transcriber = pipeline.Transcriber(
      model, _make_decoder(flags_obj, model),
      time_reduction=deep_speech_model.TIME_REDUCTION,
      max_chunk_sec=flags_obj.max_chunk_sec, batch_size=flags_obj.batch_size,
      progress=lambda files_done, _: bar.update(files_done - bar.done))
  failed = bool(problems)
  texts = []
  with bar:
    for result in transcriber.transcribe(paths):
      if result.note or result.error:
        bar.break_line()  # a message on its own line, not after the bar
      if result.note:
        _note(result.note)
      if result.error:
        _error(result.error)
        failed = True
        texts.append("")
        continue
      texts.append(result.transcript.text)
      if references is None:
        writer.write(result.transcript)
  if references is not None:
    _show_references(paths, references, texts)
  return 1 if failed else 0


def _show_references(paths, references, texts):
  for path, reference, text in zip(paths, references, texts):
    print("%s\n  reference : %s\n  prediction: %s" % (
        os.path.basename(path), reference, text))
  rates = scoring.compute_error_rates(texts, references)
  print("WER %.4f, CER %.4f over %d utterances (corpus level)" % (
      rates["corpus_WER"], rates["corpus_CER"], len(texts)))


def define_flags():
  flags.DEFINE_string("saved_model", "/tmp/deep_speech_saved_model/",
                      "An export of deep_speech.py (or its --export_dir).")
  flags.DEFINE_string(
      "model_dir", None,
      "A training directory of deep_speech.py: transcribe with its latest "
      "checkpoint, no export needed (instead of --saved_model).")
  flags.DEFINE_string("manifest", None,
                      "Transcribe rows of this manifest next to references.")
  flags.DEFINE_integer("num", 5, "Rows of --manifest to transcribe.",
                       lower_bound=1)
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
  flags.DEFINE_enum("output_format", "tsv", ["tsv", "json", "srt"],
                    "tsv: path<TAB>text; json: one object per file with "
                    "words and times; srt: subtitles.")
  flags.DEFINE_string(
      "output_dir", None,
      "Write one file per input here (name.tsv/.json/.srt) instead of to "
      "standard output.")
  decoder_flags.define_decoder_flags()


def main(argv):
  logging.set_verbosity(logging.WARNING)
  # Transcripts hold the model's letters, any alphabet: a locale's narrower
  # encoding would fail on the first one it lacks.
  sys.stdout.reconfigure(encoding="utf-8")
  cpu.enable_onednn_if_unset()
  flags_obj = flags.FLAGS
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  try:
    status = _transcribe(flags_obj, argv[1:])
  except KeyboardInterrupt:
    _error("interrupted")
    sys.exit(130)
  except output_paths.OutputIsInputError as e:
    _error(e)
    sys.exit(2)
  except (ValueError, OSError, RuntimeError, ImportError,
          tf.errors.OpError) as e:
    _error(e)
    sys.exit(1)
  sys.exit(status)


if __name__ == "__main__":
  define_flags()
  app.run(main)

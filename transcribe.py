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

Output: `path<TAB>text` per file, or with --output_format=json one JSON
object per file (text, duration, words with start/end seconds and a
confidence), or --output_format=srt subtitles. A file that cannot be read is
reported on standard error and the others are still transcribed; the exit
status is 1 if any failed. With --manifest, the first --num rows are shown
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
from decoding import scoring
from training import cpu
from transcription import model_flags

_NAME = "transcribe.py"


def _error(message):
  print("%s: error: %s" % (_NAME, message), file=sys.stderr)


def _note(message):
  print("%s: note: %s" % (_NAME, message), file=sys.stderr)


def _paths(flags_obj, args):
  """(paths, references or None, problems): the audio to transcribe.

  `problems` lists the arguments that named no audio (reported, not fatal).
  """
  from transcription import inputs  # pylint: disable=g-import-not-at-top
  if flags_obj.manifest:
    from data import featurizer  # pylint: disable=g-import-not-at-top
    from data import manifest as manifest_lib  # pylint: disable=g-import-not-at-top
    token_to_index = featurizer.TextFeaturizer(
        flags_obj.vocabulary_file).token_to_index
    entries, _ = manifest_lib.read_manifest(flags_obj.manifest,
                                            token_to_index)
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
  paths, references, problems = _paths(flags_obj, args)
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
  model = model_flags.load_model_from_flags(flags_obj)
  bar = progress.Progress("transcribing", len(paths), unit="files",
                          delay_s=5.0)
  transcriber = pipeline.Transcriber(
      model, model_flags.make_decoder(flags_obj, model, _note)[0],
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
  model_flags.define_model_flags()
  flags.DEFINE_string("manifest", None,
                      "Transcribe rows of this manifest next to references.")
  flags.DEFINE_integer("num", 5, "Rows of --manifest to transcribe.")
  flags.DEFINE_enum("output_format", "tsv", ["tsv", "json", "srt"],
                    "tsv: path<TAB>text; json: one object per file with "
                    "words and times; srt: subtitles.")
  flags.DEFINE_string(
      "output_dir", None,
      "Write one file per input here (name.tsv/.json/.srt) instead of to "
      "standard output.")


def main(argv):
  logging.set_verbosity(logging.WARNING)
  cpu.enable_onednn_if_unset()
  flags_obj = flags.FLAGS
  if flags_obj.max_chunk_sec <= 0 or flags_obj.batch_size < 1:
    _error("--max_chunk_sec must be > 0 and --batch_size >= 1")
    sys.exit(1)

  def run():
    try:
      return _transcribe(flags_obj, argv[1:])
    except output_paths.OutputIsInputError as e:
      _error(e)
      return 2
  sys.exit(model_flags.exit_status(run, _error))


if __name__ == "__main__":
  define_flags()
  app.run(main)

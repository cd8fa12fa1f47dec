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
--export_dir holding timestamped exports; the newest is used), a .tflite
file of export_tflite.py (--saved_model=model.tflite; a unidirectional
model, docs/transcription.md) or a training directory (--model_dir: its
latest checkpoint, no export needed).

Decoding: the decoder flags given, else --lm_settings, else the decoder the
export records, else greedy (decoding/flags.py, shared with deep_speech.py
and tune_lm.py); --lm_path, --lexicon or --lm_settings select the beam
search.

Output, in UTF-8 whatever the locale: `path<TAB>text` per file, or with
--output_format=json one JSON object per file (text, duration, words with
start/end seconds and a confidence), or --output_format=srt subtitles. A
file that cannot be read is reported on standard error and the others are
still transcribed; the exit status is 1 if any failed. With --manifest, the
first --num rows are shown next to their reference transcripts, with their
corpus WER and CER.

With --stream, standard input is one live recording (a unidirectional
model; decoded as files are, the beam search continuing across pieces):

    arecord -q -f S16_LE -r 16000 -c 1 | python transcribe.py --stream \
        --model_dir=/tmp/deep_speech_model
    sox -d -q -t raw -e signed -b 16 -c 1 -r 16000 - | python transcribe.py \
        --stream --saved_model=DIR
    python transcribe.py --stream --stream_type=mp3 --saved_model=DIR < a.mp3

The text so far is shown as it changes (rewritten in place on a terminal,
else one `partial<TAB>text` line per change), then the final transcript in
--output_format (path `-`) at the end of input or Ctrl-C; with
--endpoint_silence_sec=S, a final for each utterance after a pause of S
seconds, words timed from the stream's start.
"""

import collections
import os
import re
import shutil
import subprocess
import sys

from absl import app
from absl import flags
from absl import logging

from common import cpu
from common import output_paths
from common import progress
from decoding import scoring
from transcription import model_flags

_NAME = "transcribe.py"


def _error(message):
  print("%s: error: %s" % (_NAME, message), file=sys.stderr)


def _note(message):
  print("%s: note: %s" % (_NAME, message), file=sys.stderr)


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
    from common import atomic_file  # pylint: disable=g-import-not-at-top
    atomic_file.write_text(self._names[transcript.path].popleft(), text)


def _transcribe(flags_obj, args):
  """Transcribes everything `args` name; returns the exit status."""
  from transcription import pipeline  # pylint: disable=g-import-not-at-top
  import deep_speech_model  # pylint: disable=g-import-not-at-top
  # A manifest's rows are read with the model's labels and text policy; it
  # names no output, so loading the model first refuses nothing later.
  model = (model_flags.load_model_from_flags(flags_obj) if flags_obj.manifest
           else None)
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
  model = model or model_flags.load_model_from_flags(flags_obj)
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


def _stream(flags_obj):
  """--stream: transcribes standard input as it arrives; the exit status."""
  from transcription import output  # pylint: disable=g-import-not-at-top
  from transcription import streaming  # pylint: disable=g-import-not-at-top
  if not re.fullmatch(r"[a-z0-9]+", flags_obj.stream_type):
    _error("--stream_type must be raw or a sox file type such as wav, "
           "flac, mp3 (got %r)" % flags_obj.stream_type)
    return 1
  transcriber = streaming.StreamingTranscriber(
      flags_obj.model_dir or flags_obj.saved_model,
      model_flags.fallback_settings(flags_obj),
      flags_obj.tflite_threads or None)
  if transcriber.warning:
    _note(transcriber.warning)
  transcriber.decoder, _ = model_flags.decoder_from_flags(
      flags_obj, transcriber.settings.labels, transcriber.recorded_decoder,
      transcriber.settings_file, _note)
  rate = transcriber.settings.sample_rate
  source, process = sys.stdin.buffer.raw, None
  if flags_obj.stream_type != "raw":
    process = _sox_to_pcm(flags_obj.stream_type, rate)
    source = process.stdout
  else:
    rate = flags_obj.stream_rate
  stream = transcriber.start(
      sample_rate=rate, name="-",
      endpoint_silence_sec=flags_obj.endpoint_silence_sec)
  line = _PartialLine(sys.stdout)
  write = output.formatter(flags_obj.output_format)
  finals = 0
  interrupted = False
  try:
    for samples in streaming.pcm_blocks(source.read):
      text = stream.feed(samples)
      for final in stream.pop_finals():
        line.final(write(final))
        finals += 1
      line.show(text)
  except KeyboardInterrupt:
    interrupted = True  # the end of a live recording: its final follows
  status = 0
  if process is not None and not interrupted:
    error = process.stderr.read().decode("utf-8", "replace").strip()
    if process.wait() != 0:
      line.show("")
      _error("sox cannot read standard input as %s (%s)" % (
          flags_obj.stream_type, error.splitlines()[-1] if error else
          "no reason given"))
      status = 1
  last = stream.finish()
  for final in stream.pop_finals():
    line.final(write(final))
    finals += 1
  # After endpoints, a last utterance of nothing but pause is no line.
  if last.text or not finals:
    line.final(write(last))
  return status


def _sox_to_pcm(file_type, rate):
  """sox decoding standard input (of `file_type`) to s16le mono at `rate`."""
  if shutil.which("sox") is None:
    raise OSError("--stream_type=%s needs the sox program" % file_type)
  # -D: no dither, so that the same input always gives the same samples.
  return subprocess.Popen(
      ["sox", "-V1", "-t", file_type, "-", "-D", "-t", "raw", "-e",
       "signed-integer", "-b", "16", "-c", "1", "-r", str(rate), "-"],
      stdin=sys.stdin.buffer, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


class _PartialLine(object):
  """The text so far: rewritten in place on a terminal, else a line each."""

  def __init__(self, out):
    self._out = out
    self._tty = out.isatty()
    self._last = ""

  def show(self, text):
    if text == self._last:
      return
    self._last = text
    if self._tty:
      # The end of a long text, so that one terminal line holds it.
      width = max(10, shutil.get_terminal_size().columns - 1)
      self._out.write("\r\033[K" + text[-width:])
    else:
      self._out.write("partial\t%s\n" % text)
    self._out.flush()

  def final(self, text):
    if self._tty:
      self._out.write("\r\033[K")
    self._out.write(text)
    self._out.flush()
    self._last = ""  # the next utterance's partials start a new line


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
  flags.DEFINE_integer("num", 5, "Rows of --manifest to transcribe.",
                       lower_bound=1)
  flags.DEFINE_enum("output_format", "tsv", ["tsv", "json", "srt"],
                    "tsv: path<TAB>text; json: one object per file with "
                    "words and times; srt: subtitles.")
  flags.DEFINE_string(
      "output_dir", None,
      "Write one file per input here (name.tsv/.json/.srt) instead of to "
      "standard output.")
  flags.DEFINE_bool(
      "stream", False,
      "Transcribe standard input as one live recording, showing the text "
      "as it comes (a model trained with --is_bidirectional=false; the "
      "decoder flags as for files). See --stream_type, --stream_rate and "
      "--endpoint_silence_sec.")
  flags.DEFINE_string(
      "stream_type", "raw",
      "With --stream: raw (s16le mono PCM at --stream_rate) or a file type "
      "sox reads from a pipe (wav, flac, mp3, ...).")
  flags.DEFINE_integer("stream_rate", 16000,
                       "With --stream_type=raw: the PCM's rate in Hz.")
  model_flags.define_endpoint_flag()


def main(argv):
  logging.set_verbosity(logging.WARNING)
  # Transcripts hold the model's letters, any alphabet: a locale's narrower
  # encoding would fail on the first one it lacks.
  sys.stdout.reconfigure(encoding="utf-8")
  cpu.enable_onednn_if_unset()
  flags_obj = flags.FLAGS
  if flags_obj.stream and (argv[1:] or flags_obj.manifest):
    _error("--stream reads standard input: give no files or --manifest")
    sys.exit(1)
  if flags_obj.stream_rate < 1:
    _error("--stream_rate must be >= 1")
    sys.exit(1)

  def run():
    try:
      return (_stream(flags_obj) if flags_obj.stream
              else _transcribe(flags_obj, argv[1:]))
    except output_paths.OutputIsInputError as e:
      _error(e)
      return 2
  sys.exit(model_flags.exit_status(run, _error))


if __name__ == "__main__":
  define_flags()
  app.run(main)

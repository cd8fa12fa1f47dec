"""Writes transcripts as TSV lines, JSON objects or SRT subtitles.

A transcript is a `FileTranscript`: the file, its text, its duration in
seconds and its words with start/end seconds and a confidence.
"""

import json

# Subtitle cues: at most this long, and a new cue after a pause this long.
SRT_MAX_CUE_SEC = 6.0
SRT_MAX_CUE_CHARS = 84
SRT_PAUSE_SEC = 1.0

FORMATS = ("tsv", "json", "srt")


class FileTranscript(object):
  """The transcription of one file.

  Attributes:
    path: the file as given.
    text: the transcript (chunks joined with a space).
    duration: seconds of audio.
    words: `timing.Word`s in order.
  """

  def __init__(self, path, text, duration, words):
    self.path = path
    self.text = text
    self.duration = duration
    self.words = words


def tsv(transcript):
  """`path<TAB>text` (tabs and newlines in the path would break the line)."""
  return "%s\t%s\n" % (transcript.path, transcript.text)


def json_line(transcript):
  """One JSON object on one line: path, text, duration, words."""
  return json.dumps({
      "path": transcript.path,
      "text": transcript.text,
      "duration": round(transcript.duration, 3),
      "words": [w.to_dict() for w in transcript.words],
  }, ensure_ascii=False) + "\n"


def srt(transcript):
  """SubRip subtitles of the words, numbered from 1."""
  blocks = []
  for i, cue in enumerate(srt_cues(transcript.words), 1):
    blocks.append("%d\n%s --> %s\n%s\n" % (
        i, _srt_time(cue[0].start), _srt_time(cue[-1].end),
        " ".join(w.word for w in cue)))
  return "\n".join(blocks)


def srt_cues(words, max_sec=SRT_MAX_CUE_SEC, max_chars=SRT_MAX_CUE_CHARS,
             pause_sec=SRT_PAUSE_SEC):
  """Groups words into cues: a new cue after a pause or when one is full.

  Returns:
    A list of non-empty lists of words.
  """
  cues = []
  for word in words:
    if cues:
      cue = cues[-1]
      chars = sum(len(w.word) + 1 for w in cue) + len(word.word)
      if (word.start - cue[-1].end < pause_sec and
          word.end - cue[0].start <= max_sec and chars <= max_chars):
        cue.append(word)
        continue
    cues.append([word])
  return cues


def _srt_time(seconds):
  """HH:MM:SS,mmm."""
  millis = int(round(max(0.0, seconds) * 1000))
  hours, millis = divmod(millis, 3600000)
  minutes, millis = divmod(millis, 60000)
  secs, millis = divmod(millis, 1000)
  return "%02d:%02d:%02d,%03d" % (hours, minutes, secs, millis)


def formatter(output_format):
  """The function that formats one `FileTranscript` as `output_format`."""
  return {"tsv": tsv, "json": json_line, "srt": srt}[output_format]


EXTENSIONS = {"tsv": ".tsv", "json": ".json", "srt": ".srt"}

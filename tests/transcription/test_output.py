"""TSV, JSON and SRT output parse back to what was transcribed."""

import json
import re

from transcription import output
from transcription import timing


def _transcript():
  words = [timing.Word("hello", 0.5, 0.9, 0.91),
           timing.Word("world", 1.0, 1.4, 0.5),
           timing.Word("again", 3.0, 3.5, None),
           timing.Word("x" * 80, 3.6, 4.0, 0.2)]
  return output.FileTranscript("a b/c.wav", "hello world again " + "x" * 80,
                               3661.25, words)


def test_tsv_is_path_tab_text():
  assert output.tsv(_transcript()).split("\t") == [
      "a b/c.wav", "hello world again " + "x" * 80 + "\n"]


def test_json_is_one_object_per_line_with_words_and_times():
  line = output.json_line(_transcript())
  assert line.count("\n") == 1
  data = json.loads(line)
  assert data["path"] == "a b/c.wav"
  assert data["duration"] == 3661.25
  assert data["words"][0] == {"word": "hello", "start": 0.5, "end": 0.9,
                              "confidence": 0.91}
  assert data["words"][2]["confidence"] is None


def _parse_srt(text):
  """(index, start s, end s, text) per cue, strictly in SubRip syntax."""
  cues = []
  stamp = r"(\d\d):(\d\d):(\d\d),(\d\d\d)"
  for block in text.strip("\n").split("\n\n"):
    lines = block.split("\n")
    match = re.fullmatch(stamp + " --> " + stamp, lines[1])
    assert match, lines[1]
    g = [int(x) for x in match.groups()]
    cues.append((int(lines[0]), g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1e3,
                 g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1e3,
                 " ".join(lines[2:])))
  return cues


def test_srt_parses_and_breaks_cues_at_pauses_and_length():
  cues = _parse_srt(output.srt(_transcript()))
  assert [c[0] for c in cues] == [1, 2, 3]
  assert cues[0][1:] == (0.5, 1.4, "hello world")
  assert cues[1][1:] == (3.0, 3.5, "again")  # after a 1.6 s pause
  assert cues[2][3] == "x" * 80  # would make the cue too long
  assert output._srt_time(3661.25) == "01:01:01,250"


def test_other_alphabets_are_written_as_themselves(tmp_path):
  from common import atomic_file  # pylint: disable=g-import-not-at-top
  words = [timing.Word("straße", 0.0, 0.5, 0.9),
           timing.Word("привет", 0.6, 1.0, 0.8)]
  transcript = output.FileTranscript("ä.wav", "straße привет", 1.0, words)
  line = output.json_line(transcript)
  assert "straße привет" in line  # not \u escapes
  assert json.loads(line)["words"][1]["word"] == "привет"
  path = tmp_path / "x.srt"
  atomic_file.write_text(str(path), output.srt(transcript))
  assert path.read_bytes().decode("utf-8").split("\n")[2] == "straße привет"

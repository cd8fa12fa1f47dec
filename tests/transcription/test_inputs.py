"""Files, directories, manifests and standard input as arguments."""

import io
import os

from tests import conftest
from transcription import inputs


def test_directories_are_searched_recursively_for_audio(tmp_path):
  for name in ("b/2.flac", "a/1.wav", "a/notes.txt", "c.MP3"):
    os.makedirs(os.path.dirname(str(tmp_path / name)), exist_ok=True)
    open(str(tmp_path / name), "w").close()
  paths, problems = inputs.expand([str(tmp_path)])
  assert paths == [str(tmp_path / n) for n in ("c.MP3", "a/1.wav",
                                               "b/2.flac")]
  assert not problems


def test_manifests_stdin_and_plain_files_keep_their_order(tmp_path):
  manifest = conftest.write_manifest(str(tmp_path / "m.csv"),
                                     [("/x/1.wav", 10, "a"),
                                      ("/x/2.wav", 10, "b")])
  stdin = io.StringIO("/y/3.wav\n\n/y/4 with space.wav\n")
  paths, problems = inputs.expand(["/z/0.wav", manifest, "-"], stdin)
  assert paths == ["/z/0.wav", "/x/1.wav", "/x/2.wav", "/y/3.wav",
                   "/y/4 with space.wav"]
  assert not problems


def test_an_empty_directory_is_a_problem(tmp_path):
  paths, problems = inputs.expand([str(tmp_path)])
  assert not paths
  assert problems[0][0] == str(tmp_path)
  assert "no audio file" in problems[0][1]

"""Tests for data/vocabulary.py."""

import pytest

from data import vocabulary


def test_default_vocabulary_has_the_blank_last():
  tokens = vocabulary.read_tokens(vocabulary.VOCABULARY_FILE)
  assert len(tokens) == 29
  assert tokens[0] == " "
  assert tokens[vocabulary.blank_index(tokens)] == "-"
  assert vocabulary.blank_index("".join(tokens)) == 28


def test_characters_leave_out_the_blank(tmp_path):
  path = tmp_path / "v.txt"
  path.write_text("# comment\n \na\nb\n_\n")
  assert vocabulary.read_tokens(str(path)) == [" ", "a", "b", "_"]
  assert vocabulary.characters(str(path)) == {" ", "a", "b"}


def test_duplicate_or_empty_vocabulary_is_an_error(tmp_path):
  path = tmp_path / "v.txt"
  path.write_text("a\nb\na\n")
  with pytest.raises(ValueError, match="appears twice"):
    vocabulary.read_tokens(str(path))
  path.write_text("# only a comment\n")
  with pytest.raises(ValueError, match="no token"):
    vocabulary.read_tokens(str(path))

"""Tests for data/vocabulary.py."""

import os

import hypothesis
from hypothesis import strategies as st
import pytest

from data import featurizer
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


def test_a_byte_order_mark_and_crlf_line_ends_are_read(tmp_path):
  path = tmp_path / "v.txt"
  # As Notepad saves it: a UTF-8 BOM before the first comment, CRLF ends.
  path.write_bytes("\ufeff# comment\r\n \r\na\r\nb\r\n-\r\n".encode("utf-8"))
  assert vocabulary.read_tokens(str(path)) == [" ", "a", "b", "-"]
  path.write_bytes("\ufeffa\nb\n".encode("utf-8"))  # the BOM before a token
  assert vocabulary.read_tokens(str(path)) == ["a", "b"]


@pytest.mark.parametrize("content,message", [
    (b" \na\nab\n-\n", ":3: token 'ab' is 2 characters"),
    (b" \na\n\n# x\na \n-\n", ":5: token 'a ' is 2 characters"),
    (b"a\nb\na\n", ":3: token 'a' appears twice (first on line 1)"),
    (b"a\n\xff\xfe\n-\n", ":2: not UTF-8"),
    (b"\xef\xbb\xbf# only a comment\n", " holds no token"),
    (b"-\n", " holds only the blank '-'"),
])
def test_a_bad_vocabulary_names_the_file_and_line(tmp_path, content,
                                                  message):
  path = tmp_path / "v.txt"
  path.write_bytes(content)
  with pytest.raises(vocabulary.VocabularyError) as info:
    vocabulary.read_tokens(str(path))
  assert str(info.value).startswith(str(path))
  assert message in str(info.value)
  assert path.read_bytes() == content  # read, never rewritten
  with pytest.raises(vocabulary.VocabularyError):
    featurizer.TextFeaturizer(str(path))


# Property test: any bytes give a usable vocabulary or a VocabularyError
# naming the file, never another exception. FUZZ_EXAMPLES=400 searches
# longer (random seeds) than the suite's fixed examples.
SETTINGS = hypothesis.settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 60)), deadline=5000,
    derandomize=not os.environ.get("FUZZ_EXAMPLES"))

_LINE = st.one_of(
    st.text(max_size=3),
    st.sampled_from(["", " ", "#", "# c", "\ufeff", "\r", "a", "-", "\x00",
                     "\u00e9", "e\u0301", "\U0001f600", "\ud7ff", "ab"]))


def _check_reader(path):
  """read_tokens' outcome for `path`: the tokens, or None for its error."""
  try:
    tokens = vocabulary.read_tokens(path)
  except vocabulary.VocabularyError as e:
    assert str(e).startswith(path)
    return None
  assert len(tokens) >= 2 and len(set(tokens)) == len(tokens)
  assert all(len(t) == 1 and t not in "#\n" for t in tokens)
  text = featurizer.TextFeaturizer(path)
  assert text.speech_labels == "".join(tokens)
  assert vocabulary.characters(path) == set(tokens[:-1])
  return tokens


@SETTINGS
@hypothesis.given(st.binary(max_size=200))
def test_random_bytes_give_a_vocabulary_or_its_error(tmp_path_factory, data):
  path = str(tmp_path_factory.mktemp("vocab") / "v.txt")
  with open(path, "wb") as f:
    f.write(data)
  _check_reader(path)


@SETTINGS
@hypothesis.given(
    lines=st.lists(_LINE, max_size=12),
    bom=st.booleans(), newline=st.sampled_from(["\n", "\r\n"]))
def test_random_lines_give_a_vocabulary_or_its_error(tmp_path_factory, lines,
                                                     bom, newline):
  path = str(tmp_path_factory.mktemp("vocab") / "v.txt")
  text = ("\ufeff" if bom else "") + newline.join(lines) + newline
  with open(path, "wb") as f:
    f.write(text.encode("utf-8"))
  # The format, restated: one BOM may open the file, lines end in \n or
  # \r\n, "#" opens a comment, every other non-empty line is one token.
  lines = (text[1:] if text.startswith("\ufeff") else text).split("\n")
  wanted = [l[:-1] if l.endswith("\r") else l for l in lines]
  wanted = [l for l in wanted if l and not l.startswith("#")]
  good = (all(len(l) == 1 for l in wanted) and
          len(set(wanted)) == len(wanted) >= 2)
  assert _check_reader(path) == (wanted if good else None)

"""The vocabulary file: one home for its path, its format and the CTC blank.

data/vocabulary.txt holds one token per line (a line holding one space is the
space token) and `#` starts a comment line. TensorFlow's CTC loss takes the
last class as the blank, so the last token of the file is the blank ("-" in
data/vocabulary.txt): a class the model emits, never a character of a
transcript. Tokens may be any characters (any alphabet, combining marks);
data/make_vocabulary.py writes the vocabulary of a corpus's transcripts.
"""

import os

# The default vocabulary: " ", a-z, "'", and the CTC blank "-" (index 28).
VOCABULARY_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               "vocabulary.txt")


class VocabularyError(ValueError):
  """A vocabulary file that cannot be used; names the file and line."""


def read_tokens(path):
  """The tokens of a vocabulary file, in class order.

  The file is UTF-8, with or without a byte-order mark (editors on Windows
  write one), and with "\n" or "\r\n" line ends.

  Raises:
    OSError: the file cannot be read.
    VocabularyError: not UTF-8, a token that is not one character, a token
      that appears twice, or fewer than two tokens (a character and the
      blank).
  """
  with open(path, "rb") as f:
    data = f.read()
  try:
    text = data.decode("utf-8-sig")
  except UnicodeDecodeError as e:
    raise VocabularyError("%s:%d: not UTF-8 (%s)" % (
        path, data[:e.start].count(b"\n") + 1, e.reason)) from None
  tokens, lines = [], {}
  for number, line in enumerate(text.split("\n"), start=1):
    # Only the line end goes: a line holding a single space is the space
    # token. A trailing empty string after the last newline is no token.
    line = line[:-1] if line.endswith("\r") else line
    if not line or line.startswith("#"):
      continue
    if len(line) != 1:
      raise VocabularyError(
          "%s:%d: token %r is %d characters; each line holds one character "
          "(a line holding one space is the space token)" % (
              path, number, line, len(line)))
    if line in lines:
      raise VocabularyError("%s:%d: token %r appears twice (first on line "
                            "%d)" % (path, number, line, lines[line]))
    lines[line] = number
    tokens.append(line)
  if not tokens:
    raise VocabularyError("%s holds no token" % path)
  if len(tokens) < 2:
    raise VocabularyError("%s holds only the blank %r; it needs the "
                          "transcripts' characters before it" % (
                              path, tokens[0]))
  return tokens


def blank_index(labels):
  """The class index of the CTC blank: the last of `labels` (any sequence)."""
  return len(labels) - 1


def characters(path):
  """The characters a transcript may contain: every token but the blank."""
  tokens = read_tokens(path)
  return set(tokens[:blank_index(tokens)])

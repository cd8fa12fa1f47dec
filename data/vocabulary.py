"""The vocabulary file: one home for its path, its format and the CTC blank.

data/vocabulary.txt holds one token per line (a line holding one space is the
space token) and `#` starts a comment line. TensorFlow's CTC loss takes the
last class as the blank, so the last token of the file is the blank ("-" in
data/vocabulary.txt): a class the model emits, never a character of a
transcript.
"""

import os

# The default vocabulary: " ", a-z, "'", and the CTC blank "-" (index 28).
VOCABULARY_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               "vocabulary.txt")


def read_tokens(path):
  """The tokens of a vocabulary file, in class order.

  Raises:
    ValueError: a token appears twice, or the file holds no token.
  """
  with open(path, encoding="utf-8") as f:
    lines = f.read().split("\n")
  tokens = []
  for line in lines:
    # Only the newline goes: a line holding a single space is the space
    # token. A trailing empty string after the last newline is no token.
    if not line or line.startswith("#"):
      continue
    if line in tokens:
      raise ValueError("%s: token %r appears twice" % (path, line))
    tokens.append(line)
  if not tokens:
    raise ValueError("%s holds no token" % path)
  return tokens


def blank_index(labels):
  """The class index of the CTC blank: the last of `labels` (any sequence)."""
  return len(labels) - 1


def characters(path):
  """The characters a transcript may contain: every token but the blank."""
  tokens = read_tokens(path)
  return set(tokens[:blank_index(tokens)])

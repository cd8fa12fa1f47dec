"""Character n-gram LMs: the language model of the lexicon-free beam search.

A word n-gram lets the beam search spell only the words it has seen, so a
word outside its text can only come out misspelt as another word. A
character n-gram scores spellings instead: any word can come out, and the
LM still prefers the letter sequences of English. flashlight's lexicon-free
search takes such a model, queried once per emitted label.

The file is an ordinary ARPA file whose tokens are single labels, with
WORD_BOUNDARY standing for the space (ARPA separates tokens by spaces). That
is how a decoder tells the two kinds apart: `is_character_lm`.
"""

from decoding import lm as lm_lib

WORD_BOUNDARY = "|"


def to_units(sentence):
  """A normalized sentence as the character LM's tokens:
  "the cat" -> "t h e | c a t"."""
  return " ".join(WORD_BOUNDARY if c == " " else c
                  for c in " ".join(sentence.split()))


def character_units(path):
  """The units of a character LM (its unigrams: single characters, the word
  boundary among them), or None for any other file. A KenLM binary
  (unreadable here) or a damaged file counts as a word LM: what is wrong
  with it is reported where it is read as one, in the reader's terms.
  """
  with open(path, "rb") as f:
    if f.read(len(lm_lib.KENLM_BINARY_MAGIC)) == lm_lib.KENLM_BINARY_MAGIC:
      return None
  try:
    units = lm_lib.arpa_words(path)
  except lm_lib.LmError:
    return None
  if WORD_BOUNDARY in units and all(len(u) == 1 for u in units):
    return units
  return None


def is_character_lm(path):
  """True when `path` is a character LM (see `character_units`)."""
  return character_units(path) is not None


def check_labels(path, units, labels, blank):
  """Refuses a character LM that holds a unit the labels cannot emit (the
  LM was built for another alphabet).

  Raises:
    lm_lib.LmError: naming the file and the first such unit.
  """
  emitted = set(labels[:blank]) - {" "}
  if WORD_BOUNDARY in emitted:
    raise lm_lib.LmError(
        "the labels hold %r, which a character LM uses for the space: a "
        "character LM cannot serve this model" % WORD_BOUNDARY)
  foreign = [u for u in units if u != WORD_BOUNDARY and u not in emitted]
  if foreign:
    raise lm_lib.LmError(
        "%s is a character LM of another alphabet: the model has no label "
        "%r" % (path, foreign[0]))


def token_dictionary(fl_dictionary, labels):
  """flashlight's dictionary of the labels in class order, as the LM spells
  them: the space as WORD_BOUNDARY (the blank is never scored)."""
  tokens = fl_dictionary.Dictionary()
  for label in labels:
    tokens.add_entry(WORD_BOUNDARY if label == " " else label)
  return tokens

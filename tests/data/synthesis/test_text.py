"""Tests for data/synthesis/text.py: numbers, normalization, the pool.

The pool test reads the real Debian text packages; a missing package fails
with the apt-get line rather than skipping.
"""

import pytest

from data.synthesis import text

ALLOWED = set("abcdefghijklmnopqrstuvwxyz' ")


@pytest.mark.parametrize("n, words", [
    (0, "zero"), (7, "seven"), (13, "thirteen"), (40, "forty"),
    (101, "one hundred one"), (2041, "two thousand forty one"),
    (1000000, "one million"),
    (123456789, "one hundred twenty three million four hundred fifty six "
                "thousand seven hundred eighty nine")])
def test_cardinal_words(n, words):
  assert text.cardinal_words(n) == words


def test_ordinals_and_years():
  assert text.ordinal_words(1) == "first"
  assert text.ordinal_words(22) == "twenty second"
  assert text.ordinal_words(40) == "fortieth"
  assert text.ordinal_words(100) == "one hundredth"
  assert text.number_words("1984") == "nineteen eighty four"
  assert text.number_words("1900") == "nineteen hundred"
  assert text.number_words("1905") == "nineteen oh five"
  assert text.number_words("2005") == "two thousand five"
  assert text.number_words("007") == "zero zero seven"


@pytest.mark.parametrize("raw, expected", [
    ("It cost $5, or 10% of 1,200!",
     "it cost five dollars or ten percent of one thousand two hundred"),
    ("In 1,200 or 1200 AD", "in one thousand two hundred or twelve hundred ad"),
    ("Mr. Smith came 2nd in 1984.",
     "mister smith came second in nineteen eighty four"),
    ("\u201cDon't\u201d say it\u2014ever.", "don't say it ever"),
    ("A well-known 'quote' here", "a well known quote here"),
    ("pi is 3.14 or so", "pi is three point one four or so"),
    ("Meet me at 10:30 today", None),     # Times are ambiguous to read.
    ("Half is 1/2 of it", None),
    ("The U.S.A. is big", None),          # Initialisms get spelled out.
    ("Q: what is it", None),              # Stray single letters.
    ("see chapter 5 etc", None),          # Abbreviations.
    ("mail me @ home now", None),         # Symbols.
    ("too short", None),
    ("one two three four five six seven eight nine ten eleven twelve "
     "thirteen", None)])
def test_normalize_sentence(raw, expected):
  assert text.normalize_sentence(raw) == expected


def test_dictionary_filter_and_sentence_split():
  words = {"the", "cat", "sat", "down"}
  assert text.normalize_sentence("The cat sat down.", words) == (
      "the cat sat down")
  assert text.normalize_sentence("The cat sat on NASA.", words) is None
  assert text.split_sentences(
      "Mr. Jones left.  He said bye! Then\n  he went? Yes") == [
          "mister Jones left.", "He said bye!", "Then he went?", "Yes"]


def test_sentence_pool_is_large_and_in_vocabulary():
  missing = text.missing_text_packages()
  if missing:
    pytest.fail("apt-get install -y " + " ".join(missing))
  sentences = text.load_sentences()
  # Tens of thousands of distinct sentences keep a model from memorizing.
  assert len(sentences) > 30000
  assert sentences == sorted(set(sentences))
  for sentence in sentences[::97]:
    assert set(sentence) <= ALLOWED
    assert 3 <= len(sentence.split()) <= 12


def test_restrict_vocabulary_keeps_sentences_of_frequent_words():
  sentences = ["the cat sat", "the dog sat", "the cat ran", "a zebra sat"]
  # Counts: the 3, sat 3, cat 2, then a, dog, ran, zebra once each (ties
  # ranked alphabetically).
  assert text.restrict_vocabulary(sentences, 3) == ["the cat sat"]
  assert text.restrict_vocabulary(sentences, 6) == [
      "the cat sat", "the dog sat", "the cat ran"]
  assert text.restrict_vocabulary(sentences, 0) == sentences


def test_missing_text_packages_are_named(tmp_path):
  present = tmp_path / "words"
  present.write_text("cat\n")
  assert text.missing_text_packages(
      {"pkg-a": (str(present), str(tmp_path / "absent")),
       "pkg-b": (str(present),)}) == ["pkg-a"]

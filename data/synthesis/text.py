"""Sentences for the synthesized sample corpus, read from offline Debian text.

Two packages from Debian main provide English prose without a network:

* ``wordnet-base``: the usage examples quoted in WordNet glosses
  (``/usr/share/wordnet/data.{noun,verb,adj,adv}``), short everyday phrases
  such as "she was able to program her computer".
* ``fortunes-min``: the ``fortunes``, ``literature`` and ``riddles`` cookie
  files under ``/usr/share/games/fortunes``, split into sentences.

Every sentence is normalized to the project vocabulary (lower-case a-z,
apostrophe and space) *before* it is spoken, and the speech engines read the
normalized text, so the audio says exactly the words of the transcript: numbers
are spelled out here rather than left to each engine's own reading. Sentences
that cannot be normalized unambiguously (times, fractions, symbols,
initialisms, stray single letters) are dropped rather than guessed. With
``wamerican`` every word must also be in ``/usr/share/dict/words``, which drops
acronyms, typos and foreign words the engines would spell out or mangle.

Only the files named here are read, never "whatever is installed", so the same
package versions give the same sentence pool on every machine.
"""

import collections
import os
import re
import unicodedata

# Package -> files read from it. The corpus module turns missing files into
# an `apt-get install` line, so keep the package names exact.
WORDNET_FILES = tuple(
    "/usr/share/wordnet/data." + pos for pos in ("noun", "verb", "adj", "adv"))
FORTUNE_FILES = tuple(
    "/usr/share/games/fortunes/" + name
    for name in ("fortunes", "literature", "riddles"))
DICTIONARY_FILE = "/usr/share/dict/words"
TEXT_PACKAGES = {
    "wordnet-base": WORDNET_FILES,
    "fortunes-min": FORTUNE_FILES,
    "wamerican": (DICTIONARY_FILE,),
}

MIN_WORDS = 3
MAX_WORDS = 12

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve "
         "thirteen fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_IRREGULAR = {"one": "first", "two": "second", "three": "third",
                      "five": "fifth", "eight": "eighth", "nine": "ninth",
                      "twelve": "twelfth"}

# Titles the engines would expand anyway; spelling them out keeps the
# transcript equal to what is said. Other abbreviations drop the sentence.
_TITLES = {"mr": "mister", "mrs": "missus", "dr": "doctor"}
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr etc vs wm co inc ltd esp ie eg cf approx".split())
_SINGLE_LETTER_WORDS = frozenset(("a", "i"))

_NUMBER = re.compile(r"(\$?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(st|nd|rd|th)?(%?)"
                     r"(?![\w:/])")
_INITIALISM = re.compile(r"\b(?:[A-Za-z]\.){2,}")
_TITLE = re.compile(r"\b(Mr|Mrs|Dr)\.", re.IGNORECASE)
# Punctuation that is only spoken as a pause; anything else left after
# normalization (digits, /, @, #, brackets...) drops the sentence.
_PAUSES = re.compile(r"[.,;:!?\"()\-]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')]*\s+")
_QUOTES = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
           "`": "'", "\u2013": "-", "\u2014": "-"}


def _below_thousand(n):
  """Spells 0 < n < 1000 in words (no "and", as US engines read it)."""
  words = []
  if n >= 100:
    words += [_ONES[n // 100], "hundred"]
    n %= 100
  if n >= 20:
    words.append(_TENS[n // 10])
    n %= 10
  if n:
    words.append(_ONES[n])
  return words


def cardinal_words(n):
  """Spells a non-negative integer below 10**12 in words.

  Args:
    n: int, 0 <= n < 10**12.

  Returns:
    str, for example "two thousand forty one".
  """
  if not 0 <= n < 10**12:
    raise ValueError("number out of range: %d" % n)
  if n == 0:
    return "zero"
  words = []
  for scale, name in _SCALES:
    if n >= scale:
      words += _below_thousand(n // scale) + [name]
      n %= scale
  words += _below_thousand(n)
  return " ".join(words)


def ordinal_words(n):
  """Spells an ordinal ("twenty first", "hundredth") for 0 < n < 10**12."""
  words = cardinal_words(n).split()
  last = words[-1]
  if last in _ORDINAL_IRREGULAR:
    last = _ORDINAL_IRREGULAR[last]
  elif last.endswith("y"):
    last = last[:-1] + "ieth"
  else:
    last += "th"
  return " ".join(words[:-1] + [last])


def number_words(digits, pairs=True):
  """Spells a bare integer as English speakers read it in running text.

  Four-digit numbers from 1100 to 1999 are read in pairs ("nineteen
  eighty four", "fifteen hundred"), which is right for years and natural
  for counts; everything else is read as a cardinal.

  Args:
    digits: str of decimal digits, no separators.
    pairs: bool, allow the paired reading; False for numbers written with
      a thousands separator ("1,200" is a count, not a year).

  Returns:
    str of lower-case words.
  """
  n = int(digits)
  if len(digits) > 1 and digits.startswith("0"):
    # "007", zip codes: read digit by digit.
    return " ".join(_ONES[int(d)] for d in digits)
  if pairs and 1100 <= n <= 1999:
    high, low = divmod(n, 100)
    tail = "hundred" if low == 0 else (
        "oh " + _ONES[low] if low < 10 else cardinal_words(low))
    return cardinal_words(high) + " " + tail
  return cardinal_words(n)


def _spell_number(match):
  """re.sub callback: one number token (with $, %, decimals, ordinal)."""
  dollar, written, decimals, suffix, percent = match.groups()
  digits = written.replace(",", "")
  if len(digits) > 12:
    return " \x00 "  # Marks the sentence for rejection.
  if suffix:
    if decimals or dollar or percent:
      return " \x00 "
    words = ordinal_words(int(digits)) if int(digits) else "\x00"
  else:
    words = number_words(digits, pairs=digits == written)
    if decimals:
      words += " point " + " ".join(_ONES[int(d)] for d in decimals[1:])
  if dollar:
    words += " dollar" if words == "one" else " dollars"
  if percent:
    words += " percent"
  return " " + words + " "


def normalize_sentence(text, dictionary=None):
  """Normalizes one sentence to the vocabulary, or rejects it.

  Args:
    text: str, one sentence of raw English text.
    dictionary: optional set of allowed lower-case words; when given, a
      sentence with any other word is rejected.

  Returns:
    str of MIN_WORDS..MAX_WORDS lower-case words (a-z and apostrophes)
    separated by single spaces, or None when the sentence is rejected.
  """
  for fancy, plain in _QUOTES.items():
    text = text.replace(fancy, plain)
  text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
  if _INITIALISM.search(text):
    return None
  text = _TITLE.sub(lambda m: _TITLES[m.group(1).lower()], text)
  text = text.replace("&", " and ")
  text = _NUMBER.sub(_spell_number, text)
  text = _PAUSES.sub(" ", text).lower()
  words = []
  for word in text.split():
    # Apostrophes at the edges are quotation marks, not contractions.
    word = word.strip("'")
    if not word:
      continue
    if not re.fullmatch(r"[a-z]+(?:'[a-z]+)*", word):
      return None
    if len(word) == 1 and word not in _SINGLE_LETTER_WORDS:
      return None
    if word in _ABBREVIATIONS:
      return None
    if dictionary is not None and word not in dictionary:
      return None
    words.append(word)
  if not MIN_WORDS <= len(words) <= MAX_WORDS:
    return None
  return " ".join(words)


def split_sentences(text):
  """Splits running text into sentences at ., ! and ? followed by space.

  Titles are expanded first so that "Mr. Smith" does not end a sentence.
  """
  text = _TITLE.sub(lambda m: _TITLES[m.group(1).lower()], text)
  return [s.strip() for s in _SENTENCE_END.split(" ".join(text.split()))
          if s.strip()]


def read_dictionary(path=DICTIONARY_FILE):
  """Reads a word list into the set of words the engines say as written.

  Lower-case entries and capitalized names ("Paris") are kept, lower-cased;
  all-capital entries are acronyms ("NASA") that engines spell out, so they
  are left out.

  Args:
    path: str, a one-word-per-line list such as wamerican's.

  Returns:
    set of lower-case str.
  """
  words = set()
  with open(path, encoding="utf-8", errors="ignore") as f:
    for line in f:
      word = line.strip()
      if word and (word.islower() or word[1:].islower() or len(word) == 1):
        words.add(word.lower())
  return words


def read_wordnet_examples(paths=WORDNET_FILES):
  """Yields the quoted usage examples from WordNet data files."""
  for path in paths:
    with open(path, encoding="utf-8", errors="ignore") as f:
      for line in f:
        # Lines starting with two spaces are the license header.
        if line.startswith("  ") or "|" not in line:
          continue
        gloss = line.split("|", 1)[1]
        for example in re.findall(r'"([^"]+)"', gloss):
          yield from split_sentences(example)


def read_fortunes(paths=FORTUNE_FILES):
  """Yields the sentences of fortune cookie files, without attributions."""
  for path in paths:
    with open(path, encoding="utf-8", errors="ignore") as f:
      cookies = f.read().split("\n%\n")
    for cookie in cookies:
      # "-- Mark Twain" lines name the author; they are not sentences.
      lines = [l for l in cookie.splitlines()
               if not l.lstrip().startswith("--")]
      yield from split_sentences("\n".join(lines))


def load_sentences(use_dictionary=True):
  """Reads and normalizes every usable sentence from the Debian text files.

  Args:
    use_dictionary: bool, keep only sentences whose words are all in
      DICTIONARY_FILE.

  Returns:
    sorted list of unique normalized sentences (str). Sorted so that the
    order never depends on file reading order; callers shuffle with a seed.
  """
  dictionary = read_dictionary() if use_dictionary else None
  sentences = set()
  for raw in list(read_wordnet_examples()) + list(read_fortunes()):
    sentence = normalize_sentence(raw, dictionary)
    if sentence:
      sentences.add(sentence)
  return sorted(sentences)


def restrict_vocabulary(sentences, vocab_size):
  """Keeps the sentences whose words are all among the most frequent ones.

  WordNet examples are full of rare headwords; with 2,000 training
  sentences about 28% of dev words never occur in training (11.8% within
  the 5,000 most frequent words, 7.5% within 3,000), and a small model
  learns common words first. Frequency is counted over the sentences
  themselves, the only word counts available offline.

  Args:
    sentences: list of normalized sentences.
    vocab_size: int, the number of most frequent words allowed; 0 keeps
      every sentence.

  Returns:
    list of sentences, in the input order.
  """
  if not vocab_size:
    return list(sentences)
  counts = collections.Counter(w for s in sentences for w in s.split())
  # Ties broken alphabetically so the cut never depends on dict order.
  ranked = sorted(counts, key=lambda w: (-counts[w], w))
  allowed = set(ranked[:vocab_size])
  return [s for s in sentences if all(w in allowed for w in s.split())]


def missing_text_packages(packages=None):
  """Names the text packages whose files are absent.

  Args:
    packages: optional dict package -> file paths; defaults to TEXT_PACKAGES.

  Returns:
    list of package names (str), in the dict's order.
  """
  packages = TEXT_PACKAGES if packages is None else packages
  return [name for name, paths in packages.items()
          if not all(os.path.isfile(p) for p in paths)]

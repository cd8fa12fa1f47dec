"""The Ur-Quan Masters voice pack's script: parsing and transcript cleaning.

Dialogue (`<race>.txt`, Latin-1): a line `#(KEY)<whitespace>clip.ogg` opens
an entry, the dialogue lines follow until the next `#(...)`; an entry without
a clip name has no recording. Timings (`<race>.ts`): `#(KEY) t1,t2,...`, the
durations in milliseconds of all but the last line of the entry's clip.

Clip names come from the archive's text, so they are never trusted: only a
plain `name.ogg` (letters, digits, `.`, `_`, `-`, not starting with `.` or
`-`) is accepted, which can neither climb out of the race folder nor be read
as a command or an option.

The script is the game's text, written for reading: numbers are digits,
emphasis is `*marked*`, and parentheses hold both stage directions and
spoken asides. `clean_line` turns a line into a transcript in the vocabulary,
or says why its spoken words are unknown.
"""

import collections
import re

from data.downloading import common
from data.downloading import ljspeech
from data.synthesis import text as synthesis_text

# A clip name that names a file in the race folder and nothing else.
_PLAIN_CLIP = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*\.ogg$")
_ENTRY = re.compile(r"^#\(([^)]*)\)(.*)$")

# One entry of a dialogue file: its key, its clip name ("" when it has no
# recording), its lines (trailing blank lines removed) and the 1-based number
# of the line that opened it.
Entry = collections.namedtuple("Entry", ["key", "clip", "lines", "line_number"])

# Why a line's transcript is unknown (the keys of `clean_line`'s reasons).
PLACEHOLDER = "placeholder"
ASIDE = "parenthesized aside"
NUMBER = "number of unknown reading"


class ScriptError(common.DownloadError):
  """A dialogue or timing file is malformed."""


def clip_name_problem(name):
  """Why `name` is refused as a clip name, or None for a plain `name.ogg`."""
  if "/" in name or "\\" in name or name.startswith("."):
    return "is a path, not a plain file name"
  if ".." in name or not _PLAIN_CLIP.match(name):
    return "is not a plain name.ogg"
  return None


def read_script(path):
  """Reads a dialogue file.

  Returns:
    (entries, refused): the `Entry` list in file order (entries whose clip
    name was refused have clip ""), and one message per refused clip name,
    naming the file and line.
  """
  entries, refused = [], []
  current = None
  with open(path, encoding="latin-1") as f:
    for number, line in enumerate(f, 1):
      line = line.rstrip("\r\n")
      match = _ENTRY.match(line)
      if match:
        clip = match.group(2).strip()
        problem = clip_name_problem(clip) if clip else None
        if problem:
          refused.append("%s line %d: clip name %r %s; entry skipped." % (
              path, number, clip, problem))
          clip = ""
        current = Entry(match.group(1), clip, [], number)
        entries.append(current)
      elif current is not None:
        current.lines.append(line.strip())
  for entry in entries:
    while entry.lines and not entry.lines[-1]:
      entry.lines.pop()
  return entries, refused


def read_timings(path):
  """Reads a timing file: {key: [milliseconds, ...]}.

  Raises:
    ScriptError: a timing that is not a non-negative whole number, naming
      the file and line.
  """
  timings = {}
  with open(path, encoding="latin-1") as f:
    for number, line in enumerate(f, 1):
      match = _ENTRY.match(line.strip())
      if not match:
        continue
      fields = [t.strip() for t in match.group(2).split(",") if t.strip()]
      if not all(t.isdigit() for t in fields):
        raise ScriptError("%s line %d: timings must be whole milliseconds "
                          "separated by commas, got %r." % (
                              path, number, match.group(2).strip()))
      timings[match.group(1)] = [int(t) for t in fields]
  return timings


# ---------------------------------------------------------------------------
# Numbers to words.
# ---------------------------------------------------------------------------

cardinal = synthesis_text.cardinal_words


def year_to_words(n):
  """A four-digit year as said aloud: 2135 -> "twenty one thirty five".

  Unlike `synthesis_text.number_words`'s pairs, this covers the game's
  twenty-second century too.
  """
  high, low = divmod(n, 100)
  if low == 0:
    return cardinal(high) + " hundred"
  if low < 10:
    return cardinal(high) + " oh " + cardinal(low)
  return cardinal(high) + " " + cardinal(low)


def _plural(words):
  return words[:-1] + "ies" if words.endswith("y") else words + "s"


# A number as the script writes it: digits with optional thousands commas and
# decimals, and a suffix that changes its reading.
_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(st|nd|rd|th|'s|s|%)?"
    r"(?![\w/])")
# Digits the converter cannot read with confidence: glued to letters
# ("A86"), fractions ("2/3") and digit groups with a leading zero ("022").
_UNREADABLE = re.compile(r"[A-Za-z]\d|\d/|/\d|(?<![\d.,])0\d")


def _number_words(match):
  whole, decimals, suffix = match.groups()
  value = int(whole.replace(",", ""))
  if suffix in ("st", "nd", "rd", "th") and not decimals:
    return synthesis_text.ordinal_words(value)
  # Four-digit numbers of the game's centuries are years; "1900 men" reads
  # "nineteen hundred" too, which is how such counts are usually said.
  if 1100 <= value < 2200 and "," not in whole and not decimals:
    words = year_to_words(value)
  else:
    words = cardinal(value)
  if decimals:
    words += " point " + " ".join(cardinal(int(d)) for d in decimals[1:])
  if suffix in ("'s", "s"):
    words = _plural(words)
  elif suffix == "%":
    words += " percent"
  return " " + words + " "


def expand_numbers(text):
  """`text` with its numbers in words, or None when a reading is unknown."""
  if _UNREADABLE.search(text):
    return None
  try:
    text = _NUMBER.sub(_number_words, text)
  except ValueError:  # A trillion or more: no words for it.
    return None
  return None if re.search(r"\d", text) else text


# ---------------------------------------------------------------------------
# A line to a transcript.
# ---------------------------------------------------------------------------

# The game fills these in at run time ("%s", "$$"), so what was said there
# is unknown. A "%" right after a number is the percent sign.
_PLACEHOLDER = re.compile(r"\$|(?<!\d)%")


def clean_line(text, vocabulary, dropped):
  """One script line as a transcript in `vocabulary`.

  Emphasis marks go, numbers become words, everything else outside the
  vocabulary becomes a space (see `ljspeech.normalize_to_vocabulary`), and
  quotes around words (` and ') go while apostrophes inside words stay.

  Args:
    text: the line.
    vocabulary: set of allowed characters (must include the space).
    dropped: a `collections.Counter` updated with every removed character.

  Returns:
    (transcript, reason): the transcript ("" for a line that holds no word)
    and None, or ("", reason) with one of PLACEHOLDER, ASIDE, NUMBER when
    the words spoken for the line are unknown.
  """
  if _PLACEHOLDER.search(text):
    return "", PLACEHOLDER
  if re.search(r"[()\[\]{}]", text):
    # Parentheses hold stage directions ("(sigh)") as often as spoken asides,
    # and the text does not say which: neither cutting nor keeping is safe.
    return "", ASIDE
  text = expand_numbers(text.replace("*", ""))
  if text is None:
    return "", NUMBER
  cleaned = ljspeech.normalize_to_vocabulary(text, vocabulary, dropped)
  words = [w.strip("'") for w in cleaned.split()]
  return " ".join(w for w in words if w), None

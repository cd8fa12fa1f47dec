"""A vocabulary made from transcripts: the characters seen, with counts.

data/make_vocabulary.py is the command line. The transcripts of one or more
manifests are normalized by a text policy (data/text_normalization.py) and
their characters counted; the vocabulary holds each usable character once,
in data/vocabulary.py's format: the space first, then letters, combining
marks and the other characters (each group in code point order, so English
transcripts give data/vocabulary.txt's " a..z '" order), and the CTC blank
last. Every token line follows a comment with its code point, Unicode name
and count, since the format allows no comment on a token's own line.

Characters the format or the decoders cannot take as tokens are left out
and reported (training then skips the rows holding them, as it skips any
unknown character): "#" (it starts a comment line), whitespace other than
the space (the decoders split words at " " only) and control characters.
"""

import collections
import unicodedata

from data import manifest_ops
from data import vocabulary

DEFAULT_BLANK = "-"
# Offered when the transcripts hold the blank: punctuation rarely spoken.
_BLANK_CANDIDATES = "_~^|*@$%+=<>"

# Where a character was first seen: "manifest:line".
Counts = collections.namedtuple("Counts", ["counts", "first_seen",
                                           "transcripts"])
Counts.__doc__ = """What `count_characters` found.

  counts: Counter character -> occurrences, after the text policy.
  first_seen: dict character -> "manifest:line" of its first row.
  transcripts: dict manifest -> rows read.
"""


def count_characters(manifests, policy):
  """Counts the characters of the manifests' transcripts under `policy`.

  Raises:
    manifest.ManifestError: a manifest is missing, has no header or holds
      a row that is not a manifest row (named by file and line).
  """
  counts, first_seen = collections.Counter(), {}
  transcripts = collections.Counter()
  for row in manifest_ops.read_rows(manifests):
    text = policy.apply(row.entry.transcript)
    counts.update(text)
    transcripts[row.manifest] += 1
    for char in set(text):
      first_seen.setdefault(char, "%s:%d" % (row.manifest, row.entry.line))
  return Counts(counts, first_seen, dict(transcripts))


def unusable_reason(char):
  """Why `char` cannot be a vocabulary token, or None when it can."""
  if char == "#":
    return "'#' starts a comment line in a vocabulary file"
  if char != " " and (char.isspace() or unicodedata.category(char) == "Cc"):
    return ("%s is whitespace or a control character; only ' ' separates "
            "words" % describe(char))
  return None


def describe(char):
  """U+XXXX and the Unicode name of a character."""
  return "U+%04X %s" % (ord(char), unicodedata.name(char, "(unnamed)"))


def check_blank(blank, found):
  """Refuses a blank that is not one usable character or that a transcript
  holds (it would be a label and the CTC blank at once).

  Raises:
    vocabulary.VocabularyError: naming the first row holding it.
  """
  if len(blank) != 1 or blank == " " or unusable_reason(blank):
    raise vocabulary.VocabularyError(
        "the CTC blank must be one character other than the space, '#' and "
        "whitespace, got %r" % blank)
  if blank in found.counts:
    free = [c for c in _BLANK_CANDIDATES if c not in found.counts]
    raise vocabulary.VocabularyError(
        "%s: the transcript holds %r, the CTC blank; choose another blank "
        "(a character no transcript holds%s)" % (
            found.first_seen[blank], blank,
            ", e.g. %r" % free[0] if free else ""))


def choose_tokens(found, min_count=1):
  """The vocabulary's characters in class order (without the blank).

  Returns:
    (tokens, left_out): tokens a list of characters; left_out a list of
    (character, reason, first "manifest:line") for the characters not kept.
  """
  kept, left_out = [], []
  for char, count in found.counts.items():
    reason = unusable_reason(char)
    if reason is None and count < min_count:
      reason = "seen %d times, fewer than the minimum %d" % (count,
                                                            min_count)
    if reason:
      left_out.append((char, reason, found.first_seen[char]))
    else:
      kept.append(char)
  return sorted(kept, key=_class_order), sorted(left_out)


def _class_order(char):
  """Space, letters, marks, the rest; code point order within each."""
  category = unicodedata.category(char)
  group = (0 if char == " " else 1 if category.startswith("L")
           else 2 if category.startswith("M") else 3)
  return group, ord(char)


def vocabulary_text(tokens, blank, found, policy):
  """The vocabulary file's text: header comments, tokens, blank last."""
  lines = ["# Vocabulary written by data/make_vocabulary.py from:"]
  lines += ["#   %s (%d transcripts)" % item
            for item in sorted(found.transcripts.items())]
  lines += ["# Text policy: %s" % policy.describe(),
            "# One token a line (a line holding one space is the space); "
            "each follows its",
            "# code point, name and count. The last token is the CTC blank."]
  for char in tokens:
    lines += ["# %s: %d" % (describe(char), found.counts[char]), char]
  lines += ["# %s: the CTC blank, in no transcript" % describe(blank), blank]
  return "\n".join(lines) + "\n"

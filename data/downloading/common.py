"""Plumbing shared by the download steps: errors, names, transcripts.

Every failure a user can cause (no network, a bad checksum, an unsafe archive,
sox missing, a full disk) is raised as a `DownloadError` whose message is one
complete sentence in the library's own terms; `data/download.py` prints it
(adding which flag to change, where one applies) and exits non-zero instead of
showing a traceback.
"""

import collections
import os
import unicodedata

from absl import logging

from data import text_normalization

# Marks that stand for the apostrophe in typeset text (right single quote,
# modifier letter apostrophe, ...): "don’t" means "don't".
_APOSTROPHES = "\u2019\u2018\u02bc\u2032\u00b4`"


class DownloadError(Exception):
  """A failure the user can act on; its message is the whole error report."""


class UnsafeNameError(DownloadError):
  """An archive's text file names a file that is not a plain name."""


def check_plain_name(name, archive, path, line):
  """Returns `name` if it is a plain file name, else raises UnsafeNameError.

  Importers join names read from an archive's text files (utterance ids,
  clip ids) to a folder of their own and write there; a name with a
  separator, `..`, an absolute path or a control character would make that
  write land elsewhere (or break the manifest's tab-separated rows), even in
  an archive whose checksum matched.

  Args:
    name: the name as read, before any extension is added.
    archive: the archive's file name, for the message.
    path: the text file it was read from.
    line: its 1-based line number.

  Raises:
    UnsafeNameError: naming the archive, the file and the line.
  """
  # Backslash too: a separator on Windows, and never in a corpus's ids.
  if (not name or name in (".", "..") or os.path.isabs(name) or
      any(c in "/\\" or ord(c) < 32 or c == "\x7f" for c in name)):
    raise UnsafeNameError(
        "%s: %s line %d names %r, which is not a plain file name (no "
        "separators, '..' or control characters); refusing to write outside "
        "its folder." % (archive, path, line, name))
  return name


def inside(path, root):
  """Whether real `path` lies in (or is) real folder `root`."""
  path, root = os.path.realpath(path), os.path.realpath(root)
  return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class TranscriptNormalizer(object):
  """Reduces corpus transcripts to a vocabulary; counts the rows it skips.

  Text is NFC-normalized and lower-cased. A character of the vocabulary stays;
  one that is not keeps its accent-free form when that form is in the
  vocabulary ("é" reads "e" with a..z, stays "é" with a French vocabulary);
  punctuation outside the vocabulary is dropped (dashes and slashes become a
  space, so "well-known" reads "well known"). Any other character (a digit, a
  symbol, a letter of another alphabet) cannot be spelled with the
  vocabulary, so the row is skipped rather than trained on a wrong label.

  Attributes:
    unknown: Counter of the characters that made rows skipped.
    skipped_unknown, skipped_empty: rows skipped for such characters, and
      rows left empty by normalization.
  """

  def __init__(self, vocabulary, text_policy=text_normalization.DEFAULT):
    """`vocabulary`: the set of allowed characters, including the space;
    `text_policy`: the `TextPolicy` training reads transcripts with (its
    Unicode form and case come first, then the reduction to the vocabulary).
    """
    self.vocabulary = vocabulary
    self.text_policy = text_policy
    self.unknown = collections.Counter()
    self.skipped_unknown = 0
    self.skipped_empty = 0

  def _spell(self, char):
    """`char` in vocabulary characters, "" to drop it, or None."""
    if char in self.vocabulary:
      return char
    if char.isspace():
      return " "
    if char in _APOSTROPHES and "'" in self.vocabulary:
      return "'"
    base = "".join(c for c in unicodedata.normalize("NFKD", char)
                   if not unicodedata.combining(c))
    if base and base != char and all(c in self.vocabulary for c in base):
      return base
    category = unicodedata.category(char)
    if category == "Pd" or char == "/":
      return " "
    if category.startswith("P") or category == "Cf":
      return ""
    return None

  def __call__(self, text):
    """The normalized transcript, or None when the row is to be skipped."""
    kept, unknown = [], []
    for char in self.text_policy.apply(text):
      spelled = self._spell(char)
      if spelled is None:
        unknown.append(char)
      else:
        kept.append(spelled)
    if unknown:
      self.unknown.update(unknown)
      self.skipped_unknown += 1
      return None
    text = " ".join("".join(kept).split())
    if not text:
      self.skipped_empty += 1
      return None
    return text


def report_rows(label, kept, normalizer, missing, other=None):
  """Logs one summary line: rows kept, and every reason rows were skipped.

  Args:
    label: e.g. "Common Voice en train".
    kept: number of rows that reach the manifest.
    normalizer: the `TranscriptNormalizer` the rows went through.
    missing: names of audio files the text listed but the corpus lacks.
    other: optional {reason: count} of corpus-specific drops.
  """
  reasons = []
  if normalizer.skipped_unknown:
    reasons.append("%d with characters outside the vocabulary (%s)" % (
        normalizer.skipped_unknown, ", ".join(
            "%r x%d" % item for item in normalizer.unknown.most_common(10))))
  if normalizer.skipped_empty:
    reasons.append("%d empty after normalization" % normalizer.skipped_empty)
  if missing:
    reasons.append("%d missing audio file%s (%s%s)" % (
        len(missing), "" if len(missing) == 1 else "s",
        ", ".join(missing[:5]), ", ..." if len(missing) > 5 else ""))
  reasons += ["%d %s" % (n, reason) for reason, n in (other or {}).items()
              if n]
  if reasons:
    logging.warning("%s: %d rows kept; skipped: %s.", label, kept,
                    "; ".join(reasons))
  else:
    logging.info("%s: %d rows kept, none skipped.", label, kept)

r"""Writes a vocabulary file from the transcripts of one or more manifests.

Run from the repository root, e.g. for a German corpus:

  python data/make_vocabulary.py --manifest=/tmp/de/train.csv \
      --manifest=/tmp/de/dev.csv --vocabulary_out=/tmp/de/vocabulary.txt

then train with `deep_speech.py --vocabulary_file=/tmp/de/vocabulary.txt`
and the same text policy flags (--unicode_form, --strip_accents,
--lowercase). The file holds the characters seen after the text policy, one
per line, the space first and the CTC blank (--blank) last, with each
character's count in a comment (see data/vocabulary_counts.py). Characters
no vocabulary can hold ("#", tabs and other whitespace, control characters)
and those rarer than --min_count are left out and listed.

Exit status 2 for a bad manifest, a transcript holding the blank, or an
output that is an input; 1 when the file cannot be written.
"""

import os
import sys

if __name__ == "__main__" and not __package__:
  # Run as `python data/make_vocabulary.py`: put the repository root first.
  sys.path.insert(0, os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))))

# pylint: disable=g-import-not-at-top,wrong-import-position
from absl import app
from absl import flags
from absl import logging

from common import atomic_file
from common import output_paths
from data import manifest
from data import text_flags
from data import vocabulary
from data import vocabulary_counts


def run_make_vocabulary(flags_obj):
  """Writes the vocabulary for the parsed flags; the only reader of flags.

  Returns:
    The tokens written, blank last.
  """
  manifests = flags_obj.manifest or []
  if not manifests:
    raise vocabulary.VocabularyError("give at least one --manifest")
  if not flags_obj.vocabulary_out:
    raise vocabulary.VocabularyError("--vocabulary_out (the vocabulary file "
                                     "to write) is required")
  output_paths.check_outputs(
      [("--vocabulary_out", flags_obj.vocabulary_out)],
      [("--manifest", path) for path in manifests])
  policy = text_flags.text_policy(flags_obj)
  found = vocabulary_counts.count_characters(manifests, policy)
  try:
    vocabulary_counts.check_blank(flags_obj.blank, found)
  except vocabulary.VocabularyError as e:
    raise vocabulary.VocabularyError("--blank: %s" % e) from None
  tokens, left_out = vocabulary_counts.choose_tokens(found,
                                                     flags_obj.min_count)
  for char, reason, where in left_out:
    logging.warning("%s: left %r out of the vocabulary: %s; rows holding "
                    "it are skipped by training.", where, char, reason)
  if not tokens:
    raise vocabulary.VocabularyError("no usable character in the "
                                     "transcripts of %s" % ", ".join(manifests))
  atomic_file.write_text(
      flags_obj.vocabulary_out,
      vocabulary_counts.vocabulary_text(tokens, flags_obj.blank, found,
                                        policy))
  logging.info("Wrote %s: %d characters and the blank %r (%s).",
               flags_obj.vocabulary_out, len(tokens), flags_obj.blank,
               policy.describe())
  return tokens + [flags_obj.blank]


def define_make_vocabulary_flags():
  """Declares the flags; called from `__main__` only, never on import."""
  flags.DEFINE_multi_string(
      "manifest", [], "A manifest whose transcripts the vocabulary covers; "
      "repeat for several (train and dev, so evaluation skips nothing).")
  flags.DEFINE_string("vocabulary_out", None, "The vocabulary file to write.")
  flags.DEFINE_string(
      "blank", vocabulary_counts.DEFAULT_BLANK,
      "The CTC blank, written last: one character no transcript holds.")
  flags.DEFINE_integer(
      "min_count", 1, "Characters seen fewer times are left out (their rows "
      "are skipped by training).", lower_bound=1)
  text_flags.define_text_policy_flags()


# Exit status by error: 2 for a user's mistake, 1 for a file not written.
_EXIT_STATUS = ((vocabulary.VocabularyError, 2), (manifest.ManifestError, 2),
                (output_paths.OutputIsInputError, 2), (OSError, 1))


def main(_):
  try:
    run_make_vocabulary(flags.FLAGS)
  except tuple(kind for kind, _ in _EXIT_STATUS) as e:
    sys.stderr.write("make_vocabulary.py: error: %s\n" % e)
    sys.exit(next(code for kind, code in _EXIT_STATUS
                  if isinstance(e, kind)))


if __name__ == "__main__":
  define_make_vocabulary_flags()
  app.run(main)

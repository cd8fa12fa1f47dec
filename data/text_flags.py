"""The text policy flags: --unicode_form, --strip_accents, --lowercase.

Declared once here for every CLI that reads transcripts (deep_speech.py,
data/make_vocabulary.py, data/build_lm.py, the importers); `text_policy`
turns their values into data/text_normalization's `TextPolicy`. The defaults
are the original's behaviour (lower-case, nothing else but NFC).
"""

from absl import flags

from data import text_normalization

FLAG_NAMES = ("unicode_form", "strip_accents", "lowercase")


def define_text_policy_flags(flag_values=flags.FLAGS):
  """Declares the three flags; from a CLI's `__main__` only."""
  default = text_normalization.DEFAULT
  flags.DEFINE_enum(
      "unicode_form", default.unicode_form,
      list(text_normalization.UNICODE_FORMS),
      "Unicode normalization of transcripts: NFC keeps 'ä' one character; "
      "NFKD makes it 'a' and a combining mark (two vocabulary tokens).",
      flag_values=flag_values)
  flags.DEFINE_bool(
      "strip_accents", default.strip_accents,
      "Drop accents and other combining marks from transcripts ('é' -> "
      "'e'); merges letters most languages keep apart.",
      flag_values=flag_values)
  flags.DEFINE_bool(
      "lowercase", default.lowercase,
      "Lower-case transcripts (the original's behaviour); --nolowercase "
      "keeps capitals, which the vocabulary must then hold.",
      flag_values=flag_values)


def text_policy(flags_obj):
  """The `TextPolicy` of the flags (a FlagValues or a namespace)."""
  return text_normalization.TextPolicy(
      flags_obj.unicode_form, bool(flags_obj.strip_accents),
      bool(flags_obj.lowercase))

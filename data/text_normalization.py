"""The text policy: how a transcript's characters become the model's text.

One `TextPolicy` value says it for every reader of transcripts, so that the
vocabulary (data/make_vocabulary.py), the labels training learns
(data/manifest.py's reader), the references scored, the LM's sentences
(decoding/lm.py) and the importers all see the same characters:

  unicode_form   "NFC" (default: "ä" is one character) or "NFKD" (and the
                 other two Unicode forms): "ä" is "a" plus a combining
                 diaeresis, two tokens; compatibility forms also split
                 ligatures ("ﬁ" -> "fi") and fold full-width letters.
  strip_accents  drop combining marks after decomposing: "é" -> "e",
                 "ä" -> "a". Off by default (it merges distinct letters of
                 most languages other than English).
  lowercase      lower-case everything (default, the original's
                 `compute_label_feature` did so). `str.lower`, not
                 `casefold`: "ß" stays "ß".

The training run records its policy in the export's settings
(training/export.py), so transcription and the LM builder apply the one the
model was trained with; an export without one used the default.
"""

import collections
import unicodedata

UNICODE_FORMS = ("NFC", "NFD", "NFKC", "NFKD")
# The decompositions accent stripping goes through, by form: a compatibility
# form keeps its compatibility decomposition.
_DECOMPOSED = {"NFC": "NFD", "NFD": "NFD", "NFKC": "NFKD", "NFKD": "NFKD"}
_FIELDS = ("unicode_form", "strip_accents", "lowercase")


class TextPolicyError(ValueError):
  """A text policy that does not exist (an unknown form, a wrong type)."""


class TextPolicy(collections.namedtuple("TextPolicy", _FIELDS)):
  """How transcripts are normalized; `apply(text)` does it.

  Attributes:
    unicode_form: one of UNICODE_FORMS.
    strip_accents: bool, drop combining marks.
    lowercase: bool, `str.lower` the text.
  """

  __slots__ = ()

  def __new__(cls, unicode_form="NFC", strip_accents=False, lowercase=True):
    if unicode_form not in UNICODE_FORMS:
      raise TextPolicyError("unknown Unicode form %r (expected %s)" % (
          unicode_form, ", ".join(UNICODE_FORMS)))
    for name, value in (("strip_accents", strip_accents),
                        ("lowercase", lowercase)):
      if not isinstance(value, bool):
        raise TextPolicyError("%s must be true or false, not %r"
                              % (name, value))
    return super().__new__(cls, unicode_form, strip_accents, lowercase)

  def apply(self, text):
    """`text` normalized by the policy (whitespace untouched)."""
    # Normalized first so that lower-casing sees composed letters (and the
    # compatibility forms' plain ones), and again last because lower-casing
    # and stripping can leave a sequence the form would write otherwise.
    text = unicodedata.normalize(self.unicode_form, text)
    if self.lowercase:
      text = text.lower()
    if self.strip_accents:
      text = "".join(
          c for c in unicodedata.normalize(_DECOMPOSED[self.unicode_form],
                                           text)
          if not unicodedata.combining(c))
    return unicodedata.normalize(self.unicode_form, text)

  def to_dict(self):
    """The policy as a JSON object (the export settings' "text_policy")."""
    return dict(self._asdict())

  @classmethod
  def from_dict(cls, value):
    """The policy of a `to_dict` object; missing keys take the defaults.

    Raises:
      TextPolicyError: not an object, an unknown key, or a bad value.
    """
    if not isinstance(value, dict):
      raise TextPolicyError("a text policy must be a JSON object, not %r"
                            % (value,))
    unknown = sorted(set(value) - set(_FIELDS))
    if unknown:
      raise TextPolicyError("unknown text policy key%s %s (expected %s)" % (
          "s" * (len(unknown) > 1), ", ".join(unknown), ", ".join(_FIELDS)))
    return cls(**value)

  def describe(self):
    """A one-line description for logs and file headers."""
    return "unicode_form=%s, strip_accents=%s, lowercase=%s" % (
        self.unicode_form, str(self.strip_accents).lower(),
        str(self.lowercase).lower())

  def unstable_tokens(self, tokens):
    """The tokens the policy never leaves in a text (e.g. "A" when it
    lower-cases): a vocabulary holding them was made under another one."""
    return [t for t in tokens if self.apply(t) != t]


DEFAULT = TextPolicy()

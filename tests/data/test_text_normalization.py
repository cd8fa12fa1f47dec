"""Tests for data/text_normalization.py and its flags (data/text_flags.py)."""

import unicodedata

from absl import flags
import hypothesis
from hypothesis import strategies as st
import pytest

from data import text_flags
from data import text_normalization as tn


def test_the_default_lower_cases_and_composes():
  decomposed = "A\u0308PFEL Stra\u00dfe \u0401\u043b\u043a\u0430"  # NFD Ä
  assert tn.DEFAULT.apply(decomposed) == "äpfel straße ёлка"
  assert tn.DEFAULT == tn.TextPolicy("NFC", False, True)
  # str.lower, not casefold: the sharp s stays one letter.
  assert tn.DEFAULT.apply("STRAßE") == "straße"


@pytest.mark.parametrize("policy,text,expected", [
    (tn.TextPolicy("NFKD"), "\u00c4", "a\u0308"),
    (tn.TextPolicy("NFKD"), "\ufb01x", "fix"),  # the ligature splits
    (tn.TextPolicy("NFC", strip_accents=True), "Élan Ärger", "elan arger"),
    (tn.TextPolicy("NFKD", strip_accents=True), "\u00e9\ufb01", "efi"),
    (tn.TextPolicy(lowercase=False), "Ärger", "Ärger"),
    (tn.TextPolicy("NFC", strip_accents=True), "\u0439", "\u0438"),
    # Whitespace is the readers' business: untouched.
    (tn.DEFAULT, " a  b ", " a  b "),
])
def test_each_setting_does_what_it_says(policy, text, expected):
  assert policy.apply(text) == expected


@hypothesis.given(st.text(), st.sampled_from(tn.UNICODE_FORMS), st.booleans(),
                  st.booleans())
def test_applying_twice_changes_nothing_and_keeps_the_form(
    text, form, strip, lower):
  policy = tn.TextPolicy(form, strip, lower)
  once = policy.apply(text)
  assert unicodedata.is_normalized(form, once)
  if not lower:
    assert policy.apply(once) == once
  if strip:
    assert not any(unicodedata.combining(c) for c in
                   unicodedata.normalize("NFKD" if "K" in form else "NFD",
                                         once))


def test_the_dict_form_round_trips_and_bad_ones_are_named():
  policy = tn.TextPolicy("NFKD", True, False)
  assert tn.TextPolicy.from_dict(policy.to_dict()) == policy
  assert tn.TextPolicy.from_dict({}) == tn.DEFAULT
  with pytest.raises(tn.TextPolicyError, match="unknown Unicode form 'NFX'"):
    tn.TextPolicy.from_dict({"unicode_form": "NFX"})
  with pytest.raises(tn.TextPolicyError, match="unknown text policy key "
                     "casefold"):
    tn.TextPolicy.from_dict({"casefold": True})
  with pytest.raises(tn.TextPolicyError, match="lowercase must be true or "
                     "false, not 'yes'"):
    tn.TextPolicy.from_dict({"lowercase": "yes"})
  with pytest.raises(tn.TextPolicyError, match="JSON object"):
    tn.TextPolicy.from_dict(["NFC"])


def test_tokens_a_policy_never_produces_are_found():
  assert tn.DEFAULT.unstable_tokens(list(" abÄ'ß-")) == ["Ä"]
  assert tn.TextPolicy("NFKD").unstable_tokens(["\u00e4", "a"]) == ["\u00e4"]


def test_flags_give_the_policy_and_default_to_the_original():
  values = flags.FlagValues()
  text_flags.define_text_policy_flags(values)
  values(["prog"])
  assert text_flags.text_policy(values) == tn.DEFAULT
  values(["prog", "--unicode_form=NFKD", "--strip_accents", "--nolowercase"])
  assert text_flags.text_policy(values) == tn.TextPolicy("NFKD", True, False)
  with pytest.raises(flags.IllegalFlagValueError):
    values(["prog", "--unicode_form=nfx"])

"""Tests for data/downloading/common.py: names read from archives."""

import pytest

from data.downloading import common


@pytest.mark.parametrize("name", ["84-121123-0000", "LJ001-0001", "a.b",
                                  "|touch x", "-x"])
def test_plain_names_pass_unchanged(name):
  assert common.check_plain_name(name, "a.tar.gz", "t.txt", 3) == name


@pytest.mark.parametrize("name", ["", ".", "..", "../pwn", "a/../../b",
                                  "/etc/pwn", "a\\b", "a\tb", "a\x00b"])
def test_other_names_are_refused_naming_archive_file_and_line(name):
  with pytest.raises(common.UnsafeNameError) as e:
    common.check_plain_name(name, "a.tar.gz", "/x/t.txt", 3)
  assert str(e.value).startswith("a.tar.gz: /x/t.txt line 3 names %r, "
                                 % name)


def test_transcripts_are_reduced_to_the_vocabulary_or_skipped():
  normalizer = common.TranscriptNormalizer(set(" abcdefghijklmnopqrstuvwxyz'"))
  assert normalizer("It’s a “well-known” CAFÉ… ") == "it's a well known cafe"
  assert normalizer("Route 66") is None
  assert normalizer("Ωmega") is None
  assert normalizer(" ?! ") is None
  assert (normalizer.skipped_unknown, normalizer.skipped_empty) == (2, 1)
  assert normalizer.unknown == {"6": 2, "ω": 1}
  # The same text with a vocabulary that has the accents keeps them.
  french = common.TranscriptNormalizer(set(" abcdefilnorstuwé'"))
  assert french("Café-noir") == "café noir"


def test_the_text_policy_comes_first_as_in_training():
  from data import text_normalization  # pylint: disable=g-import-not-at-top
  letters = set(" abcdefghijklmnopqrstuvwxyz'ÄÖÜäöü")
  keep_case = common.TranscriptNormalizer(
      letters, text_normalization.TextPolicy(lowercase=False))
  assert keep_case("Äpfel Über") == "Äpfel Über"
  # The default policy lower-cases, as training does.
  assert common.TranscriptNormalizer(letters)("Äpfel Über") == "äpfel über"
  stripped = common.TranscriptNormalizer(
      letters, text_normalization.TextPolicy(strip_accents=True))
  assert stripped("Äpfel") == "apfel"

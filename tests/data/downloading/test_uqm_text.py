"""Tests for data/downloading/uqm_text.py: the script parser and cleaning."""

import collections

import pytest

from data import vocabulary as vocabulary_lib
from data.downloading import uqm_text

VOCABULARY = vocabulary_lib.characters(vocabulary_lib.VOCABULARY_FILE)


@pytest.mark.parametrize("n, words", [
    (1940, "nineteen forty"), (1900, "nineteen hundred"),
    (2135, "twenty one thirty five"), (2105, "twenty one oh five")])
def test_year_to_words(n, words):
  assert uqm_text.year_to_words(n) == words


@pytest.mark.parametrize("line, transcript", [
    ("Coordinates 241.6, 368.7", "coordinates two hundred forty one point six "
     "three hundred sixty eight point seven"),
    ("It was in 2135, I think.", "it was in twenty one thirty five i think"),
    ("The late 1940's?", "the late nineteen forties"),
    ("A 1.6% chance, at 200%!", "a one point six percent chance at two "
     "hundred percent"),
    ("20,000 years", "twenty thousand years"),
    ("57,283 or 45,786,412", "fifty seven thousand two hundred eighty three "
     "or forty five million seven hundred eighty six thousand four hundred "
     "twelve"),
    ("On the 17th, 21st and 2nd.", "on the seventeenth twenty first and "
     "second"),
    ("Statute 3429", "statute three thousand four hundred twenty nine"),
    ("We seek *Nnngn*, of *course*!", "we seek nnngn of course"),
    ("We `ran out' on them; don't ask.", "we ran out on them don't ask"),
    ("Zo\xeb -- the CAF\xc9", "zoe the cafe"),
    ("-<GO AWAY!>-", "go away"),
])
def test_clean_line_reads_numbers_and_drops_marks(line, transcript):
  dropped = collections.Counter()
  assert uqm_text.clean_line(line, VOCABULARY, dropped) == (transcript, None)


def test_clean_line_counts_what_it_removes():
  dropped = collections.Counter()
  uqm_text.clean_line("Go, go!", VOCABULARY, dropped)
  assert dropped == collections.Counter({",": 1, "!": 1})


@pytest.mark.parametrize("line, reason", [
    ("You have %s credits.", uqm_text.PLACEHOLDER),
    ("Pay $$ now.", uqm_text.PLACEHOLDER),
    ("Well (sigh) fine.", uqm_text.ASIDE),
    ("[static]", uqm_text.ASIDE),
    ("Statute 3429, subsection A86", uqm_text.NUMBER),
    ("At location 022.9", uqm_text.NUMBER),
    ("Two thirds: 2/3", uqm_text.NUMBER),
    ("1,000,000,000,000 years", uqm_text.NUMBER),
])
def test_clean_line_refuses_unknown_words(line, reason):
  assert uqm_text.clean_line(line, VOCABULARY,
                             collections.Counter()) == ("", reason)


def test_clean_line_of_punctuation_only_is_empty():
  assert uqm_text.clean_line("...!", VOCABULARY,
                             collections.Counter()) == ("", None)


@pytest.mark.parametrize("name", [
    "../../x.ogg", "/etc/passwd.ogg", "a/b.ogg", "a\\b.ogg", ".hidden.ogg",
    "-rf.ogg", "|cat.ogg", "x..ogg", "clip.wav", "clip ogg.ogg", ""])
def test_clip_name_problem_refuses_all_but_plain_names(name):
  assert uqm_text.clip_name_problem(name) is not None


@pytest.mark.parametrize("name", ["spathi-000.ogg", "a_b.c.ogg", "0.ogg"])
def test_clip_name_problem_accepts_plain_names(name):
  assert uqm_text.clip_name_problem(name) is None


def test_read_script_entries_lines_and_refusals(tmp_path):
  path = tmp_path / "race.txt"
  path.write_bytes(
      "a header line\n#(ONE)\tone.ogg  \nCaf\xe9.\n\nStill one.\n\n\n"
      "#(NONE)\nNo clip.\n#(BAD) ../../x.ogg\nHostile.\n".encode("latin-1"))
  entries, refused = uqm_text.read_script(str(path))
  assert entries == [
      uqm_text.Entry("ONE", "one.ogg", ["Caf\xe9.", "", "Still one."], 2),
      uqm_text.Entry("NONE", "", ["No clip."], 8),
      uqm_text.Entry("BAD", "", ["Hostile."], 10)]
  assert refused == ["%s line 10: clip name '../../x.ogg' is a path, not a "
                     "plain file name; entry skipped." % path]


def test_read_timings(tmp_path):
  path = tmp_path / "race.ts"
  path.write_text("#(ONE) 1000,250, 30\n#(NONE) \n\n#(TWO) 5\n")
  assert uqm_text.read_timings(str(path)) == {
      "ONE": [1000, 250, 30], "NONE": [], "TWO": [5]}


def test_read_timings_names_file_and_line_of_a_bad_number(tmp_path):
  path = tmp_path / "race.ts"
  path.write_text("#(ONE) 1000\n#(TWO) 10,-5\n")
  with pytest.raises(uqm_text.ScriptError) as error:
    uqm_text.read_timings(str(path))
  assert str(error.value) == ("%s line 2: timings must be whole milliseconds "
                              "separated by commas, got '10,-5'." % path)

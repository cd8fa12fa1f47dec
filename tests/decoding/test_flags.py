"""Tests for decoding/flags.py: one set of decoder flags, one precedence."""

import types

from absl import flags
import pytest

import decoder
from decoding import flags as decoder_flags
from decoding import lm_settings


@pytest.fixture
def files(tmp_path):
  """An LM, a lexicon and a settings file naming them (relative names)."""
  (tmp_path / "tuned.arpa").write_text("\\data\\\n")
  (tmp_path / "words.txt").write_text("cat\n")
  (tmp_path / "other.arpa").write_text("\\data\\\n")
  settings = str(tmp_path / "lm_settings.json")
  lm_settings.write(settings, "tuned.arpa", 0.7, 1.5, beam_width=32)
  return tmp_path, settings


def _resolve(given, settings=None, recorded=None):
  notes = []
  options = decoder_flags.resolve(given, settings, recorded, "x/settings.json",
                                  log=notes.append)
  return options, notes


def test_defaults_are_greedy_from_the_one_constant():
  assert _resolve({}) == (decoder.DEFAULTS, [])
  assert decoder.DEFAULTS["beam_width"] == decoder.DEFAULT_BEAM_WIDTH == 100


def test_an_lm_selects_the_beam_search_and_says_so(files):
  folder, settings = files
  arpa = str(folder / "other.arpa")
  options, notes = _resolve({"lm_path": arpa})
  assert options == dict(decoder.DEFAULTS, kind="beam", lm_path=arpa)
  assert notes == ["--lm_path selects the beam search (--decoder=beam)."]
  options, notes = _resolve({}, settings)
  assert options["kind"] == "beam" and options["alpha"] == 0.7
  assert notes == ["--lm_settings=%s selects the beam search "
                   "(--decoder=beam)." % settings]


def test_command_line_beats_settings_file_beats_recorded(files):
  folder, settings = files
  recorded = dict(decoder.DEFAULTS, kind="beam", beam_width=8, alpha=9.0,
                  beta=9.0, lexicon=str(folder / "words.txt"))
  options, _ = _resolve({"beta": 0.0}, settings, recorded)
  assert options == {"kind": "beam", "beam_width": 32, "alpha": 0.7,
                     "beta": 0.0, "lm_path": str(folder / "tuned.arpa"),
                     "lexicon": str(folder / "words.txt")}
  # A recorded beam search is used as recorded; --decoder=greedy overrides.
  assert _resolve({}, None, recorded)[0] == recorded
  assert _resolve({"kind": "greedy"}, None, recorded)[0] == decoder.DEFAULTS


def test_greedy_with_an_lm_is_an_error_naming_where_it_came_from(files):
  folder, settings = files
  with pytest.raises(decoder_flags.DecoderOptionsError,
                     match=r"^--decoder=greedy takes no LM or lexicon "
                     r"\(--lexicon gives one\)"):
    _resolve({"kind": "greedy", "lexicon": str(folder / "words.txt")})
  with pytest.raises(decoder_flags.DecoderOptionsError,
                     match="--lm_settings=.*lm_settings.json gives one"):
    _resolve({"kind": "greedy"}, settings)


def test_missing_files_name_their_source(files):
  folder, settings = files
  with pytest.raises(decoder_flags.DecoderOptionsError,
                     match=r"^--lm_path=.*missing.arpa: no such file$"):
    _resolve({"lm_path": str(folder / "missing.arpa")})
  (folder / "tuned.arpa").unlink()
  with pytest.raises(decoder_flags.DecoderOptionsError,
                     match=r"tuned.arpa: no such file \(named by "
                     r"--lm_settings="):
    _resolve({}, settings)
  recorded = dict(decoder.DEFAULTS, kind="beam", lm_path="/gone/lm.arpa")
  with pytest.raises(decoder_flags.DecoderOptionsError,
                     match=r"^/gone/lm.arpa: no such file \(named by the "
                     r"decoder recorded in x/settings.json\)$"):
    _resolve({"kind": "beam"}, None, recorded)


def test_flags_define_once_and_validate():
  values = flags.FlagValues()
  decoder_flags.define_decoder_flags(flag_values=values)
  values(["prog", "--lm_alpha=0"])
  assert decoder_flags.given_options(values) == {"alpha": 0.0}
  assert "default 100" in values["beam_width"].help
  with pytest.raises(flags.IllegalFlagValueError):
    values(["prog", "--beam_width=0"])
  # tune_lm.py's subset; a namespace of values (bench/convergence.py) reads
  # the same way.
  tuning = flags.FlagValues()
  decoder_flags.define_decoder_flags(for_tuning=True, flag_values=tuning)
  assert sorted(tuning) == sorted(decoder_flags.TUNING_FLAGS)
  assert decoder_flags.given_options(types.SimpleNamespace(
      decoder="beam", beam_width=None, lm_alpha=0.5)) == {
          "kind": "beam", "alpha": 0.5}

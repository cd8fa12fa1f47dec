"""Tests for decoding/lm_settings.py: the tuned-LM settings file."""

import pytest

from decoding import lm_settings


def test_lm_settings_round_trip(tmp_path):
  path = str(tmp_path / "lm" / "lm_settings.json")
  lm_settings.write(path, "4gram.arpa", 0.8, 1.5, beam_width=64,
                    lexicon="/abs/words.txt")
  settings = lm_settings.read(path)
  # A relative LM path is read relative to the settings file.
  assert settings == {"lm_path": str(tmp_path / "lm" / "4gram.arpa"),
                      "alpha": 0.8, "beta": 1.5, "beam_width": 64,
                      "lexicon": "/abs/words.txt"}
  lm_settings.write(path, "/x/3gram.arpa", 1, 0)
  assert lm_settings.read(path) == {"lm_path": "/x/3gram.arpa",
                                    "alpha": 1.0, "beta": 0.0}


@pytest.mark.parametrize("text,message", [
    ("{", "cannot read"),
    ("[]", "JSON object"),
    ('{"lm_path": "a", "alpha": 1}', "missing keys beta"),
    ('{"lm_path": "a", "alpha": 1, "beta": 0, "gamma": 2}',
     "unknown keys gamma"),
    ('{"lm_path": "a", "alpha": "1", "beta": 0}', "alpha must be a number"),
    ('{"lm_path": "a", "alpha": 1, "beta": 0, "beam_width": 0}',
     "beam_width must be a positive"),
    ('{"lm_path": 3, "alpha": 1, "beta": 0}', "lm_path must be a path"),
])
def test_read_lm_settings_rejects_bad_files(tmp_path, text, message):
  path = tmp_path / "bad.json"
  path.write_text(text)
  with pytest.raises(ValueError, match=message) as raised:
    lm_settings.read(str(path))
  assert str(path) in str(raised.value)

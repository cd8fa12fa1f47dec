"""Tests for data/codecs.py: MP3 and GSM round trips through real sox."""

import numpy as np
import pytest

from data import codecs
from tests.helpers import sox_audio


@pytest.fixture
def speech(tmp_path):
  return sox_audio.read(sox_audio.speech_file(tmp_path / "speech.wav"))[0]


@pytest.mark.parametrize("name,least_similar", [("mp3", 0.9), ("gsm", 0.7)])
def test_round_trip_changes_the_audio_but_keeps_length_and_timing(
    speech, name, least_similar):
  decoded = codecs.round_trip(speech, name, 16000, np.random.default_rng(0))
  assert decoded.shape == speech.shape
  error = np.mean((decoded - speech) ** 2) / np.mean(speech ** 2)
  assert error > 1e-3  # really encoded, not passed through
  # Aligned: the codec's delay is taken off (shifted, speech decorrelates).
  assert np.corrcoef(decoded, speech)[0, 1] > least_similar
  again = codecs.round_trip(speech, name, 16000, np.random.default_rng(0))
  np.testing.assert_array_equal(decoded, again)


def test_gsm_keeps_nothing_above_its_4_khz_band(speech):
  decoded = codecs.round_trip(speech, "gsm", 16000, np.random.default_rng(0))
  power = np.abs(np.fft.rfft(decoded)) ** 2
  freqs = np.fft.rfftfreq(len(decoded), 1 / 16000.0)
  assert power[freqs > 4100].sum() < 1e-3 * power.sum()


def test_unknown_codec_is_refused_with_the_choices():
  with pytest.raises(ValueError) as raised:
    codecs.check_codecs(["mp3", "opus"], 16000)
  assert str(raised.value) == "unknown codec(s) opus; choose from gsm, mp3"


def test_missing_sox_is_named(monkeypatch, tmp_path):
  monkeypatch.setenv("PATH", str(tmp_path))
  with pytest.raises(codecs.CodecError) as raised:
    codecs.check_codecs(["gsm"], 16000)
  assert str(raised.value) == ("codec augmentation needs sox on the PATH "
                               "(apt-get install sox libsox-fmt-all)")

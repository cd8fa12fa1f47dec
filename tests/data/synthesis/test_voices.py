"""Tests for data/synthesis/voices.py: voice weights and every engine voice.

The engines are real (flite, festival, espeak-ng, sox); a missing package
fails with the generator's apt-get line rather than skipping.
"""

import collections
import random

import numpy as np
import pytest
import soundfile

from data.synthesis import runner
from data.synthesis import voices as voices_lib
from tests.helpers import hostile


def _tools():
  try:
    return voices_lib.find_tools()
  except voices_lib.MissingDependencyError as e:
    pytest.fail(str(e))


def test_voice_weights_favor_intelligible_voices():
  voices = voices_lib.assign_voices(190, random.Random(0))
  counts = collections.Counter(v.key for v in voices)
  assert counts["flite-rms"] == 40 and counts["espeak-ng"] == 20
  # A handful of speakers still gets the most intelligible voices.
  few = {v.key for v in voices_lib.assign_voices(3, random.Random(0))}
  assert few == {"flite-rms", "flite-kal16", "festival-slt-hts"}


def test_corpus_shares_are_the_assigned_fractions():
  # The benchmark and the demo's plan weigh each voice's cost by these.
  shares = voices_lib.corpus_shares()
  assert set(shares) == {v.key for v in voices_lib.VOICES}
  assert sum(shares.values()) == pytest.approx(1.0)
  counts = collections.Counter(
      v.key for v in voices_lib.assign_voices(1900, random.Random(0)))
  assert {k: c / 1900 for k, c in counts.items()} == pytest.approx(shares)
  # Exact rounding where the quota is whole: 19 speakers, weights of 19.
  counts = collections.Counter(
      v.key for v in voices_lib.assign_voices(19, random.Random(0)))
  assert counts["flite-rms"] == 4 and counts["festival-ked"] == 1


@pytest.mark.parametrize("voice", voices_lib.VOICES, ids=lambda v: v.key)
def test_every_voice_speaks(voice, tmp_path):
  tools = _tools()
  rng = random.Random(7)
  speaker = voices_lib.make_speaker(1, voice, rng)
  path = str(tmp_path / "u.flac")
  runner.synthesize_batch(
      [(speaker, [(path, "the cat sat on the warm mat",
                   voices_lib.make_style(rng))])], tools)
  audio, rate = soundfile.read(path)
  assert rate == 16000 and audio.ndim == 1
  assert 1.0 < len(audio) / rate < 5.0
  # Speech is far louder than the noise floor at the edges.
  frames = audio[:len(audio) // 400 * 400].reshape(-1, 400)
  energy = np.sqrt((frames ** 2).mean(axis=1))
  assert 20 * np.log10(energy.max() / np.percentile(energy, 5)) > 25


def _dominant_hz(audio, rate):
  spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
  return np.argmax(spectrum) * rate / len(audio)


@pytest.mark.parametrize("engine,voice,rate,pitch,hz,seconds", [
    # flite: sox shifts the pitch; the tempo is the utterance's own.
    ("flite", "rms", 1.1, 200, 440 * 2 ** (200 / 1200), 1 / 1.05),
    ("flite", "kal16", 0.9, -150, 440 * 2 ** (-150 / 1200), 1 / 1.05),
    # The HTS voice's speaking rate is sox's too.
    ("festival", "cmu_us_slt_arctic_hts", 1.1, 100, 440 * 2 ** (1 / 12),
     1.1 / 1.05),
    # espeak-ng sets its own pitch (0-99), so sox leaves it.
    ("espeak-ng", "en-us+m1", 160, 50, 440, 1 / 1.05),
])
def test_transform_shifts_pitch_and_tempo(
    engine, voice, rate, pitch, hz, seconds, tmp_path):
  # A 2 s tone at an engine's rate (HTS writes 32 kHz) stands in for speech.
  source_rate = 32000
  t = np.arange(2 * source_rate) / source_rate
  wav = str(tmp_path / "tone.wav")
  soundfile.write(wav, 0.5 * np.sin(2 * np.pi * 440 * t), source_rate)
  speaker = voices_lib.Speaker(1, engine, voice, "M", rate, pitch)
  style = voices_lib.UtteranceStyle(1.05, -3.0, -60.0, 0.5, 0.1, 0.1, 1)
  out = voices_lib.transform(wav, speaker, style, _tools())
  rate_out = voices_lib.SAMPLE_RATE
  assert abs(len(out) / rate_out - 2 * seconds) < 0.02
  assert abs(_dominant_hz(out, rate_out) / hz - 1) < 0.01
  assert out.dtype == np.float64 and 0.3 < np.max(np.abs(out)) < 0.8


@pytest.mark.parametrize("num_samples", [40000, 40001, 43201])
def test_noise_floor_is_seeded_at_its_level_and_tilt(num_samples):
  white = voices_lib.UtteranceStyle(1.0, -3.0, -55.0, 0.0, 0.1, 0.1, 11)
  pink = white._replace(tilt=1.0)
  noise = voices_lib.noise_floor(num_samples, white)
  assert noise.shape == (num_samples,)
  np.testing.assert_array_equal(noise,
                                voices_lib.noise_floor(num_samples, white))
  assert not np.array_equal(
      noise, voices_lib.noise_floor(num_samples, white._replace(seed=12)))
  for style in (white, pink):
    level = voices_lib.noise_floor(num_samples, style)
    assert abs(20 * np.log10(np.sqrt(np.mean(level ** 2))) + 55) < 1e-6
    assert abs(level.mean()) < 1e-9
  # Pink noise has far more of its energy below 500 Hz than white.
  def low_share(x):
    power = np.abs(np.fft.rfft(x)) ** 2
    return power[:len(power) * 500 // 8000].sum() / power.sum()
  assert low_share(noise) < 0.1 < 0.5 < low_share(
      voices_lib.noise_floor(num_samples, pink))


@pytest.mark.parametrize("name", [hostile.command_name("", "wav")] +
                         hostile.option_names("wav"))
def test_transform_reads_names_sox_would_run_or_parse_as_files(
    name, tmp_path, monkeypatch):
  t = np.arange(16000) / 16000.0
  tone = 0.5 * np.sin(2 * np.pi * 440 * t)
  soundfile.write(str(tmp_path / name), tone, 16000, format="WAV")
  soundfile.write(str(tmp_path / "plain.wav"), tone, 16000)
  speaker = voices_lib.Speaker(1, "flite", "rms", "M", 1.0, 0)
  style = voices_lib.UtteranceStyle(1.0, -3.0, -60.0, 0.5, 0.1, 0.1, 1)
  monkeypatch.chdir(tmp_path)
  out = voices_lib.transform(name, speaker, style, _tools())
  np.testing.assert_array_equal(
      out, voices_lib.transform("plain.wav", speaker, style, _tools()))
  assert len(out) > 15000 and hostile.planted(tmp_path) == []

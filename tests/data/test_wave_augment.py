"""Tests for data/wave_augment.py, alone and in the real tf.data pipeline."""

import os

import numpy as np
import pytest
import tensorflow as tf

from data import dataset
from data import featurizer
from data import rooms
from data import wave_augment
from tests import conftest
from tests.helpers import sox_audio

RATE = 16000


@pytest.fixture
def speech(tmp_path):
  return sox_audio.read(sox_audio.speech_file(tmp_path / "speech.wav"))[0]


def _rng(seed=0):
  return np.random.default_rng(seed)


def _snr_db(clean, mixed):
  return 10 * np.log10(np.sum(clean ** 2) / np.sum((mixed - clean) ** 2))


def test_fft_convolution_matches_direct_convolution():
  signal, response = _rng().standard_normal(1000), _rng(1).standard_normal(77)
  np.testing.assert_allclose(wave_augment.fft_convolve(signal, response),
                             np.convolve(signal, response)[:1000], atol=1e-9)


def test_reverb_spreads_a_burst_over_the_rooms_decay():
  pytest.importorskip("pyroomacoustics")
  rirs = rooms.simulate_rirs(2, (0.5, 0.6), RATE, 3)
  burst = np.zeros(RATE)
  burst[1000:1800] = _rng().standard_normal(800) * 0.3  # 50 ms of sound
  wet = wave_augment.Reverb(1.0, rirs)(burst, _rng())
  assert wet.shape == burst.shape
  after = slice(1800 + 800, 1800 + 4800)  # 50-300 ms after the burst ends
  assert not np.any(burst[after])
  # A 0.5 s room leaves the burst's tail audible for hundreds of ms.
  assert np.sum(wet[after] ** 2) > 0.01 * np.sum(wet ** 2)
  # Without a delay: the sound still starts where it started (40 taps).
  assert np.max(np.abs(wet[:1000 - 40])) < 1e-12
  assert np.max(np.abs(wet[1000 - 40:1100])) > 1e-3


def test_noise_from_a_folder_is_mixed_within_the_snr_range(tmp_path, speech):
  tracks = wave_augment.load_noise_dir(
      str(sox_audio.noise_dir(tmp_path / "noise")), RATE)
  assert [len(t) for t in tracks] == [RATE * 2, RATE * 3 // 2]  # resampled
  noise = wave_augment.Noise(1.0, tracks, (5.0, 10.0))
  snrs = [_snr_db(speech, noise(speech, _rng(i))) for i in range(8)]
  assert all(5.0 - 1e-6 <= s <= 10.0 + 1e-6 for s in snrs), snrs
  assert len(set(np.round(snrs, 6))) == 8


def test_babble_of_other_utterances_is_mixed_within_the_snr_range(
    tmp_path, speech):
  talkers = [sox_audio.read(sox_audio.speech_file(
      tmp_path / ("t%d.wav" % i), text, seed=i))[0]
             for i, text in enumerate(["a blue bird", "green trees", "ran"])]
  babble = wave_augment.Babble(1.0, talkers, (0.0, 3.0))
  mixed = babble(speech, _rng())
  assert 0.0 - 1e-6 <= _snr_db(speech, mixed) <= 3.0 + 1e-6


def test_telephone_band_leaves_no_energy_above_4_khz(speech):
  phone = wave_augment.Telephone(1.0, RATE)(speech, _rng())
  power = np.abs(np.fft.rfft(phone)) ** 2
  freqs = np.fft.rfftfreq(len(phone), 1.0 / RATE)
  assert phone.shape == speech.shape
  # 80 dB down: below the quantization noise of the 16-bit input (the
  # filter's cut to the utterance's length leaks that little).
  assert power[freqs > 4000].sum() < 1e-8 * power.sum()
  assert power[freqs < 200].sum() < 1e-8 * power.sum()
  assert power[(freqs > 400) & (freqs < 3300)].sum() > 0.5 * power.sum()
  assert np.mean((phone - speech) ** 2) > 1e-4 * np.mean(speech ** 2)


def test_gain_changes_the_level_by_the_drawn_db(speech):
  quieter = wave_augment.Gain(1.0, (-6.0, -6.0))(speech, _rng())
  assert 20 * np.log10(np.max(np.abs(quieter)) /
                       np.max(np.abs(speech))) == pytest.approx(-6.0)
  changes = [20 * np.log10(np.std(wave_augment.Gain(1.0, (-3.0, 2.0))(
      speech, _rng(i))) / np.std(speech)) for i in range(6)]
  assert all(-3.0 - 1e-9 <= c <= 2.0 + 1e-9 for c in changes), changes
  # Clipped at full scale, as a recorder would.
  assert np.max(np.abs(wave_augment.Gain(1.0, (20.0, 20.0))(
      speech, _rng()))) == 1.0


def _chain(seed, noise_tracks, prob=1.0):
  return wave_augment.WaveAugment([
      wave_augment.Noise(prob, noise_tracks, (5.0, 15.0)),
      wave_augment.Gain(prob, (-6.0, 3.0)),
      wave_augment.Telephone(prob * 0.5, RATE)], seed)


def test_chain_is_seeded_by_seed_and_position(speech):
  tracks = [_rng(9).standard_normal(RATE).astype(np.float32)]
  first = _chain(1, tracks)(speech, 4)
  np.testing.assert_array_equal(first, _chain(1, tracks)(speech, 4))
  assert not np.array_equal(first, _chain(2, tracks)(speech, 4))
  assert not np.array_equal(first, _chain(1, tracks)(speech, 5))
  # Each step applies with its probability: some positions are left alone.
  halves = [np.array_equal(_chain(1, tracks, 0.3)(speech, p), speech)
            for p in range(40)]
  assert 0 < sum(halves) < 40
  assert not wave_augment.WaveAugment([wave_augment.Gain(0.0, (0, 1))],
                                      1).enabled


@pytest.mark.parametrize("make,message", [
    (lambda d: None, "noise folder {d} does not exist"),
    (lambda d: d.mkdir(), "noise folder {d} holds no audio file "
                          "(.wav, .flac, .ogg, .oga)"),
    (lambda d: (d.mkdir(), (d / "notes.txt").write_text("rain")),
     "noise folder {d} holds no audio file (.wav, .flac, .ogg, .oga)"),
])
def test_bad_noise_folder_is_named(tmp_path, make, message):
  folder = tmp_path / "noise"
  make(folder)
  with pytest.raises(wave_augment.NoiseDirError) as raised:
    wave_augment.load_noise_dir(str(folder), RATE)
  assert str(raised.value) == message.format(d=folder)


def test_unreadable_or_silent_noise_file_is_named(tmp_path):
  folder = sox_audio.noise_dir(tmp_path / "noise", count=1)
  bad = folder / "sub" / "rain.wav"
  bad.write_bytes(b"RIFF not really a wave file")
  with pytest.raises(wave_augment.NoiseDirError) as raised:
    wave_augment.load_noise_dir(str(folder), RATE)
  assert str(raised.value).startswith(
      "noise file %s cannot be read: " % bad)
  sox_audio.synth(bad, 0.5, RATE, 1, "sine", "440", "vol", "0")
  with pytest.raises(wave_augment.NoiseDirError) as raised:
    wave_augment.load_noise_dir(str(folder), RATE)
  assert str(raised.value) == "noise file %s is silent" % bad


# The real pipeline.


def _batches(speech_dataset, wave=None, cache_dir=None):
  batches = dataset.input_fn(4, speech_dataset, feature_cache_dir=cache_dir,
                             wave_augment=wave)
  return [features["features"].numpy() for features, _ in batches]


def test_pipeline_batches_follow_the_seed_and_bypass_the_cache(tmp_path):
  speech_dataset = conftest.speech_dataset(conftest.make_corpus(
      tmp_path / "c", num_utts=8))
  tracks = [_rng(9).standard_normal(RATE).astype(np.float32)]
  cache = tmp_path / "cache"
  first = _batches(speech_dataset, _chain(1, tracks), str(cache))
  again = _batches(speech_dataset, _chain(1, tracks), str(cache))
  other = _batches(speech_dataset, _chain(2, tracks), str(cache))
  assert all(np.array_equal(a, b) for a, b in zip(first, again))
  assert not any(np.array_equal(a, b) for a, b in zip(first, other))
  # Augmented training features are never cached...
  assert not [f for _, _, files in os.walk(cache) for f in files]
  # ...while evaluation (no augmentation) fills and uses the cache.
  plain = _batches(speech_dataset, None, str(cache))
  assert len([f for _, _, files in os.walk(cache) for f in files]) == 8
  assert not any(np.array_equal(a, b) for a, b in zip(first, plain))


def test_pipeline_without_waveform_augmentation_is_bit_for_bit_the_same(
    tmp_path):
  speech_dataset = conftest.speech_dataset(conftest.make_corpus(
      tmp_path / "c", num_utts=8))
  disabled = wave_augment.WaveAugment(
      [wave_augment.Gain(0.0, (-6.0, 3.0))], 1)
  original = _batches(speech_dataset)
  off = _batches(speech_dataset, disabled)
  assert len(original) == len(off) == 2
  assert all(np.array_equal(a, b) for a, b in zip(original, off))
  entry = speech_dataset.entries[0]
  direct = featurizer.featurize_file(entry.wav_filename, RATE, window_ms=20,
                                     stride_ms=10)
  np.testing.assert_array_equal(original[0][0][:len(direct)], direct)


def test_a_codec_failure_mid_epoch_names_the_file(tmp_path, monkeypatch):
  speech_dataset = conftest.speech_dataset(conftest.make_corpus(
      tmp_path / "c", num_utts=4))
  codec = wave_augment.Codec(1.0, ["gsm"], RATE)
  monkeypatch.setenv("PATH", str(tmp_path))  # sox gone after the check
  with pytest.raises(tf.errors.InvalidArgumentError) as raised:
    _batches(speech_dataset, wave_augment.WaveAugment([codec], 1))
  assert dataset.AUDIO_ERROR_MARKER in str(raised.value)
  assert "sox failed: " in str(raised.value)
  assert speech_dataset.entries[0].wav_filename in str(raised.value)

"""Tests for data/featurizer.py: the log spectrogram and the vocabulary.

The numerical reference is the seed's spectrogram, rewritten in
bench/seed_reference.py with the same steps (strided windows over a truncated
signal, a Hann window, a real FFT per window, periodogram scaling, natural
log). `compute_spectrogram_feature` and `featurize_file` must reproduce it.
"""


import numpy as np
import pytest
import soundfile

from bench import seed_reference
from data import dataset
from data import featurizer
from data import text_normalization
from data import vocabulary
from tests import conftest

SAMPLE_RATE = 16000
WINDOW = 320   # samples in 20 ms at 16 kHz
STRIDE = 160   # samples in 10 ms at 16 kHz
NUM_BINS = 161
VOCAB_FILE = vocabulary.VOCABULARY_FILE


def _speech(text="red fish", seed=0):
  return conftest.synthesize(text, np.random.default_rng(seed))


# Lengths around the window and hop: exactly one window, one window plus a
# partial hop, exact multiples, and several with (n - window) % stride != 0.
LENGTHS = [320, 321, 479, 480, 481, 1000, 4800, 4955, 16000, 16001, 16159]


@pytest.mark.parametrize("length", LENGTHS)
def test_spectrogram_matches_reference_on_speech(length):
  audio = _speech("dog tree sun fish", seed=length)
  assert audio.shape[0] >= length
  samples = audio[:length]
  got = featurizer.compute_spectrogram_feature(samples, SAMPLE_RATE)
  want = seed_reference.reference_spectrogram(samples, SAMPLE_RATE)
  assert got.shape == want.shape
  assert np.max(np.abs(got - want)) <= 1e-4
  # Same operations in the same order: the numbers should be (nearly) exact.
  assert np.max(np.abs(got - want)) < 1e-9


@pytest.mark.parametrize("length", [320, 777, 3333, 8000, 12345])
def test_spectrogram_matches_reference_on_noise(length):
  samples = np.random.default_rng(length).uniform(-1.0, 1.0, length)
  got = featurizer.compute_spectrogram_feature(samples, SAMPLE_RATE)
  want = seed_reference.reference_spectrogram(samples, SAMPLE_RATE)
  assert got.shape == want.shape
  assert np.max(np.abs(got - want)) <= 1e-4


def test_spectrogram_shape_and_frame_count():
  for length in LENGTHS:
    samples = np.random.default_rng(1).standard_normal(length) * 0.1
    feature = featurizer.compute_spectrogram_feature(samples, SAMPLE_RATE)
    expected_frames = (length - WINDOW) // STRIDE + 1
    assert feature.shape == (expected_frames, NUM_BINS)
    assert featurizer.num_frames(length, SAMPLE_RATE) == expected_frames
    assert feature.dtype == np.float64
    assert np.all(np.isfinite(feature))


def test_num_frames_formula():
  assert featurizer.num_frames(0, SAMPLE_RATE) == 0
  assert featurizer.num_frames(319, SAMPLE_RATE) == 0
  assert featurizer.num_frames(320, SAMPLE_RATE) == 1
  assert featurizer.num_frames(479, SAMPLE_RATE) == 1
  assert featurizer.num_frames(480, SAMPLE_RATE) == 2
  assert featurizer.num_frames(16000, SAMPLE_RATE) == 99
  # 8 kHz, 25 ms windows, 10 ms hops: 200-sample windows, 80-sample hops.
  assert featurizer.num_frames(8000, 8000, stride_ms=10, window_ms=25) == 98


def test_spectrogram_max_freq_keeps_lower_bins():
  samples = _speech("cat dog")[:8000]
  got = featurizer.compute_spectrogram_feature(samples, SAMPLE_RATE,
                                               max_freq=4000)
  want = seed_reference.reference_spectrogram(samples, SAMPLE_RATE,
                                             max_freq=4000)
  # Bins are 50 Hz apart: 0, 50, ..., 4000 Hz is 81 bins.
  assert got.shape[1] == 81
  np.testing.assert_allclose(got, want, atol=1e-9, rtol=0)


def test_spectrogram_of_silence_is_finite():
  feature = featurizer.compute_spectrogram_feature(np.zeros(1600), SAMPLE_RATE)
  np.testing.assert_allclose(feature, np.log(1e-14))


def test_spectrogram_accepts_integer_lists():
  samples = list(np.random.default_rng(3).integers(-5, 5, 1000))
  got = featurizer.compute_spectrogram_feature(samples, SAMPLE_RATE)
  want = seed_reference.reference_spectrogram(
      np.asarray(samples, np.float64), SAMPLE_RATE)
  np.testing.assert_allclose(got, want, atol=1e-9, rtol=0)


def test_spectrogram_rejects_stride_longer_than_window():
  with pytest.raises(ValueError, match="Stride"):
    featurizer.compute_spectrogram_feature(np.zeros(4000), SAMPLE_RATE,
                                           stride_ms=30, window_ms=20)


def test_spectrogram_rejects_max_freq_above_nyquist():
  with pytest.raises(ValueError, match="max_freq"):
    featurizer.compute_spectrogram_feature(np.zeros(4000), SAMPLE_RATE,
                                           max_freq=8001)


@pytest.mark.parametrize("length", [0, 1, 319])
def test_spectrogram_rejects_audio_shorter_than_a_window(length):
  with pytest.raises(ValueError, match="shorter than one"):
    featurizer.compute_spectrogram_feature(np.zeros(length), SAMPLE_RATE)


def test_featurize_file_matches_normalized_reference(tmp_path):
  path = str(tmp_path / "a.wav")
  conftest.write_wav(path, _speech("blue tree"), subtype="FLOAT")
  got = featurizer.featurize_file(path, SAMPLE_RATE, window_ms=20, stride_ms=10)
  assert got.dtype == np.float32 and got.shape[1:] == (NUM_BINS, 1)
  samples, _ = soundfile.read(path, dtype="float64")
  want = seed_reference.reference_normalize(
      seed_reference.reference_spectrogram(samples, SAMPLE_RATE))
  np.testing.assert_allclose(got[:, :, 0], want, atol=1e-4)
  raw = featurizer.featurize_file(path, SAMPLE_RATE, window_ms=20,
                                  stride_ms=10, normalize=False)
  np.testing.assert_allclose(
      raw[:, :, 0], seed_reference.reference_spectrogram(samples, SAMPLE_RATE),
      rtol=1e-5, atol=1e-4)


def test_featurize_file_rejects_wrong_rate_and_channels(tmp_path):
  path = str(tmp_path / "a.wav")
  conftest.write_wav(path, _speech("sun"), sample_rate=8000)
  with pytest.raises(ValueError, match="8000 Hz, expected 16000 Hz"):
    featurizer.featurize_file(path, SAMPLE_RATE, window_ms=20, stride_ms=10)
  conftest.write_wav(path, np.stack([_speech("sun")] * 2, axis=1))
  with pytest.raises(ValueError, match="2 channels, expected mono"):
    featurizer.featurize_file(path, SAMPLE_RATE, window_ms=20, stride_ms=10)


def test_audio_featurizer_bins():
  audio_featurizer = featurizer.AudioFeaturizer()
  assert audio_featurizer.sample_rate == 16000
  assert audio_featurizer.window_ms == 20.0
  assert audio_featurizer.stride_ms == 10.0
  assert audio_featurizer.num_feature_bins == NUM_BINS
  # 8 kHz with 20 ms windows: 160 samples, 81 bins.
  assert featurizer.AudioFeaturizer(sample_rate=8000).num_feature_bins == 81


def test_text_featurizer_reads_vocabulary():
  text_featurizer = featurizer.TextFeaturizer(VOCAB_FILE)
  token_to_index = text_featurizer.token_to_index
  assert len(token_to_index) == 29
  assert token_to_index[" "] == 0
  assert token_to_index["a"] == 1
  assert token_to_index["z"] == 26
  assert token_to_index["'"] == 27
  assert token_to_index["-"] == 28
  assert text_featurizer.speech_labels == " abcdefghijklmnopqrstuvwxyz'-"
  assert text_featurizer.index_to_token == {
      i: c for c, i in token_to_index.items()}
  # Comment lines are not tokens.
  assert "#" not in token_to_index
  assert not any(token.startswith("#") for token in token_to_index)


def test_text_featurizer_rejects_duplicate_token(tmp_path):
  vocab = tmp_path / "vocab.txt"
  vocab.write_text("# comment\n \na\nb\na\n", encoding="utf-8")
  with pytest.raises(ValueError, match="twice"):
    featurizer.TextFeaturizer(str(vocab))


def test_text_featurizer_small_vocab_without_trailing_newline(tmp_path):
  vocab = tmp_path / "vocab.txt"
  vocab.write_text("# x\nb\n \na", encoding="utf-8")
  text_featurizer = featurizer.TextFeaturizer(str(vocab))
  assert text_featurizer.token_to_index == {"b": 0, " ": 1, "a": 2}
  assert text_featurizer.speech_labels == "b a"


def test_compute_label_feature_maps_characters():
  token_to_index = featurizer.TextFeaturizer(VOCAB_FILE).token_to_index
  assert featurizer.compute_label_feature("hello world", token_to_index) == [
      8, 5, 12, 12, 15, 0, 23, 15, 18, 12, 4]
  assert featurizer.compute_label_feature("it's", token_to_index) == [
      9, 20, 27, 19]
  assert featurizer.compute_label_feature("", token_to_index) == []


def test_compute_label_feature_takes_any_alphabet_and_a_policy(tmp_path):
  vocab = tmp_path / "v.txt"
  vocab.write_text("# German and Russian\n \nä\nß\nя\nж\n-\n",
                   encoding="utf-8")
  token_to_index = featurizer.TextFeaturizer(str(vocab)).token_to_index
  assert featurizer.compute_label_feature("ä ßя", token_to_index) == [
      1, 0, 2, 3]
  # The original lower-cased here; the policy does it when given.
  policy = text_normalization.DEFAULT
  assert featurizer.compute_label_feature("A\u0308 ЖЯ", token_to_index,
                                          policy) == [1, 0, 4, 3]
  with pytest.raises(featurizer.UnknownCharacterError):
    featurizer.compute_label_feature("Ä", token_to_index)


@pytest.mark.parametrize("text,char", [("café", "é"), ("hello!", "!"),
                                       ("Cat", "C")])
def test_compute_label_feature_unknown_character(text, char):
  token_to_index = featurizer.TextFeaturizer(VOCAB_FILE).token_to_index
  with pytest.raises(featurizer.UnknownCharacterError) as info:
    featurizer.compute_label_feature(text, token_to_index)
  assert isinstance(info.value, ValueError)
  assert info.value.char == char
  assert repr(char) in str(info.value)


def test_non_finite_samples_are_found_with_their_time():
  samples = np.zeros(32000)
  assert featurizer.non_finite_problem(samples, 16000) is None
  samples[24000] = np.inf
  samples[30000] = np.nan
  assert featurizer.non_finite_problem(samples, 16000) == (
      "holds NaN or infinite samples (the first at 1.50 s)")
  # A later block of the same file: the time counts the samples before it.
  assert featurizer.non_finite_problem(samples[16000:], 16000,
                                       offset=16000) == (
      "holds NaN or infinite samples (the first at 1.50 s)")


def test_running_normalization_is_causal_and_the_same_in_any_pieces():
  rng = np.random.default_rng(0)
  feature = rng.standard_normal((300, 161)) * 3.0 + 7.0
  whole = featurizer.normalize_running(feature)
  # Frame t by the statistics of frames 0..t, as defined.
  for t in (0, 1, 57, 299):
    seen = feature[:t + 1]
    np.testing.assert_allclose(
        whole[t], (feature[t] - seen.mean(0)) / (seen.std(0) + 1e-6),
        rtol=1e-9, atol=1e-9)
  assert not whole[0].any()  # one frame: its own mean, no spread yet
  for sizes in ([1] * 300, [0, 7, 1, 92, 200], [299, 1]):
    normalizer = featurizer.RunningNormalizer(161)
    bounds = np.cumsum([0] + sizes)
    pieces = [normalizer(feature[a:b]) for a, b in zip(bounds, bounds[1:])]
    np.testing.assert_array_equal(np.concatenate(pieces), whole)


def test_featurize_samples_normalizes_as_asked():
  samples = conftest.synthesize("the cat", np.random.default_rng(0))
  spectrogram = featurizer.compute_spectrogram_feature(samples, 16000)
  running = featurizer.featurize_samples(
      samples, 16000, window_ms=20, stride_ms=10, normalize="running")
  utterance = featurizer.featurize_samples(
      samples, 16000, window_ms=20, stride_ms=10, normalize="utterance")
  np.testing.assert_array_equal(
      running[:, :, 0],
      featurizer.normalize_running(spectrogram).astype(np.float32))
  np.testing.assert_array_equal(
      utterance, featurizer.featurize_samples(
          samples, 16000, window_ms=20, stride_ms=10, normalize=True))
  assert not np.allclose(running, utterance, atol=1e-3)


def test_the_framing_is_keyword_only_so_window_and_stride_cannot_swap():
  # Two functions once took (stride_ms, window_ms) and two others
  # (window_ms, stride_ms), both floats: a swap was silent.
  samples = np.zeros(1600)
  for call in (lambda: featurizer.featurize_samples(samples, 16000, 20, 10),
               lambda: featurizer.compute_spectrogram_feature(samples, 16000,
                                                              10, 20),
               lambda: featurizer.num_frames(1600, 16000, 10, 20),
               lambda: featurizer.AudioFeaturizer(16000, 20, 10),
               lambda: dataset.AudioConfig(16000, 20, 10)):
    with pytest.raises(TypeError):
      call()
  assert featurizer.num_frames(1600, 16000, stride_ms=10, window_ms=20) == 9


def test_one_settings_value_records_and_compares():
  running = featurizer.AudioFeaturizer(8000, window_ms=25, stride_ms=10,
                                       normalization="running")
  record = running.to_record()
  assert record == {"sample_rate": 8000, "window_ms": 25.0, "stride_ms": 10.0,
                    "feature_normalization": "running"}
  assert featurizer.AudioFeaturizer.from_record(record) == running
  # The seed's per-utterance normalization is what an old export's absence
  # of the key means.
  assert "feature_normalization" not in featurizer.AudioFeaturizer(
  ).to_record()
  assert dataset.AudioConfig(16000, window_ms=20, stride_ms=10,
                             normalize=True) == featurizer.AudioFeaturizer()
  assert dataset.AudioConfig(16000, window_ms=20, stride_ms=10).normalize is (
      False)
  with pytest.raises(ValueError, match="unknown feature normalization"):
    featurizer.AudioFeaturizer(normalization="global")
  with pytest.raises(ValueError, match="Stride size"):
    featurizer.AudioFeaturizer(window_ms=10, stride_ms=20)


def test_the_value_featurizes_as_the_functions_do(tmp_path):
  rng = np.random.default_rng(0)
  samples = 0.1 * rng.standard_normal(8000)
  path = str(tmp_path / "a.wav")
  soundfile.write(path, samples, 16000, subtype="FLOAT")
  for normalization, normalize in (("utterance", True), ("running", "running"),
                                   ("none", False)):
    value = featurizer.AudioFeaturizer(normalization=normalization)
    expected = featurizer.featurize_samples(
        samples, 16000, window_ms=20, stride_ms=10, normalize=normalize)
    np.testing.assert_allclose(value.featurize_samples(samples), expected)
    np.testing.assert_allclose(value.featurize_file(path), expected,
                               rtol=1e-5, atol=1e-5)
    assert value.num_frames(8000) == expected.shape[0]

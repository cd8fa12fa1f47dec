"""Audio and text featurization for DeepSpeech2.

Audio becomes a log power spectrogram: a Hann window of `window_ms` (20 ms),
hop `stride_ms` (10 ms), power spectrum scaled like a periodogram, natural log.
At 16 kHz that is 320-sample windows, 160-sample hops and 161 frequency bins.
Text becomes a list of vocabulary indices.

`compute_spectrogram_feature` is the seed's numpy definition and
`featurize_file` applies it to one audio file; the input pipeline
(`data/dataset.py`) runs that in a parallel tf.data map (soundfile and numpy's
FFT release the GIL) and `transcribe.py` calls it directly.
"""

import numpy as np
import soundfile

from common import safe_path
from data import vocabulary


def _frame_sizes(sample_rate, *, stride_ms, window_ms):
  """Window and hop in samples, validated like the seed."""
  if stride_ms > window_ms:
    raise ValueError("Stride size must not be greater than window size.")
  stride_size = int(0.001 * sample_rate * stride_ms)
  window_size = int(0.001 * sample_rate * window_ms)
  return window_size, stride_size


def num_frames(num_samples, sample_rate, *, stride_ms=10.0, window_ms=20.0):
  """Number of spectrogram frames for `num_samples` samples (0 if too short)."""
  window_size, stride_size = _frame_sizes(sample_rate, stride_ms=stride_ms,
                                          window_ms=window_ms)
  if num_samples < window_size:
    return 0
  return (num_samples - window_size) // stride_size + 1


def compute_spectrogram_feature(samples, sample_rate, *, stride_ms=10.0,
                                window_ms=20.0, max_freq=None, eps=1e-14):
  """Computes the log power spectrogram of a waveform.

  Frames that would run past the end of the signal are dropped (no padding),
  so a clip of n samples gives (n - window) // stride + 1 frames. Each frame is
  Hann-weighted, transformed with a real FFT of the window's length, and its
  power scaled by 2 / (sum(window^2) * sample_rate) (DC and Nyquist bins by
  half that), as a one-sided periodogram.

  Args:
    samples: 1-D float array, the waveform in [-1, 1].
    sample_rate: samples per second (Hz).
    stride_ms: hop between frames, in ms.
    window_ms: frame length, in ms.
    max_freq: highest frequency kept, in Hz (default: sample_rate / 2).
    eps: added before the log so silence stays finite.

  Returns:
    A float64 array of shape [frames, bins]; 161 bins at 16 kHz / 20 ms.

  Raises:
    ValueError: on a stride longer than the window, a max_freq above
      Nyquist, or a clip shorter than one window.
  """
  if max_freq is None:
    max_freq = sample_rate / 2
  if max_freq > sample_rate / 2:
    raise ValueError("max_freq must not be greater than half of sample rate.")
  window_size, stride_size = _frame_sizes(sample_rate, stride_ms=stride_ms,
                                          window_ms=window_ms)
  samples = np.asarray(samples, dtype=np.float64)
  if samples.shape[0] < window_size:
    raise ValueError("Audio of %d samples is shorter than one %d-sample "
                     "window." % (samples.shape[0], window_size))

  count = num_frames(samples.shape[0], sample_rate, stride_ms=stride_ms,
                     window_ms=window_ms)
  # [frames, window] view of overlapping windows, no copy.
  frames = np.lib.stride_tricks.sliding_window_view(
      samples, window_size)[::stride_size][:count]
  window = np.hanning(window_size)
  power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
  scale = np.sum(window ** 2) * sample_rate
  power[:, 1:-1] *= 2.0 / scale
  power[:, (0, -1)] /= scale
  freqs = float(sample_rate) / window_size * np.arange(power.shape[1])
  keep = np.where(freqs <= max_freq)[0][-1] + 1
  return np.log(power[:, :keep] + eps)


def normalize_audio_feature(audio_feature):
  """Per-bin normalization over time: (x - mean) / (std + 1e-6).

  Args:
    audio_feature: float array [frames, bins].

  Returns:
    An array of the same shape.
  """
  mean = np.mean(audio_feature, axis=0)
  std = np.std(audio_feature, axis=0)
  return (audio_feature - mean) / (std + 1e-6)


# How features are normalized per bin: over the whole utterance (the
# seed's), or causally, by the statistics of the frames so far (what a
# stream can do; a model meant for streaming records it in its settings).
NORMALIZATIONS = ("utterance", "running")


class RunningNormalizer(object):
  """Per-bin normalization of each frame by the frames up to and including it.

  Frame t becomes (x_t - mean_t) / (std_t + 1e-6), mean and std over frames
  0..t: the only statistics a stream has when the frame arrives. Sums carry
  from one call to the next, accumulated in the same order whatever the
  calls' sizes, so a stream fed in pieces gets exactly the numbers of one
  call over the whole utterance (`normalize_running`).
  """

  def __init__(self, bins):
    self._count = 0
    self._sum = np.zeros(bins)
    self._sum_sq = np.zeros(bins)

  def __call__(self, feature):
    """Normalizes the next frames, float [frames, bins] -> float64 same."""
    feature = np.asarray(feature, dtype=np.float64)
    frames = feature.shape[0]
    if not frames:
      return feature
    sums = np.cumsum(np.vstack([self._sum[np.newaxis], feature]), axis=0)[1:]
    sums_sq = np.cumsum(np.vstack([self._sum_sq[np.newaxis],
                                   feature * feature]), axis=0)[1:]
    counts = (self._count + np.arange(1, frames + 1))[:, np.newaxis]
    self._count += frames
    self._sum, self._sum_sq = sums[-1], sums_sq[-1]
    mean = sums / counts
    std = np.sqrt(np.maximum(sums_sq / counts - mean * mean, 0.0))
    return (feature - mean) / (std + 1e-6)


def normalize_running(audio_feature):
  """`RunningNormalizer` over a whole utterance [frames, bins] at once."""
  return RunningNormalizer(audio_feature.shape[1])(audio_feature)


def featurize_file(path, sample_rate, *, window_ms, stride_ms,
                   normalize=True):
  """Reads one audio file and computes its features, the seed's way.

  Args:
    path: the audio file.
    sample_rate: the rate it must have, in Hz.
    window_ms, stride_ms: spectrogram framing, in ms.
    normalize: per-bin normalization over time.

  Returns:
    float32 [frames, bins, 1].

  Raises:
    ValueError, OSError, RuntimeError, soundfile.LibsndfileError: for a
      file that is not mono audio at `sample_rate` or cannot be read.
  """
  return featurize_samples(read_audio(path, sample_rate), sample_rate,
                           window_ms=window_ms, stride_ms=stride_ms,
                           normalize=normalize)


def read_audio(path, sample_rate):
  """The float64 samples [n] of a mono audio file at `sample_rate` Hz.

  Raises:
    ValueError, OSError, RuntimeError, soundfile.LibsndfileError: as
      `featurize_file`.
  """
  samples, rate = soundfile.read(safe_path.for_tools(path), dtype="float64",
                                 always_2d=False)
  if rate != sample_rate:
    raise ValueError("%d Hz, expected %d Hz" % (rate, sample_rate))
  if samples.ndim != 1:
    raise ValueError("%d channels, expected mono" % samples.shape[1])
  return samples


def featurize_samples(samples, sample_rate, *, window_ms, stride_ms,
                      normalize=True):
  """Features of a mono waveform, the seed's way (as `featurize_file`).

  Args:
    samples: float [n] in [-1, 1], at `sample_rate` Hz.
    sample_rate: its rate, in Hz.
    window_ms, stride_ms: spectrogram framing, in ms.
    normalize: per-bin normalization over time: True or "utterance" over
      the whole utterance, "running" causally (`RunningNormalizer`), False
      none.

  Returns:
    float32 [frames, bins, 1].
  """
  feature = compute_spectrogram_feature(
      samples, sample_rate, stride_ms=stride_ms, window_ms=window_ms)
  if normalize == "running":
    feature = normalize_running(feature)
  elif normalize:
    feature = normalize_audio_feature(feature)
  return feature[:, :, np.newaxis].astype(np.float32)


def non_finite_problem(samples, sample_rate, offset=0):
  """Why a waveform has no usable spectrogram, or None when it has one.

  One NaN or infinite sample makes its frames NaN, and per-bin
  normalization spreads that over the whole utterance: the model then sees
  nothing (its transcript comes out empty) and training's loss is NaN.

  Args:
    samples: float [n], at `sample_rate` Hz.
    sample_rate: its rate, in Hz.
    offset: samples of the same file before these (for the time named).

  Returns:
    None, or a reason naming the time of the first bad sample.
  """
  finite = np.isfinite(samples)
  if finite.all():
    return None
  first = offset + int(np.argmin(finite))
  return ("holds NaN or infinite samples (the first at %.2f s)"
          % (first / float(sample_rate)))


class AudioFeaturizer(object):
  """The featurizer settings: one value for the dataset, its checks and
  transcription, so that training and inference cannot featurize apart.

  Attributes:
    sample_rate: the audio's rate, in Hz.
    window_ms: spectrogram window, in ms.
    stride_ms: hop between windows, in ms.
    normalization: per-bin normalization over time: "utterance" (the seed's,
      over the whole utterance), "running" (by the frames so far,
      `RunningNormalizer`) or "none".
  """

  def __init__(self, sample_rate=16000, *, window_ms=20.0, stride_ms=10.0,
               normalization="utterance"):
    """Keyword-only framing: the two are both floats in ms, and a swap
    would otherwise pass silently.

    Raises:
      ValueError: an unknown normalization, or a stride over the window.
    """
    if normalization not in NORMALIZATIONS + ("none",):
      raise ValueError("unknown feature normalization %r (one of %s)" % (
          normalization, ", ".join(NORMALIZATIONS + ("none",))))
    _frame_sizes(sample_rate, stride_ms=stride_ms, window_ms=window_ms)
    self.sample_rate = int(sample_rate)
    self.window_ms = float(window_ms)
    self.stride_ms = float(stride_ms)
    self.normalization = normalization

  @property
  def normalize(self):
    """The normalization as `featurize_samples` takes it (True: utterance)."""
    return {"utterance": True, "none": False}.get(self.normalization,
                                                  self.normalization)

  @property
  def num_feature_bins(self):
    """Frequency bins per frame (161 at 16 kHz and 20 ms)."""
    return _frame_sizes(self.sample_rate, stride_ms=self.stride_ms,
                        window_ms=self.window_ms)[0] // 2 + 1

  def num_frames(self, num_samples):
    """Spectrogram frames of `num_samples` samples."""
    return num_frames(num_samples, self.sample_rate, stride_ms=self.stride_ms,
                      window_ms=self.window_ms)

  def featurize_samples(self, samples):
    """`featurize_samples` with these settings: float32 [frames, bins, 1]."""
    return featurize_samples(samples, self.sample_rate,
                             window_ms=self.window_ms, stride_ms=self.stride_ms,
                             normalize=self.normalize)

  def featurize_file(self, path):
    """`featurize_file` with these settings (and its errors)."""
    return self.featurize_samples(read_audio(path, self.sample_rate))

  def to_record(self):
    """The settings as an export records them (training/export.py)."""
    record = {"sample_rate": self.sample_rate, "window_ms": self.window_ms,
              "stride_ms": self.stride_ms}
    if self.normalization != "utterance":
      # Absent means the seed's per-utterance normalization (older exports).
      record["feature_normalization"] = self.normalization
    return record

  @classmethod
  def from_record(cls, record):
    """The settings a `to_record` dict (or an export's settings) holds."""
    return cls(record["sample_rate"], window_ms=record["window_ms"],
               stride_ms=record["stride_ms"],
               normalization=record.get("feature_normalization", "utterance"))

  def _key(self):
    return (self.sample_rate, self.window_ms, self.stride_ms,
            self.normalization)

  def __eq__(self, other):
    return isinstance(other, AudioFeaturizer) and self._key() == other._key()

  def __hash__(self):
    return hash(self._key())

  def __repr__(self):
    return ("AudioFeaturizer(%d, window_ms=%g, stride_ms=%g, "
            "normalization=%r)" % self._key())


class UnknownCharacterError(ValueError):
  """A transcript holds a character that is not in the vocabulary."""

  def __init__(self, char, text):
    super().__init__("character %r is not in the vocabulary (transcript: %r)"
                     % (char, text))
    self.char = char


def compute_label_feature(text, token_to_index, text_policy=None):
  """Maps each character of `text` to its vocabulary index.

  Args:
    text: a transcript.
    token_to_index: the vocabulary, character -> index (any alphabet).
    text_policy: a `text_normalization.TextPolicy` applied first (the
      original lower-cased here; the manifest reader applies the training
      run's policy), or None for `text` as it is.

  Raises:
    UnknownCharacterError: for a character outside the vocabulary (the seed
      raised a bare KeyError mid-epoch).
  """
  if text_policy is not None:
    text = text_policy.apply(text)
  try:
    return [token_to_index[char] for char in text]
  except KeyError as e:
    raise UnknownCharacterError(e.args[0], text) from None


class TextFeaturizer(object):
  """The vocabulary (`data/vocabulary.py`'s format) as lookup tables.

  Any alphabet: the tokens are the file's UTF-8 characters, one a line.

  Attributes:
    token_to_index: dict from character to index.
    index_to_token: dict from index to character.
    speech_labels: all tokens in index order, as one string.
  """

  def __init__(self, vocab_file=vocabulary.VOCABULARY_FILE):
    tokens = vocabulary.read_tokens(vocab_file)
    self.token_to_index = {token: i for i, token in enumerate(tokens)}
    self.index_to_token = dict(enumerate(tokens))
    self.speech_labels = "".join(tokens)

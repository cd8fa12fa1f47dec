"""Augmentation of training waveforms (optional, off by default).

A model trained on clean synthesized speech has never heard a room, a noisy
street, other talkers, a telephone line or a lossy codec. Each step below
makes one of them, with its own probability per utterance, in the order the
sound meets them: `Reverb` (a simulated room, `data/rooms.py`), `Babble`
(other training utterances), `Noise` (real noise recordings), `Gain` (the
recording level, clipped at full scale), `Telephone` (the 300-3400 Hz band of
8 kHz telephony with mu-law quantization) and `Codec` (MP3 or GSM through
sox, `data/codecs.py`). `WaveAugment` chains the enabled ones.

Every draw comes from a numpy generator seeded by (the run's seed, the step,
the utterance's position in the cycle), as `data/augment.py` seeds
SpecAugment: the same seed gives the same batches, a resumed run augments the
way an uninterrupted one does, and turning one step on or off leaves the
others' draws alone. Each step keeps the utterance's length, so its
transcript still fits CTC. The input pipeline (`data/dataset.py`) runs the
chain between reading and featurizing, so augmented training features bypass
the feature cache.
"""

import os

import numpy as np
import soundfile

from common import safe_path
from data import codecs

# Noise files are recognised by these endings (what libsndfile decodes).
NOISE_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga")
# Talkers mixed into one babble: (fewest, most).
BABBLE_TALKERS = (3, 6)
# Training utterances kept in memory as babble talkers.
BABBLE_POOL = 32
# The telephone band, in Hz, and the width of its tapered edges.
TELEPHONE_BAND = (300.0, 3400.0)
_TAPER_HZ = 100.0
# 8-bit mu-law (G.711).
_MU = 255.0


class NoiseDirError(ValueError):
  """The noise folder is missing, holds no audio, or a file cannot be read."""


def _check_range(name, low, high, lowest=None):
  if low > high or (lowest is not None and low < lowest):
    raise ValueError("%s range %r-%r is empty or below %r" % (
        name, low, high, lowest))


def _check_prob(prob):
  if not 0.0 <= prob <= 1.0:
    raise ValueError("probability %r is not within [0, 1]" % prob)


def fast_fft_size(n):
  """The smallest 2^a 3^b 5^c >= n: FFTs of other sizes can be many times
  slower (a prime size is the worst)."""
  best = 1 << max(n - 1, 0).bit_length()
  power5 = 1
  while power5 < best:
    power35 = power5
    while power35 < best:
      size = power35 << max((n - 1) // power35, 0).bit_length()
      best = min(best, size)
      power35 *= 3
    power5 *= 5
  return best


def fft_convolve(signal, response):
  """`signal` [n] convolved with `response` [m], cut to n samples."""
  size = fast_fft_size(len(signal) + len(response) - 1)
  spectrum = np.fft.rfft(signal, size) * np.fft.rfft(response, size)
  return np.fft.irfft(spectrum, size)[:len(signal)]


def mix_at_snr(speech, noise, snr_db):
  """speech + noise scaled to `snr_db` below it (both [n], mean power).

  Silent speech or silent noise is returned unchanged: no level makes a
  ratio with nothing.
  """
  speech_power = np.mean(speech ** 2)
  noise_power = np.mean(noise ** 2)
  if speech_power == 0 or noise_power == 0:
    return speech
  scale = np.sqrt(speech_power / (noise_power * 10 ** (snr_db / 10.0)))
  return speech + scale * noise


def _segment(rng, track, length):
  """`length` samples of `track` from a random offset, looping past its end."""
  start = rng.integers(len(track))
  return np.resize(np.roll(track, -start), length)


class Reverb(object):
  """Convolves with an impulse response drawn from a bank (`rooms`)."""

  salt = 1

  def __init__(self, prob, rirs):
    _check_prob(prob)
    self.prob = prob
    self.rirs = rirs

  def __call__(self, samples, rng):
    return fft_convolve(samples, self.rirs[rng.integers(len(self.rirs))])


class Noise(object):
  """Adds a stretch of a noise recording at an SNR drawn in `snr_db`."""

  salt = 3

  def __init__(self, prob, tracks, snr_db):
    _check_prob(prob)
    _check_range("SNR", *snr_db)
    self.prob = prob
    self.tracks = tracks
    self.snr_db = snr_db

  def __call__(self, samples, rng):
    track = self.tracks[rng.integers(len(self.tracks))]
    return mix_at_snr(samples, _segment(rng, track, len(samples)),
                      rng.uniform(*self.snr_db))


class Babble(Noise):
  """Adds several other utterances, summed, at an SNR drawn in `snr_db`."""

  salt = 2

  def __call__(self, samples, rng):
    talkers = rng.integers(BABBLE_TALKERS[0], BABBLE_TALKERS[1] + 1)
    babble = sum(_segment(rng, self.tracks[i], len(samples))
                 for i in rng.integers(len(self.tracks), size=talkers))
    return mix_at_snr(samples, babble, rng.uniform(*self.snr_db))


class Gain(object):
  """Scales by a gain drawn in `db` (dB), clipping at full scale."""

  salt = 4

  def __init__(self, prob, db):
    _check_prob(prob)
    _check_range("gain", *db)
    self.prob = prob
    self.db = db

  def __call__(self, samples, rng):
    return np.clip(samples * 10 ** (rng.uniform(*self.db) / 20.0), -1.0, 1.0)


class Telephone(object):
  """The telephone band (300-3400 Hz) with 8-bit mu-law quantization.

  Companding quantizes quiet samples finely and loud ones coarsely, as G.711
  does; the band-pass afterwards removes the quantization noise outside the
  band as the line's 8 kHz sampling would, so nothing is left above 4 kHz.
  """

  salt = 5

  def __init__(self, prob, sample_rate):
    _check_prob(prob)
    self.prob = prob
    self.sample_rate = sample_rate

  def _band(self, num_bins, size):
    freqs = np.arange(num_bins) * self.sample_rate / float(size)
    low, high = TELEPHONE_BAND
    rise = np.clip((freqs - (low - _TAPER_HZ)) / _TAPER_HZ, 0.0, 1.0)
    fall = np.clip((high - freqs) / _TAPER_HZ, 0.0, 1.0)
    return np.sin(0.5 * np.pi * rise * fall) ** 2

  def __call__(self, samples, rng):  # pylint: disable=unused-argument
    clipped = np.clip(samples, -1.0, 1.0)
    levels = np.round(np.sign(clipped) * np.log1p(_MU * np.abs(clipped)) /
                      np.log1p(_MU) * 127.0) / 127.0
    expanded = np.sign(levels) * np.expm1(np.abs(levels) * np.log1p(_MU)) / _MU
    size = fast_fft_size(len(samples))
    spectrum = np.fft.rfft(expanded, size)
    spectrum *= self._band(len(spectrum), size)
    return np.fft.irfft(spectrum, size)[:len(samples)]


class Codec(object):
  """Encodes and decodes with a codec drawn from `names` (`data/codecs.py`)."""

  salt = 6

  def __init__(self, prob, names, sample_rate):
    _check_prob(prob)
    self.prob = prob
    self.names = codecs.check_codecs(names, sample_rate)
    self.sample_rate = sample_rate

  def __call__(self, samples, rng):
    name = self.names[rng.integers(len(self.names))]
    return codecs.round_trip(samples, name, self.sample_rate, rng)


class WaveAugment(object):
  """Applies each step with its probability, seeded per utterance.

  Attributes:
    steps: the steps with a probability above 0, in the order given.
    seed: the run's seed.
  """

  def __init__(self, steps, seed):
    self.steps = [s for s in steps if s is not None and s.prob > 0]
    self.seed = seed or 0

  @property
  def enabled(self):
    return bool(self.steps)

  def __call__(self, samples, position):
    """Augments one utterance.

    Args:
      samples: float [n] in [-1, 1].
      position: the utterance's position in the cycle (seeds the draws).

    Returns:
      float64 [n].
    """
    samples = np.asarray(samples, np.float64)
    for step in self.steps:
      rng = np.random.default_rng([self.seed, step.salt, int(position)])
      if rng.uniform() < step.prob:
        samples = step(samples, rng)
    return samples


def _resample(samples, rate, sample_rate):
  """`samples` at `rate` Hz resampled to `sample_rate` Hz by sox (soxr).

  The samples go through sox's standard input, so no file name reaches it.
  """
  if rate == sample_rate:
    return samples
  return np.frombuffer(codecs.sox(
      codecs.raw_options(rate) + ["-"] + codecs.raw_options(sample_rate) +
      ["-"], samples.astype(np.float32).tobytes()), np.float32)


def _read_noise(path, sample_rate):
  """One noise file, mono at `sample_rate`, as float32 (or NoiseDirError)."""
  try:
    samples, rate = soundfile.read(safe_path.for_tools(path), dtype="float64",
                                   always_2d=True)
  except (RuntimeError, OSError, ValueError, soundfile.LibsndfileError) as e:
    raise NoiseDirError("noise file %s cannot be read: %s" % (path, e)) from None
  try:
    samples = _resample(samples.mean(axis=1), rate, sample_rate)
  except codecs.CodecError as e:
    raise NoiseDirError("noise file %s cannot be resampled: %s" % (
        path, e)) from None
  if not np.any(samples):
    raise NoiseDirError("noise file %s is silent" % path)
  return samples.astype(np.float32)


def load_noise_dir(directory, sample_rate):
  """Every noise recording under `directory`, mono at `sample_rate` Hz.

  Files are found by their endings (`NOISE_EXTENSIONS`), in subfolders too,
  in sorted order so a seed picks the same stretches on every machine.

  Returns:
    A list of float32 arrays [n].

  Raises:
    NoiseDirError: the folder is missing, holds no noise file, or one of
      them cannot be read or is silent (named).
  """
  if not os.path.isdir(directory):
    raise NoiseDirError("noise folder %s does not exist" % directory)
  paths = []
  for root, dirs, files in os.walk(directory):
    dirs.sort()
    paths.extend(os.path.join(root, name) for name in sorted(files)
                 if name.lower().endswith(NOISE_EXTENSIONS))
  if not paths:
    raise NoiseDirError("noise folder %s holds no audio file (%s)" % (
        directory, ", ".join(NOISE_EXTENSIONS)))
  return [_read_noise(path, sample_rate) for path in paths]


def babble_pool(paths, read, seed, size=BABBLE_POOL):
  """Up to `size` of `paths`, chosen by `seed`, read with `read(path)`."""
  rng = np.random.default_rng([seed or 0, 0xbab])
  chosen = rng.permutation(len(paths))[:size]
  return [np.asarray(read(paths[i]), np.float32) for i in sorted(chosen)]

"""Simulated room impulse responses for reverberation augmentation.

`simulate_rirs` draws random shoebox rooms (size, reverberation time, source
and microphone positions) and computes each room's impulse response with
pyroomacoustics' image source method, the wall absorption chosen by Sabine's
formula for the drawn reverberation time. Simulating one room costs far more
than convolving an utterance with its response (the more so the longer the
reverberation), so a run simulates a small bank once and its utterances draw
from it (`data/wave_augment.py`).
"""

import importlib

import numpy as np

# pyroomacoustics is an optional extra (requirements-extras.txt).
PIP_LINE = "pip install pyroomacoustics  (see requirements-extras.txt)"
# Room sizes drawn, in metres: (length, width, height) ranges.
ROOM_SIZE_RANGES = ((3.0, 10.0), (3.0, 8.0), (2.4, 4.0))
# Source and microphone keep this far from the walls, in metres.
WALL_MARGIN = 0.5
# And this far from each other: closer, the direct sound swamps the room.
MIN_DISTANCE = 0.7
# Samples kept before the direct sound's peak: pyroomacoustics spreads each
# arrival over a fractional-delay filter of 81 taps centred on it.
_PRE_PEAK = 40
# The response is cut where its remaining energy falls this far, in dB.
_TAIL_DB = 60.0


class MissingLibraryError(ImportError):
  """pyroomacoustics is not installed."""


def import_pyroomacoustics():
  """The pyroomacoustics module, or an error naming the pip line."""
  try:
    return importlib.import_module("pyroomacoustics")
  except ImportError as e:
    raise MissingLibraryError(
        "reverberation needs pyroomacoustics (%s): %s" % (PIP_LINE, e)) from None


def _positions(rng, size):
  """A source and a microphone position inside a room of `size` [3]."""
  low, high = np.full(3, WALL_MARGIN), np.asarray(size) - WALL_MARGIN
  # Heads and microphones sit between 1 and 2 m, below low ceilings.
  low[2], high[2] = 1.0, min(2.0, size[2] - WALL_MARGIN)
  while True:
    source, mic = rng.uniform(low, high), rng.uniform(low, high)
    if np.linalg.norm(source - mic) >= MIN_DISTANCE:
      return source, mic


def _trim(rir):
  """Starts the response just before its direct sound; cuts the silent tail.

  Without the delay of the direct path, reverberation does not shift the
  words against the utterance's frames. Returns float32 of unit energy, so a
  reverberant utterance keeps about the level of the dry one.
  """
  rir = np.asarray(rir, np.float64)
  rir = rir[max(int(np.argmax(np.abs(rir))) - _PRE_PEAK, 0):]
  remaining = np.cumsum((rir ** 2)[::-1])[::-1]
  keep = np.nonzero(remaining >= remaining[0] * 10 ** (-_TAIL_DB / 10))[0]
  rir = rir[:keep[-1] + 1]
  return (rir / np.sqrt(np.sum(rir ** 2))).astype(np.float32)


def simulate_room(pra, rng, rt60, sample_rate):
  """One random shoebox room's impulse response for reverberation `rt60` s.

  Rooms too large to reverberate that briefly (Sabine's formula would need
  walls absorbing more than everything) are drawn again.

  Returns:
    float32 [n], starting at the direct sound, of unit energy.
  """
  while True:
    size = [rng.uniform(low, high) for low, high in ROOM_SIZE_RANGES]
    try:
      absorption, max_order = pra.inverse_sabine(rt60, size)
    except ValueError:
      continue
    room = pra.ShoeBox(size, fs=sample_rate,
                       materials=pra.Material(absorption),
                       max_order=max_order)
    source, mic = _positions(rng, size)
    room.add_source(source)
    room.add_microphone(mic)
    room.compute_rir()
    return _trim(room.rir[0][0])


def simulate_rirs(count, rt60_range, sample_rate, seed):
  """A bank of `count` impulse responses of random rooms, reproducibly.

  Args:
    count: how many rooms.
    rt60_range: (shortest, longest) reverberation time drawn, in seconds.
    sample_rate: the audio's rate, in Hz.
    seed: the run's seed; the same seed gives the same bank.

  Returns:
    A list of float32 arrays [n] (`simulate_room`).

  Raises:
    MissingLibraryError: pyroomacoustics is not installed.
    ValueError: a count below 1 or a bad range.
  """
  low, high = rt60_range
  if count < 1 or not 0 < low <= high:
    raise ValueError("need at least one room and 0 < shortest <= longest "
                     "reverberation time, got %d rooms and %r-%r s" % (
                         count, low, high))
  pra = import_pyroomacoustics()
  rng = np.random.default_rng([seed or 0, 0x7007])
  return [simulate_room(pra, rng, rng.uniform(low, high), sample_rate)
          for _ in range(count)]


def decay_time(rir, sample_rate):
  """Reverberation time of an impulse response in seconds (T20, Schroeder).

  The backward-integrated energy's fall from -5 to -25 dB, extrapolated to
  60 dB: the way rooms are measured.
  """
  energy = np.cumsum((np.asarray(rir, np.float64) ** 2)[::-1])[::-1]
  db = 10 * np.log10(energy / energy[0] + 1e-300)
  start = np.argmax(db <= -5.0)
  end = np.argmax(db <= -25.0)
  return 3.0 * (end - start) / float(sample_rate)

"""Splits a long recording at its quietest moments into bounded chunks.

The model was trained on utterances of a few seconds to ~20 s, and its
bidirectional RNNs need a whole chunk before the first output, so a long
recording is cut into chunks of at most `max_chunk_sec`. Each cut goes where
the short-time energy, averaged over a window of `quiet_window_ms`, is lowest
in the second half of the chunk: inside the longest-enough pause there is,
and never inside a word when a pause of that length exists.

The splitter consumes the audio as a stream of blocks and holds at most one
chunk plus one block, so memory stays bounded whatever the file's length.
"""

import numpy as np


class Chunk(object):
  """A piece of a recording.

  Attributes:
    start: index of its first sample in the whole recording.
    samples: float32 [n], mono at the model's rate.
  """

  def __init__(self, start, samples):
    self.start = start
    self.samples = samples

  def __len__(self):
    return self.samples.shape[0]


def split(blocks, sample_rate, max_chunk_sec, quiet_window_ms=200.0,
          frame_ms=10.0):
  """Yields chunks of at most `max_chunk_sec` that together make the stream.

  Args:
    blocks: an iterable of float32 [n] arrays, the recording in order.
    sample_rate: samples per second (Hz).
    max_chunk_sec: the longest chunk, in seconds.
    quiet_window_ms: the span over which energy is averaged when looking for
      a pause; pauses shorter than this (between words) are less preferred.
    frame_ms: the energy frame, in ms.

  Yields:
    `Chunk`s in order, without gaps or overlaps.

  Raises:
    ValueError: a max_chunk_sec too short to hold two quiet windows.
  """
  max_len = int(round(max_chunk_sec * sample_rate))
  frame = max(1, int(sample_rate * frame_ms / 1000.0))
  window_frames = max(1, int(round(quiet_window_ms / frame_ms)))
  if max_len < 4 * window_frames * frame:
    raise ValueError("chunks of %g s are too short to cut at pauses of "
                     "%g ms" % (max_chunk_sec, quiet_window_ms))
  pending = []  # blocks not yet cut, concatenated only when a cut is due
  pending_len = 0
  offset = 0
  for block in blocks:
    pending.append(np.asarray(block, dtype=np.float32))
    pending_len += pending[-1].shape[0]
    if pending_len <= max_len:
      continue
    buffer = np.concatenate(pending)
    while buffer.shape[0] > max_len:
      cut = quietest_cut(buffer[:max_len], frame, window_frames)
      yield Chunk(offset, buffer[:cut])
      buffer = buffer[cut:]
      offset += cut
    pending, pending_len = [buffer], buffer.shape[0]
  if pending_len:
    yield Chunk(offset, np.concatenate(pending))


def quietest_cut(samples, frame, window_frames):
  """Sample index in the second half of `samples` to cut at.

  Args:
    samples: float32 [n], one chunk's worth of audio.
    frame: samples per energy frame.
    window_frames: frames in the averaging window.

  Returns:
    An index in [n / 2, n): the centre of the quietest window there.
  """
  num_frames = samples.shape[0] // frame
  energy = np.square(samples[:num_frames * frame].astype(np.float64)).reshape(
      num_frames, frame).mean(axis=1)
  # Mean energy of the window centred on each frame ("same" length).
  kernel = np.ones(window_frames) / window_frames
  smoothed = np.convolve(energy, kernel, mode="same")
  half = window_frames // 2
  first = max(num_frames // 2, half)
  last = max(first + 1, num_frames - half)
  best = first + int(np.argmin(smoothed[first:last]))
  return best * frame + frame // 2

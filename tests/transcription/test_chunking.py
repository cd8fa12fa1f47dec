"""The chunker cuts real concatenated speech-like audio inside its pauses."""

import tracemalloc

import numpy as np
import pytest
import soundfile

from tests import conftest
from transcription import audio
from transcription import chunking

RATE = 16000


def long_recording(path, seconds=180.0, seed=0):
  """Writes utterances separated by 0.4-1.5 s pauses; returns their spans.

  Returns:
    A list of (start, end) seconds of each utterance's voiced part.
  """
  rng = np.random.default_rng(seed)
  pieces, spans, t = [], [], 0.0
  while t < seconds:
    text = " ".join(rng.choice(conftest.WORDS, rng.integers(1, 4)))
    utterance = conftest.synthesize(text, rng)
    pause = 0.001 * rng.standard_normal(int(rng.uniform(0.4, 1.5) * RATE))
    # synthesize() pads 0.1 s of near-silence on either side.
    spans.append((t + 0.1, t + (len(utterance) / RATE) - 0.1))
    pieces += [utterance, pause]
    t += (len(utterance) + len(pause)) / RATE
  soundfile.write(path, np.concatenate(pieces), RATE, subtype="PCM_16")
  return spans


def _in_pause(seconds, spans):
  return not any(start <= seconds <= end for start, end in spans)


def test_a_three_minute_file_is_cut_only_in_pauses(tmp_path):
  path = str(tmp_path / "long.wav")
  spans = long_recording(path)
  info = audio.probe(path)
  chunks = list(chunking.split(audio.read_blocks(info, RATE, 16000), RATE,
                               max_chunk_sec=20))
  assert sum(len(c) for c in chunks) == info.frames
  assert [c.start for c in chunks] == list(
      np.cumsum([0] + [len(c) for c in chunks[:-1]]))
  assert len(chunks) >= 9
  for chunk in chunks[:-1]:
    assert 10 * RATE <= len(chunk) <= 20 * RATE
    assert _in_pause((chunk.start + len(chunk)) / RATE, spans)


def test_short_audio_is_one_chunk():
  block = np.ones(RATE * 3, np.float32)
  (chunk,) = chunking.split([block], RATE, max_chunk_sec=20)
  assert chunk.start == 0 and len(chunk) == 3 * RATE


def test_memory_stays_bounded_on_an_hour_of_audio():
  rng = np.random.default_rng(0)

  def blocks():  # an hour of noise, produced as it is consumed
    for _ in range(360):
      yield (0.01 * rng.standard_normal(10 * RATE)).astype(np.float32)

  tracemalloc.start()
  total = longest = 0
  for chunk in chunking.split(blocks(), RATE, max_chunk_sec=20):
    total += len(chunk)
    longest = max(longest, len(chunk))
  peak = tracemalloc.get_traced_memory()[1]
  tracemalloc.stop()
  assert total == 3600 * RATE
  assert longest <= 20 * RATE
  # The hour is 230 MB of float32; the chunker holds about two chunks.
  assert peak < 30e6


def test_too_short_a_chunk_limit_is_refused():
  with pytest.raises(ValueError, match="too short"):
    list(chunking.split([np.zeros(RATE, np.float32)], RATE, max_chunk_sec=0.5))

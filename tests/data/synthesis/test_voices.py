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

"""Speech-like audio and manifests, for benchmarks and tests without data.

The audio is speech-like rather than speech: each character of the transcript
becomes a 60-100 ms harmonic "syllable" whose pitch and formant-like spectral
peaks depend on the character, with onset/offset ramps, pauses at spaces and
a low noise floor. A small model can learn to map it back to characters.
"""

import os

import numpy as np
import soundfile

from data import manifest

SAMPLE_RATE = 16000
# The manifest's header line.
HEADER = "\t".join(manifest.HEADER) + "\n"


def synthesize(text, rng, sample_rate=SAMPLE_RATE):
  """Speech-like float waveform for `text` (a-z, apostrophe, space)."""
  pieces = [np.zeros(int(0.1 * sample_rate))]
  for char in text:
    dur = rng.uniform(0.06, 0.1)
    n = int(dur * sample_rate)
    t = np.arange(n) / sample_rate
    if char == " ":
      pieces.append(0.002 * rng.standard_normal(n))
      continue
    k = (ord(char) - ord("a")) % 26 if char != "'" else 26
    f0 = rng.uniform(110, 140)
    formants = (300 + 60 * k, 900 + 85 * ((k * 7) % 26), 2200 + 40 * k)
    wave = np.zeros(n)
    for h in range(1, 30):
      freq = h * f0
      if freq > sample_rate / 2 - 200:
        break
      gain = sum(np.exp(-((freq - f) / 120.0) ** 2) for f in formants)
      wave += gain * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)
    pieces.append(0.2 * wave / (np.abs(wave).max() + 1e-9) * ramp)
  pieces.append(np.zeros(int(0.1 * sample_rate)))
  audio = np.concatenate(pieces)
  return audio + 0.001 * rng.standard_normal(audio.shape[0])


def write_wav(path, audio, sample_rate=SAMPLE_RATE, subtype="PCM_16"):
  soundfile.write(path, audio, sample_rate, subtype=subtype)
  return os.path.getsize(path)


def write_manifest(path, rows):
  """rows: (wav_filename, wav_filesize, transcript) tuples."""
  with open(path, "w") as f:
    f.write(HEADER)
    for row in rows:
      f.write("%s\t%d\t%s\n" % tuple(row))
  return str(path)


# The words of make_corpus's transcripts.
WORDS = ("cat", "dog", "bird", "fish", "red", "blue", "sun", "tree")


def make_corpus(directory, num_utts=16, seed=0, max_words=2, name="train"):
  """Writes `num_utts` WAV files and a manifest; returns the manifest path."""
  rng = np.random.default_rng(seed)
  os.makedirs(directory, exist_ok=True)
  rows = []
  for i in range(num_utts):
    text = " ".join(rng.choice(WORDS, rng.integers(1, max_words + 1)))
    path = os.path.join(str(directory), "%s-%03d.wav" % (name, i))
    size = write_wav(path, synthesize(text, rng))
    rows.append((path, size, text))
  return write_manifest(os.path.join(str(directory), name + ".csv"), rows)

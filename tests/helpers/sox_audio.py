"""Real audio files made with sox (and speech with espeak-ng), for tests."""

import os

import subprocess

import numpy as np
import soundfile

from bench import speech_like


def synth(path, seconds, sample_rate, channels, *effect):
  """Writes `seconds` of sox's `synth` (e.g. "pinknoise") to `path`."""
  subprocess.run(["sox", "-n", "-r", str(sample_rate), "-c", str(channels),
                  str(path), "synth", str(seconds)] + list(effect),
                 check=True, capture_output=True)
  return path


def speech_file(path, text="the cat sat on a red mat", seed=0, level=0.3):
  """A 16 kHz speech-like WAV (via sox: normalized to `level` peak)."""
  raw = path.with_suffix(".raw.wav")
  speech_like.write_wav(str(raw), speech_like.synthesize(
      text, np.random.default_rng(seed)))
  subprocess.run(["sox", str(raw), str(path), "norm",
                  "%.2f" % (20 * np.log10(level))],
                 check=True, capture_output=True)
  raw.unlink()
  return path


def read(path):
  """A file's float64 samples [n] (mono) and rate."""
  samples, rate = soundfile.read(str(path), dtype="float64")
  return samples, rate


def noise_dir(directory, count=2):
  """A folder of 44.1 kHz stereo Ogg noise loops (pink and brown), like
  Debian's ufoai-sound ambience, one of them in a subfolder."""
  (directory / "sub").mkdir(parents=True)
  synth(directory / "pink.ogg", 2, 44100, 2, "pinknoise", "vol", "0.3")
  if count > 1:
    synth(directory / "sub" / "brown.ogg", 1.5, 44100, 2, "brownnoise",
          "vol", "0.3")
  return directory


def say(text, path, rate):
  """`text` spoken by espeak-ng, as a 16-bit mono WAV at `rate` Hz (sox)."""
  raw = str(path) + ".espeak.wav"
  subprocess.run(["espeak-ng", "-w", raw, text], check=True)
  subprocess.run(["sox", raw, "-D", "-r", str(rate), "-b", "16", str(path)],
                 check=True)
  os.remove(raw)
  return str(path)

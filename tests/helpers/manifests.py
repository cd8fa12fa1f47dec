"""Real WAV files of chosen lengths and the manifests that list them."""

import os
import subprocess

import numpy as np
import soundfile

from data import manifest


def tone_wav(path, seconds, sample_rate=16000):
  """Writes a 16-bit mono 440 Hz tone with soundfile; returns its size."""
  t = np.arange(int(round(seconds * sample_rate))) / float(sample_rate)
  soundfile.write(str(path), 0.3 * np.sin(2 * np.pi * 440 * t), sample_rate,
                  subtype="PCM_16")
  return os.path.getsize(str(path))


def sox_wav(path, seconds, sample_rate=16000):
  """Writes a 16-bit mono tone with the real sox; returns its size."""
  subprocess.run(["sox", "-n", "-r", str(sample_rate), "-b", "16", "-c", "1",
                  str(path), "synth", str(seconds), "sine", "440"],
                 check=True, timeout=60)
  return os.path.getsize(str(path))


def make_manifest(path, clips):
  """Writes a wav per clip and a manifest of them, in order.

  Args:
    path: the manifest; the wavs go beside it.
    clips: (wav name, seconds, transcript) tuples; a name may hold folders.

  Returns:
    The manifest's data lines, each 'wav path<TAB>size<TAB>transcript'.
  """
  directory = os.path.dirname(str(path))
  lines = []
  for name, seconds, transcript in clips:
    wav = os.path.join(directory, name)
    os.makedirs(os.path.dirname(wav), exist_ok=True)
    lines.append("%s\t%d\t%s" % (wav, tone_wav(wav, seconds), transcript))
  # Written by hand, not with data/manifest.py: its writer is under test.
  with open(str(path), "w", encoding="utf-8") as f:
    f.write("\t".join(manifest.HEADER) + "\n")
    f.writelines(line + "\n" for line in lines)
  return lines


def data_lines(path):
  """A manifest's lines after the header; asserts the header is the one."""
  with open(str(path), encoding="utf-8") as f:
    lines = f.read().split("\n")
  assert lines[0] == "\t".join(manifest.HEADER)
  assert lines[-1] == ""  # every line ends with a newline
  return lines[1:-1]

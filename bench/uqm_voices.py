r"""Measures how speech-like each voice of The Ur-Quan Masters voice pack is.

Some races' voices are effects-processed (pitch shifted, vocoded, ring
modulated). This prints, per race folder, measures on which processing
shows, so that `data/downloading/uqm.py`'s EXCLUDED_RACES is a decision by
measurement:

  * voiced: the fraction of active frames with a clear pitch (normalized
    autocorrelation peak above 0.5 at 60-400 Hz); human speech is mostly
    voiced, vocoded or noisy voices are not.
  * f0: the median pitch of the voiced frames (Hz); far-down shifting shows.
  * f0_spread: the interquartile range of log2 pitch (octaves); a robot's
    monotone is narrow.
  * flatness: median spectral flatness (geometric / arithmetic mean of the
    power spectrum, 100-5000 Hz) of active frames; buzz and noise are flat.
  * high: the fraction of the energy above 3 kHz.

  python bench/uqm_voices.py --tree=/tmp/uqm_data/uqm/tree --clips=25

The clips are decoded with sox at their own rate (11,025 Hz); --clips picks
that many per race, spread evenly over the folder's sorted file names. The
last line is the table as JSON: {"clips_per_race": n, "races": {race:
{measure: value}}}.
"""

import argparse
import glob
import json
import os
import subprocess
import sys

import numpy as np

RATE = 11025
FRAME = 512  # ~46 ms: two periods of a 60 Hz voice
HOP = 256


def decode(path):
  """Samples of a clip as float32 in [-1, 1] at RATE, mono."""
  raw = subprocess.run(
      ["sox", "-V1", os.path.abspath(path), "-t", "raw", "-e", "signed",
       "-b", "16", "-c", "1", "-r", str(RATE), "-"],
      stdout=subprocess.PIPE, check=True).stdout
  return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def frames(samples):
  count = 1 + (len(samples) - FRAME) // HOP
  if count < 1:
    return np.zeros((0, FRAME), np.float32)
  index = np.arange(FRAME)[None, :] + HOP * np.arange(count)[:, None]
  return samples[index] * np.hanning(FRAME).astype(np.float32)


def clip_measures(samples):
  """Per active frame: (voiced?, f0 Hz, flatness, high-band fraction)."""
  windowed = frames(samples)
  energy = (windowed ** 2).sum(axis=1)
  if not len(energy) or energy.max() <= 0:
    return np.zeros((0, 4))
  active = windowed[energy > energy.max() * 10 ** -3.5]  # within 35 dB
  power = np.abs(np.fft.rfft(active, n=2 * FRAME)) ** 2 + 1e-12
  freqs = np.fft.rfftfreq(2 * FRAME, 1.0 / RATE)
  band = (freqs >= 100) & (freqs <= 5000)
  flatness = (np.exp(np.log(power[:, band]).mean(axis=1)) /
              power[:, band].mean(axis=1))
  high = power[:, freqs > 3000].sum(axis=1) / power.sum(axis=1)
  autocorr = np.fft.irfft(power, axis=1)[:, :FRAME]
  autocorr /= autocorr[:, :1]
  lags = np.arange(int(RATE / 400), int(RATE / 60))
  best = lags[np.argmax(autocorr[:, lags], axis=1)]
  peak = autocorr[np.arange(len(active)), best]
  return np.stack([peak > 0.5, RATE / best, flatness, high], axis=1)


def race_measures(race_dir, clips):
  paths = sorted(glob.glob(os.path.join(race_dir, "*.ogg")))
  if not paths:
    return None
  picks = [paths[i] for i in np.linspace(0, len(paths) - 1, clips).astype(int)]
  rows = np.concatenate([clip_measures(decode(p)) for p in sorted(set(picks))])
  voiced = rows[rows[:, 0] > 0]
  octaves = np.log2(voiced[:, 1]) if len(voiced) else np.zeros(1)
  return {"voiced": rows[:, 0].mean(),
          "f0": float(np.median(voiced[:, 1])) if len(voiced) else 0.0,
          "f0_spread": float(np.subtract(*np.percentile(octaves, [75, 25]))),
          "flatness": float(np.median(rows[:, 2])),
          "high": float(np.median(rows[:, 3]))}


def main(argv):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--tree", required=True,
                      help="folder holding 3dovoice/<race>/*.ogg")
  parser.add_argument("--clips", type=int, default=25,
                      help="clips measured per race")
  args = parser.parse_args(argv)
  voice_dir = os.path.join(args.tree, "3dovoice")
  if not os.path.isdir(voice_dir):
    sys.exit("uqm_voices.py: error: %s is not a folder" % voice_dir)
  names = ("voiced", "f0", "f0_spread", "flatness", "high")
  print("%-12s " % "race" + " ".join("%9s" % n for n in names))
  results = {}
  for race in sorted(os.listdir(voice_dir)):
    measures = race_measures(os.path.join(voice_dir, race), args.clips)
    if measures:
      results[race] = {n: round(float(measures[n]), 4) for n in names}
      print("%-12s " % race + " ".join("%9.3f" % measures[n] for n in names))
  print(json.dumps({"clips_per_race": args.clips, "races": results}))


if __name__ == "__main__":
  main(sys.argv[1:])

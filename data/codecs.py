"""Lossy codec round trips through sox, for waveform augmentation.

`round_trip` encodes a waveform with MP3 (LAME, at a low bitrate) or GSM
06.10 (8 kHz, 13 kbit/s) and decodes it back, through sox's standard input
and output: sox is only ever given fixed arguments, never a file name, and
runs in its repeatable mode (its dither seeded alike every time). The
decoded audio is shifted back by the codec's delay (found by
cross-correlation) and cut or padded to the input's length, so the words stay
on their frames.
"""

import shutil
import subprocess

import numpy as np

# Codec -> (sox output options, bitrates drawn in kbit/s, or None).
CODECS = {"mp3": (["-t", "mp3"], (8, 16, 24)),
          "gsm": (["-t", "gsm", "-r", "8000"], None)}
# Longest codec delay searched, in samples (LAME's is about 1,105).
_MAX_DELAY = 4096
_TIMEOUT_SEC = 60


class CodecError(RuntimeError):
  """sox is missing, lacks a codec, or failed on an utterance."""


def raw_options(sample_rate):
  """sox options for headerless float32 mono at `sample_rate` Hz."""
  return ["-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1",
          "-r", str(int(sample_rate))]


def sox(args, data):
  """Runs sox with `args` on stdin `data`; its stdout bytes."""
  try:
    done = subprocess.run(["sox", "-V1", "-R"] + args, input=data,
                          capture_output=True, timeout=_TIMEOUT_SEC,
                          check=False)
  except (OSError, subprocess.TimeoutExpired) as e:
    raise CodecError("sox failed: %s" % e) from None
  if done.returncode != 0:
    raise CodecError("sox failed (exit %d): %s" % (
        done.returncode, done.stderr.decode("utf-8", "replace").strip()))
  return done.stdout


def _delay(decoded, samples):
  """The codec's delay in samples: the lag that best aligns the two."""
  span = min(len(samples), len(decoded), 4 * _MAX_DELAY)
  size = 1 << (2 * span).bit_length()
  correlation = np.fft.irfft(np.fft.rfft(decoded[:span + _MAX_DELAY], size) *
                             np.conj(np.fft.rfft(samples[:span], size)), size)
  return int(np.argmax(correlation[:_MAX_DELAY]))


def round_trip(samples, name, sample_rate, rng):
  """`samples` [n] through codec `name` and back, same length and rate.

  Args:
    samples: float [n] in [-1, 1].
    name: a key of `CODECS`.
    sample_rate: the samples' rate, in Hz.
    rng: a numpy Generator; draws the bitrate.

  Returns:
    float64 [n].

  Raises:
    CodecError: sox failed.
  """
  options, bitrates = CODECS[name]
  if bitrates:
    options = options + ["-C", str(bitrates[rng.integers(len(bitrates))])]
  raw = raw_options(sample_rate)
  encoded = sox(raw + ["-"] + options + ["-"],
                 np.clip(samples, -1, 1).astype(np.float32).tobytes())
  decoded = np.frombuffer(
      sox(["-t", options[1], "-"] + raw + ["-"], encoded),
      np.float32).astype(np.float64)
  decoded = decoded[_delay(decoded, samples):][:len(samples)]
  return np.pad(decoded, (0, len(samples) - len(decoded)))


def check_codecs(names, sample_rate):
  """Checks that sox can round-trip each codec; returns the names as a list.

  Raises:
    ValueError: an unknown codec name or none.
    CodecError: sox is missing or cannot write one of them (named).
  """
  names = list(names)
  unknown = [n for n in names if n not in CODECS]
  if unknown or not names:
    raise ValueError("unknown codec(s) %s; choose from %s" % (
        ", ".join(unknown) or "(none given)", ", ".join(sorted(CODECS))))
  if shutil.which("sox") is None:
    raise CodecError("codec augmentation needs sox on the PATH "
                     "(apt-get install sox libsox-fmt-all)")
  probe = np.zeros(sample_rate // 10)
  for name in names:
    try:
      round_trip(probe, name, sample_rate, np.random.default_rng(0))
    except CodecError as e:
      raise CodecError("sox cannot round-trip %s (apt-get install "
                       "libsox-fmt-all): %s" % (name, e)) from None
  return names

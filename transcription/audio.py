"""Reads any audio file as mono blocks at the model's sample rate.

Whatever soundfile reads (WAV, FLAC, OGG/Vorbis, MP3 with libsndfile >= 1.1,
AIFF, ...) is read block by block; anything else goes through the `sox`
program (when installed, with libsox-fmt-all: M4A, AMR, ...). Channels are
averaged into one, and a rate other than the model's is converted with soxr
(the SoX resampler, the same engine sox itself uses), streaming, so a long
recording never sits in memory whole.

The library raises `AudioError` naming the file and the reason; the CLI words
it for the user. Names reach sox and libsndfile only through
`safe_path.for_tools`, so `|cmd`, `-` or `-x.wav` is read as a file.
"""

import os
import shutil
import subprocess

import numpy as np
import soundfile

from common import safe_path
from data import featurizer
from data import manifest

# Samples read per block (before resampling): 10 s at 48 kHz. Memory per
# file stays a few blocks whatever its length.
BLOCK_FRAMES = 480000

SOXR_PIP = "pip install soxr  (see requirements-extras.txt)"


class AudioError(ValueError):
  """A file that cannot be read as audio: names the path and the reason."""

  def __init__(self, path, reason):
    super().__init__("%s: %s" % (path, reason))
    self.path = path
    self.reason = reason


class AudioInfo(object):
  """What a file holds before conversion.

  Attributes:
    path: the file.
    sample_rate: its rate, in Hz.
    channels: its number of channels.
    frames: samples per channel (None when the format cannot tell).
    reader: "soundfile" or "sox".
  """

  def __init__(self, path, sample_rate, channels, frames, reader):
    self.path = path
    self.sample_rate = sample_rate
    self.channels = channels
    self.frames = frames
    self.reader = reader

  @property
  def duration(self):
    """Seconds of audio, or None when unknown."""
    if self.frames is None:
      return None
    return self.frames / float(self.sample_rate)

  def conversion_note(self, sample_rate):
    """One line saying what conversion the file needs, or None."""
    changes = []
    if self.sample_rate != sample_rate:
      changes.append("%d Hz -> %d Hz" % (self.sample_rate, sample_rate))
    if self.channels != 1:
      changes.append("%d channels -> mono" % self.channels)
    if not changes:
      return None
    return "%s: converted %s" % (self.path, ", ".join(changes))


def probe(path):
  """Reads the header of `path`.

  Raises:
    AudioError: a missing, empty or unreadable file, or one without audio.
  """
  if not os.path.isfile(path):
    raise AudioError(path, "no such file")
  if os.path.getsize(path) == 0:
    raise AudioError(path, "empty file")
  try:
    info = soundfile.info(safe_path.for_tools(path))
    info = AudioInfo(path, info.samplerate, info.channels, info.frames,
                     "soundfile")
  except (soundfile.LibsndfileError, RuntimeError) as e:
    info = _probe_with_sox(path, e)
  if info.channels < 1 or info.sample_rate < 1:
    raise AudioError(path, "no audio channel")
  if info.frames == 0:
    raise AudioError(path, "no audio samples")
  # libsndfile silently shortens a truncated WAV to what the file holds.
  shortfall = manifest.wav_data_shortfall(path, os.path.getsize(path))
  if shortfall:
    raise AudioError(path, "truncated: the WAV header announces %d more "
                     "bytes of audio than the file holds" % shortfall)
  return info


def _probe_with_sox(path, soundfile_error):
  """Header through `soxi` for formats libsndfile does not read."""
  if shutil.which("soxi") is None:
    raise AudioError(path, "not a readable audio file (%s)"
                     % _reason(soundfile_error))
  fields = []
  for option in ("-r", "-c", "-s"):
    result = subprocess.run(["soxi", option, safe_path.for_tools(path)],
                            capture_output=True, text=True)
    if result.returncode != 0:
      raise AudioError(path, "not a readable audio file (%s)"
                       % _reason(soundfile_error))
    fields.append(result.stdout.strip())
  try:
    rate, channels, frames = (int(float(v)) for v in fields)
  except ValueError:
    raise AudioError(path, "not a readable audio file") from None
  return AudioInfo(path, rate, channels, frames or None, "sox")


def _reason(error):
  """libsndfile's message without soundfile's 'Error opening ...' prefix."""
  text = str(error)
  marker = ": "
  return text.rsplit(marker, 1)[-1] if marker in text else text


def read_blocks(info, sample_rate, block_frames=BLOCK_FRAMES):
  """Yields the file's audio as mono float32 blocks at `sample_rate`.

  Every block is checked for NaN and infinite samples, which would otherwise
  featurize (and decode) into empty text without a word of warning.

  Args:
    info: an `AudioInfo` from `probe`.
    sample_rate: the rate the model needs, in Hz.
    block_frames: samples per channel read at a time.

  Yields:
    float32 arrays [samples], in order; together the whole file.

  Raises:
    AudioError: the file ends early, its data cannot be decoded, or it holds
      NaN or infinite samples (the message gives the time of the first).
  """
  start = 0
  for block in _decoded_blocks(info, sample_rate, block_frames):
    problem = featurizer.non_finite_problem(block, sample_rate, start)
    if problem:
      raise AudioError(info.path, problem)
    start += len(block)
    yield block


def _decoded_blocks(info, sample_rate, block_frames):
  """`read_blocks` without the finiteness check."""
  if info.reader == "sox":
    yield from _sox_blocks(info, sample_rate, block_frames)
    return
  resampler = None
  if info.sample_rate != sample_rate:
    resampler = stream_resampler(info.sample_rate, sample_rate)
  frames_read = 0
  try:
    for block in soundfile.blocks(safe_path.for_tools(info.path),
                                  blocksize=block_frames, dtype="float32",
                                  always_2d=True):
      frames_read += block.shape[0]
      mono = _down_mix(block)
      if resampler is not None:
        mono = resampler.resample_chunk(mono, last=False)
      if mono.size:
        yield mono
  except (soundfile.LibsndfileError, RuntimeError) as e:
    raise AudioError(info.path, "cannot decode the audio data (%s)"
                     % _reason(e)) from None
  # Compressed formats may announce an estimated length: a small shortfall
  # is no truncation.
  if info.frames is not None and frames_read < info.frames - max(
      4096, info.frames // 200):
    raise AudioError(info.path, "truncated: the header announces %d samples, "
                     "the file holds %d" % (info.frames, frames_read))
  if resampler is not None:
    tail = resampler.resample_chunk(np.zeros(0, np.float32), last=True)
    if tail.size:
      yield tail


def _down_mix(block):
  """[frames, channels] -> [frames]: the mean of the channels."""
  if block.shape[1] == 1:
    return np.ascontiguousarray(block[:, 0])
  return block.mean(axis=1, dtype=np.float32)


def stream_resampler(in_rate, out_rate):
  """A streaming soxr resampler; ImportError naming the pip line if absent."""
  try:
    import soxr  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise ImportError("converting the sample rate needs the soxr package: "
                      + SOXR_PIP) from None
  return soxr.ResampleStream(in_rate, out_rate, 1, dtype="float32",
                             quality="HQ")


def _sox_blocks(info, sample_rate, block_frames):
  """Decodes through `sox` (which also down-mixes and resamples)."""
  command = ["sox", "-V1", safe_path.for_tools(info.path), "-t", "raw",
             "-e", "floating-point", "-b", "32", "-c", "1", "-r",
             str(sample_rate), "-"]
  process = subprocess.Popen(command, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
  try:
    while True:
      data = process.stdout.read(4 * block_frames)
      if not data:
        break
      data = data[:len(data) // 4 * 4]
      yield np.frombuffer(data, dtype=np.float32).copy()
    error = process.stderr.read().decode("utf-8", "replace").strip()
    if process.wait() != 0:
      raise AudioError(info.path, "sox cannot decode it (%s)"
                       % (error.splitlines()[-1] if error else "no reason"))
  finally:
    if process.poll() is None:
      process.kill()
      process.wait()
    process.stdout.close()
    process.stderr.close()


def read_all(path, sample_rate):
  """The whole file as mono float32 at `sample_rate` (for short files).

  Returns:
    (samples float32 [n], AudioInfo).
  """
  info = probe(path)
  blocks = list(read_blocks(info, sample_rate))
  samples = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
  return samples, info

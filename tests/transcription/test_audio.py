"""Reading real audio files of any rate, channel count and format."""

import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from tests import conftest
from tests.helpers import hostile
from transcription import audio

RATE = 16000


@pytest.fixture
def twin(tmp_path):
  """A 16 kHz mono utterance and its 44.1 kHz stereo copy as FLAC and MP3."""
  import soxr  # pylint: disable=g-import-not-at-top
  samples = conftest.synthesize("cat dog", np.random.default_rng(0))
  mono = str(tmp_path / "mono.wav")
  soundfile.write(mono, samples, RATE, subtype="PCM_16")
  stereo = soxr.resample(samples, RATE, 44100)
  stereo = np.stack([stereo, stereo], axis=1)
  files = {"wav": mono}
  for ext, subtype in (("flac", "PCM_24"), ("mp3", None)):
    files[ext] = str(tmp_path / ("stereo." + ext))
    soundfile.write(files[ext], stereo, 44100, subtype=subtype)
  return samples.astype(np.float32), files


def _snr_db(reference, other):
  n = min(len(reference), len(other))
  noise = reference[:n] - other[:n]
  return 10 * np.log10(np.sum(reference[:n] ** 2) / np.sum(noise ** 2))


def test_a_mono_file_at_the_model_rate_is_read_unchanged(twin):
  samples, files = twin
  read, info = audio.read_all(files["wav"], RATE)
  assert info.conversion_note(RATE) is None
  np.testing.assert_allclose(read, samples, atol=1 / 32768.0)


def test_44k_stereo_flac_is_resampled_and_down_mixed_to_its_twin(twin):
  samples, files = twin
  read, info = audio.read_all(files["flac"], RATE)
  assert (info.sample_rate, info.channels) == (44100, 2)
  assert "44100 Hz -> 16000 Hz, 2 channels -> mono" in info.conversion_note(
      RATE)
  assert abs(len(read) - len(samples)) <= 1
  assert _snr_db(samples, read) > 30


def test_mp3_is_read_through_libsndfile(twin):
  samples, files = twin
  read, info = audio.read_all(files["mp3"], RATE)
  assert info.reader == "soundfile"
  assert abs(len(read) - len(samples)) <= 0.01 * RATE
  assert np.corrcoef(samples[:len(read)], read[:len(samples)])[0, 1] > 0.9


def test_streaming_in_small_blocks_equals_reading_at_once(twin):
  _, files = twin
  whole, info = audio.read_all(files["flac"], RATE)
  pieces = list(audio.read_blocks(info, RATE, block_frames=1000))
  assert len(pieces) > 10
  np.testing.assert_allclose(np.concatenate(pieces), whole, atol=1e-6)


@pytest.mark.skipif(shutil.which("sox") is None, reason="needs sox")
def test_formats_libsndfile_cannot_read_go_through_sox(tmp_path, twin):
  samples, files = twin
  path = str(tmp_path / "native.sox")  # SoX's own format
  subprocess.run(["sox", files["wav"], "-r", "22050", "-c", "2", path],
                 check=True)
  read, info = audio.read_all(path, RATE)
  assert (info.reader, info.sample_rate, info.channels) == ("sox", 22050, 2)
  assert _snr_db(samples, read) > 20


@pytest.mark.parametrize("name,content,reason", [
    ("empty.wav", b"", "empty file"),
    ("text.wav", b"this is not audio\n" * 50, "not a readable audio file"),
    ("missing.wav", None, "no such file"),
])
def test_bad_files_raise_audio_error_naming_path_and_reason(
    tmp_path, name, content, reason):
  path = str(tmp_path / name)
  if content is not None:
    with open(path, "wb") as f:
      f.write(content)
  with pytest.raises(audio.AudioError) as e:
    audio.read_all(path, RATE)
  assert str(e.value).startswith(path + ": ")
  assert reason in e.value.reason


@pytest.mark.parametrize("ext", ["wav", "flac"])
def test_a_truncated_file_is_an_error(twin, tmp_path, ext):
  _, files = twin
  source = files[ext] if ext == "wav" else files["flac"]
  data = open(source, "rb").read()
  path = str(tmp_path / ("cut." + ext))
  with open(path, "wb") as f:
    f.write(data[:len(data) // 2])
  with pytest.raises(audio.AudioError, match="truncated|decode"):
    audio.read_all(path, RATE)


def test_missing_soxr_names_the_pip_line(twin, monkeypatch):
  _, files = twin
  monkeypatch.setitem(sys.modules, "soxr", None)
  with pytest.raises(ImportError, match="pip install soxr"):
    audio.read_all(files["flac"], RATE)


@pytest.mark.skipif(shutil.which("sox") is None, reason="needs sox")
@pytest.mark.parametrize("name", [hostile.command_name("", "sox")] +
                         hostile.option_names("sox"))
def test_names_sox_would_run_or_parse_are_read_as_files(
    tmp_path, twin, monkeypatch, name):
  samples, files = twin
  # SoX's own format, which libsndfile cannot read: soxi and sox get the name.
  subprocess.run(["sox", files["wav"], "-t", "sox", str(tmp_path / name)],
                 check=True)
  monkeypatch.chdir(tmp_path)
  read, info = audio.read_all(name, RATE)
  assert (info.path, info.reader, info.sample_rate) == (name, "sox", RATE)
  assert _snr_db(samples, read) > 40
  assert hostile.planted(tmp_path) == []


@pytest.mark.parametrize("name", [hostile.command_name("", "m4a")] +
                         hostile.option_names("m4a"))
def test_unreadable_files_under_such_names_are_an_error_not_a_command(
    tmp_path, monkeypatch, name):
  (tmp_path / name).write_bytes(b"this is not audio\n" * 50)
  monkeypatch.chdir(tmp_path)
  with pytest.raises(audio.AudioError) as e:
    audio.read_all(name, RATE)
  assert str(e.value).startswith(name + ": not a readable audio file")
  assert hostile.planted(tmp_path) == []


def test_a_wav_with_the_streaming_placeholder_size_is_read_whole(tmp_path):
  samples = conftest.synthesize("cat dog", np.random.default_rng(0))
  plain = str(tmp_path / "plain.wav")
  conftest.write_wav(plain, samples)
  piped = str(tmp_path / "piped.wav")
  conftest.write_streaming_wav(piped, samples)
  read, info = audio.read_all(piped, RATE)
  expected, _ = audio.read_all(plain, RATE)
  assert info.frames == len(samples)
  np.testing.assert_array_equal(read, expected)

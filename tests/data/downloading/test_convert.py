"""Tests for data/downloading/convert.py: sox conversion and manifests."""

import os

import pytest
import soundfile

from data.downloading import convert
from tests.data.downloading import fakes
from tests.helpers import durability
from tests.helpers import hostile



def test_conversion_skips_finished_wavs_and_never_leaves_a_broken_one(
    tmp_path):
  good = str(tmp_path / "good.flac")
  soundfile.write(good, fakes.tone(0.2, 16000), 16000, format="FLAC")
  bad = tmp_path / "bad.flac"
  bad.write_bytes(b"fLaC not really")
  out = tmp_path / "wav"
  jobs = [(good, str(out / "good.wav"))]
  assert convert.convert_audio(jobs, 16000, 2, "t", False) == 1
  assert convert.convert_audio(jobs, 16000, 2, "t", False) == 0
  with pytest.raises(convert.ConversionError, match="bad.flac"):
    convert.convert_audio([(str(bad), str(out / "bad.wav"))],
                          16000, 1, "t", False)
  assert sorted(os.listdir(out)) == ["good.wav"]


def test_manifest_is_written_only_with_the_expected_row_count(tmp_path):
  wav = tmp_path / "a.wav"
  soundfile.write(str(wav), fakes.tone(0.1, 16000), 16000)
  manifest = str(tmp_path / "m.csv")
  with pytest.raises(convert.ConversionError, match="2 utterances"):
    convert.write_manifest(manifest, [(str(wav), "a")], 2)
  assert not os.path.exists(manifest)
  convert.write_manifest(manifest, [(str(wav), "a")], 1)
  assert convert.manifest_is_complete(manifest)
  wav.unlink()
  assert not convert.manifest_is_complete(manifest)


# ---------------------------------------------------------------------------
# The command line, end to end.
# ---------------------------------------------------------------------------


def test_sox_output_is_fsynced_then_renamed(tmp_path, monkeypatch):
  source = str(tmp_path / "a.flac")
  soundfile.write(source, fakes.tone(0.2, 16000), 16000, format="FLAC")
  dest = str(tmp_path / "wav" / "a.wav")
  synced = durability.record_fsyncs(monkeypatch)
  assert convert.convert_audio([(source, dest)], 16000, 1, "t", False) == 1
  assert durability.durably_renamed(synced, dest)
  assert soundfile.info(dest).samplerate == 16000
  assert os.listdir(str(tmp_path / "wav")) == ["a.wav"]


@pytest.mark.parametrize("name", [hostile.command_name("", "flac")] +
                         hostile.option_names("flac"))
def test_conversion_reads_and_writes_names_sox_would_run_or_parse(
    tmp_path, monkeypatch, name):
  soundfile.write(str(tmp_path / name), fakes.tone(0.2, 44100), 44100,
                  format="FLAC")
  monkeypatch.chdir(tmp_path)
  out = "|touch %s_out;x.wav" % hostile.MARKER
  assert convert.convert_audio([(name, out)], 16000, 1, "t", False) == 1
  audio, rate = soundfile.read(str(tmp_path / out))
  assert (rate, len(audio)) == (16000, 3200)
  assert hostile.planted(tmp_path) == []


def test_an_unreadable_file_named_like_a_command_is_a_clear_error(
    tmp_path, monkeypatch):
  name = hostile.command_name("", "flac")
  (tmp_path / name).write_bytes(b"fLaC not really")
  monkeypatch.chdir(tmp_path)
  with pytest.raises(convert.ConversionError,
                     match=r"^sox could not convert \|touch PWNED\.flac: "):
    convert.convert_audio([(name, "out.wav")], 16000, 1, "t", False)
  assert hostile.planted(tmp_path) == []
  assert sorted(os.listdir(tmp_path)) == [name]

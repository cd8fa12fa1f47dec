"""Tests for training/wave_settings.py: the waveform augmentation flags."""

import os
import subprocess
import sys

import numpy as np
import pytest

from tests import conftest
from tests.helpers import sox_audio
from tests.helpers.train import parse, run_in_process, TINY
from training import wave_settings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


@pytest.fixture
def train_set(tmp_path):
  return conftest.speech_dataset(conftest.make_corpus(tmp_path / "c",
                                                      num_utts=4))


def _augment(train_set, *argv):
  return wave_settings.wave_augmentation(parse(TINY + list(argv)), train_set)


def test_every_waveform_augmentation_is_off_by_default(train_set):
  assert not _augment(train_set).enabled


def test_flags_build_each_asked_step_in_the_sounds_order(tmp_path, train_set):
  noise = sox_audio.noise_dir(tmp_path / "noise")
  augment = _augment(train_set, "--babble_prob=0.5", "--gain_prob=0.1",
                     "--noise_prob=0.2", "--noise_dir=%s" % noise,
                     "--codec_prob=0.3", "--codecs=gsm",
                     "--telephone_prob=0.4", "--noise_snr_min=0",
                     "--noise_snr_max=9")
  assert [(type(s).__name__, s.prob) for s in augment.steps] == [
      ("Babble", 0.5), ("Noise", 0.2), ("Gain", 0.1), ("Telephone", 0.4),
      ("Codec", 0.3)]
  assert augment.steps[0].snr_db == augment.steps[1].snr_db == (0.0, 9.0)
  assert len(augment.steps[0].tracks) == 4  # the whole small corpus
  assert augment.steps[4].names == ["gsm"]


@pytest.mark.parametrize("argv,message", [
    (["--noise_prob=0.5", "--noise_dir={missing}"],
     "--noise_dir: noise folder {missing} does not exist"),
    (["--noise_prob=0.5"], "--noise_prob and --noise_dir go together (got "
                           "0.5 and None)"),
    (["--noise_dir={missing}"], "--noise_prob and --noise_dir go together "
                                "(got 0.0 and '{missing}')"),
    (["--gain_prob=1", "--gain_db_min=3", "--gain_db_max=-3"],
     "--gain_db_min=3.0 is above --gain_db_max=-3.0"),
    (["--codec_prob=1", "--codecs=mp3,ogg"],
     "--codecs=mp3,ogg: unknown codec(s) ogg; choose from gsm, mp3"),
])
def test_bad_flags_are_one_clear_error(tmp_path, train_set, argv, message):
  missing = str(tmp_path / "no such noise")
  with pytest.raises(ValueError) as raised:
    _augment(train_set, *[a.format(missing=missing) for a in argv])
  assert str(raised.value) == message.format(missing=missing)


def test_missing_pyroomacoustics_is_named_by_the_reverb_flag(
    monkeypatch, train_set):
  monkeypatch.setitem(sys.modules, "pyroomacoustics", None)
  with pytest.raises(ValueError) as raised:
    _augment(train_set, "--reverb_prob=0.5")
  assert str(raised.value).startswith(
      "--reverb_prob: reverberation needs pyroomacoustics (pip install "
      "pyroomacoustics  (see requirements-extras.txt)): ")


@pytest.mark.slow
def test_cli_with_a_bad_noise_dir_exits_1_with_one_line(tmp_path):
  manifest = conftest.make_corpus(tmp_path / "data", num_utts=4)
  empty = tmp_path / "noise"
  empty.mkdir()
  proc = subprocess.run(
      [sys.executable, "deep_speech.py", "--train_data_dir=" + manifest,
       "--eval_data_dir=" + manifest, "--model_dir=" + str(tmp_path / "m"),
       "--noise_prob=0.5", "--noise_dir=" + str(empty)] + TINY,
      cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 1, proc.stderr[-3000:]
  errors = [l for l in proc.stderr.splitlines() if l.startswith("E")]
  assert len(errors) == 1 and errors[0].endswith(
      "] --noise_dir: noise folder %s holds no audio file (.wav, .flac, "
      ".ogg, .oga)" % empty), proc.stderr[-3000:]
  assert "Traceback" not in proc.stderr
  assert not os.path.exists(str(tmp_path / "m" / "checkpoint"))


@pytest.mark.slow
def test_training_with_every_augmentation_lowers_a_finite_loss(tmp_path):
  pytest.importorskip("pyroomacoustics")
  corpus = conftest.make_corpus(tmp_path / "c")
  noise = sox_audio.noise_dir(tmp_path / "noise")
  cycles = run_in_process(TINY + [
      "--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
      "--model_dir=" + str(tmp_path / "m"), "--train_epochs=3",
      "--epochs_between_evals=1", "--seed=4",
      "--reverb_prob=0.5", "--reverb_rooms=3", "--babble_prob=0.3",
      "--noise_prob=0.5", "--noise_dir=" + str(noise), "--gain_prob=0.5",
      "--telephone_prob=0.3", "--codec_prob=0.3"])
  losses = [c["train_loss"] for c in cycles]
  assert len(losses) == 3 and np.all(np.isfinite(losses))
  assert losses[-1] < losses[0]

"""Tests for plot.py: the training and audio figures as decoded PNG images."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import plot
from tests import conftest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
image = pytest.importorskip("matplotlib.image")


def write_state(model_dir, cycles):
  """A train_state.json as the training cycles write it."""
  os.makedirs(model_dir, exist_ok=True)
  records = [dict(cycle=i + 1, global_step=4 * (i + 1), train_loss=loss,
                  WER=wer, CER=wer / 2, corpus_WER=wer + 0.02,
                  corpus_CER=wer / 2 + 0.01, train_seconds=3.5,
                  eval_seconds=1.0)
             for i, (loss, wer) in enumerate(cycles)]
  with open(os.path.join(model_dir, "train_state.json"), "w") as f:
    json.dump({"fingerprint": "{}", "base_step": 0, "cycles": records}, f)
  return str(model_dir)


def read_png(path):
  pixels = image.imread(str(path))
  assert pixels.dtype == np.float32 and pixels.ndim == 3
  return pixels


def test_training_plot_overlays_finished_and_running_directories(tmp_path):
  done = write_state(tmp_path / "a" / "model",
                     [(120.0, 0.98), (60.0, 0.7), (30.0, 0.45)])
  running = write_state(tmp_path / "b", [(110.0, 0.95)])
  starting = str(tmp_path / "c")  # Training, no cycle finished yet.
  os.makedirs(starting)
  output = tmp_path / "out" / "run.png"
  counts = plot.plot_training([done, running, starting], str(output))
  assert counts == {done: 3, running: 1, starting: 0}
  pixels = read_png(output)
  assert pixels.shape[:2] == (360, 1200)
  # Not a blank canvas: lines in several colours.
  assert pixels[..., :3].std() > 0.05
  assert len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0)) > 50
  assert plot.run_label(done) == os.path.join("a", "model")


def test_training_plot_errors_name_the_file(tmp_path):
  empty = str(tmp_path / "empty")
  os.makedirs(empty)
  with pytest.raises(plot.PlotError, match="no finished cycle yet"):
    plot.plot_training([empty], str(tmp_path / "x.png"))
  (tmp_path / "empty" / "train_state.json").write_text("{not json")
  with pytest.raises(plot.PlotError, match="empty/train_state.json"):
    plot.plot_training([empty], str(tmp_path / "x.png"))
  with pytest.raises(plot.PlotError, match="is not a directory"):
    plot.plot_training([str(tmp_path / "missing")], str(tmp_path / "x.png"))
  assert not (tmp_path / "x.png").exists()


def test_audio_plot_shows_waveform_and_spectrogram(tmp_path):
  wav = tmp_path / "clip.wav"
  conftest.write_wav(str(wav), conftest.synthesize(
      "red fish", np.random.default_rng(0)))
  plot.plot_audio(str(wav), str(tmp_path / "clip.png"),
                  transcript="red fish")
  pixels = read_png(tmp_path / "clip.png")
  assert pixels.shape[:2] == (500, 800)
  assert pixels[..., :3].std() > 0.1
  # The spectrogram (top half) is colourful, not a flat fill.
  assert pixels[40:220, 100:700, :3].std() > 0.1


def test_audio_plot_rejects_a_file_that_is_not_audio(tmp_path):
  bad = tmp_path / "notes.wav"
  bad.write_text("hello")
  with pytest.raises(plot.PlotError, match="notes.wav: cannot read audio"):
    plot.plot_audio(str(bad), str(tmp_path / "x.png"))


def test_cli_writes_the_png_and_reports_errors_without_traceback(tmp_path):
  model_dir = write_state(tmp_path / "m", [(50.0, 0.8), (20.0, 0.5)])
  output = tmp_path / "m.png"
  ok = subprocess.run(
      [sys.executable, "plot.py", "--model_dir=" + model_dir,
       "--output=" + str(output)], cwd=ROOT, capture_output=True, text=True,
      timeout=120)
  assert ok.returncode == 0, ok.stderr[-2000:]
  assert "2 cycle(s)" in ok.stdout and read_png(output).shape[:2] == (360,
                                                                       1200)
  bad = subprocess.run(
      [sys.executable, "plot.py", "--audio=" + str(tmp_path / "none.wav"),
       "--output=" + str(tmp_path / "a.png")], cwd=ROOT, capture_output=True,
      text=True, timeout=120)
  assert bad.returncode != 0 and "Traceback" not in bad.stderr
  assert "none.wav: cannot read audio" in bad.stderr


def test_cli_without_output_writes_into_the_run_directory(tmp_path):
  model_dir = write_state(tmp_path / "m", [(50.0, 0.8), (20.0, 0.5)])
  default = os.path.join(model_dir, plot.DEFAULT_TRAINING_PNG)
  ok = subprocess.run(
      [sys.executable, "plot.py", "--model_dir=" + model_dir], cwd=ROOT,
      capture_output=True, text=True, timeout=120)
  assert ok.returncode == 0, ok.stderr[-2000:]
  assert "wrote %s" % default in ok.stdout
  assert read_png(default).shape[:2] == (360, 1200)
  audio = subprocess.run(
      [sys.executable, "plot.py", "--audio=" + str(tmp_path / "x.wav")],
      cwd=ROOT, capture_output=True, text=True, timeout=120)
  assert audio.returncode != 0 and "Traceback" not in audio.stderr
  assert "--output is required with --audio" in audio.stderr


def test_cli_refuses_to_write_over_its_input(tmp_path):
  model_dir = tmp_path / "model"
  model_dir.mkdir()
  state = model_dir / "train_state.json"
  state.write_text(json.dumps({"cycles": [{"cycle": 1, "WER": 0.5}]}))
  before = state.read_bytes()
  link = tmp_path / "plot.png"
  os.symlink(str(state), str(link))
  for output in (str(state), str(link)):
    result = subprocess.run(
        [sys.executable, "plot.py", "--model_dir=" + str(model_dir),
         "--output=" + output], cwd=ROOT, capture_output=True, text=True,
        timeout=120)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "plot.py: error: --output %s is the same file as --model_dir's %s; "
        "writing it would destroy that input. Choose another --output."
        % (output, state))
    assert state.read_bytes() == before


def test_training_plot_draws_a_dotted_line_per_extra_set(tmp_path):
  model_dir = write_state(tmp_path / "m", [(120.0, 0.98), (60.0, 0.7)])
  path = os.path.join(model_dir, "train_state.json")
  with open(path) as f:
    state = json.load(f)
  for record, wer in zip(state["cycles"], (0.99, 0.9)):
    record["extra_eval"] = {
        "uqm-dev": {"WER": wer, "CER": wer / 2, "corpus_WER": wer,
                    "corpus_CER": wer / 2}}
  state["cycles"][1]["extra_eval"]["late"] = {"WER": 0.5, "CER": 0.2}
  with open(path, "w") as f:
    json.dump(state, f)
  assert plot.extra_set_names(state["cycles"]) == ["uqm-dev", "late"]
  assert plot._series(state["cycles"], "cycle", "WER", "uqm-dev") == (
      [1, 2], [0.99, 0.9])
  assert plot._series(state["cycles"], "cycle", "WER", "late") == ([2], [0.5])
  plain = tmp_path / "plain.png"
  with_sets = tmp_path / "sets.png"
  plot.plot_training([write_state(tmp_path / "p", [(120.0, 0.98),
                                                   (60.0, 0.7)])], str(plain))
  assert plot.plot_training([model_dir], str(with_sets)) == {model_dir: 2}
  # The same figure but for the extra sets' lines and legend.
  assert read_png(with_sets).shape == read_png(plain).shape
  assert not np.array_equal(read_png(with_sets), read_png(plain))

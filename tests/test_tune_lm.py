"""Tests for tune_lm.py, the LM tuning CLI (real subprocesses; the model
outputs come from the tuning cache or a real export of a tiny model)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import decoder
from decoding import lm_settings
from decoding import tuning
from tests import conftest
from tests.helpers import tuning_data
# Module-scoped fixtures, shared with the other tuning tests.
from tests.helpers.tuning_data import arpa, outputs  # noqa: F401

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _tune_lm(*args, cwd=ROOT):
  return subprocess.run([sys.executable, os.path.join(ROOT, "tune_lm.py")] +
                        list(args), cwd=cwd, capture_output=True, text=True,
                        timeout=300)


def _cached_export(folder, outputs, recorded=None, lm=None):
  """folder/export/<ts>/: a named export whose outputs are in the cache.

  The cache holds the tuning utterances' outputs of this export, so the
  model is not run (the export is only a name and its settings file).
  """
  # pylint: disable=g-import-not-at-top
  import shutil
  from training import export
  export_dir = os.path.join(folder, "export", "1700000000")
  extra = os.path.join(export_dir, "assets.extra")
  os.makedirs(extra)
  open(os.path.join(export_dir, "saved_model.pb"), "wb").close()
  if recorded is not None:
    shutil.copy(lm, os.path.join(extra, recorded["lm_path"]))
    with open(os.path.join(extra, export.EXPORT_SETTINGS_FILE), "w") as f:
      json.dump(dict(recorded, sample_rate=16000, window_ms=20, stride_ms=10,
                     speech_labels=tuning_data.LABELS), f)
  probabilities, lengths, references = outputs
  cache = os.path.join(folder, "outputs.npz")
  tuning.save_outputs(cache, probabilities, lengths, references, tuning_data.LABELS,
                      export_dir)
  return export_dir, cache


@pytest.mark.slow  # Loads TensorFlow to resolve the export.
def test_cli_tunes_from_the_outputs_cache_and_writes_settings(
    tmp_path, arpa, outputs):
  manifest = tuning_data.tuning_manifest(str(tmp_path))
  dev = conftest.make_corpus(tmp_path / "dev", num_utts=2, name="dev")
  cache = str(tmp_path / "outputs.npz")
  probabilities, lengths, references = outputs
  # The cache holds these utterances' outputs of this export, so the model
  # is not run (the export is only a name: no model inside).
  export_dir = tmp_path / "export" / "1700000000"
  export_dir.mkdir(parents=True)
  (export_dir / "saved_model.pb").write_bytes(b"")
  tuning.save_outputs(cache, probabilities, lengths, references, tuning_data.LABELS,
                         str(export_dir))
  settings = str(tmp_path / "lm_settings.json")
  proc = _tune_lm("--saved_model=" + str(export_dir.parent),
                  "--manifest=" + manifest, "--exclude_manifest=" + dev,
                  "--lm_path=" + arpa, "--outputs_cache=" + cache,
                  "--beam_width=16", "--alpha_min=0", "--alpha_max=2",
                  "--alpha_steps=3", "--beta_min=0", "--beta_max=1",
                  "--beta_steps=2", "--processes=2",
                  "--lm_settings_out=" + settings)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert proc.stdout.count("<- best") == 1
  assert len([l for l in proc.stdout.splitlines()
              if l.strip() and l.split()[0][0].isdigit()]) == 6
  read = lm_settings.read(settings)
  assert read["lm_path"] == arpa and read["beam_width"] == 16
  assert read["alpha"] > 0.0
  best = decoder.make_decoder("beam", tuning_data.LABELS, **read)
  assert best.decode_batch(probabilities, lengths) == references


def test_cli_refuses_to_tune_on_the_reported_set(tmp_path, arpa):
  manifest = tuning_data.tuning_manifest(str(tmp_path))
  proc = _tune_lm("--saved_model=" + str(tmp_path / "none"),
                  "--manifest=" + manifest, "--exclude_manifest=" + manifest,
                  "--lm_path=" + arpa,
                  "--lm_settings_out=" + str(tmp_path / "s.json"))
  assert proc.returncode == 2
  assert "tune.csv is the manifest it must be held out of" in proc.stderr
  assert not os.path.exists(str(tmp_path / "s.json"))


@pytest.mark.slow
def test_cli_runs_a_real_export_once_and_caches_its_outputs(tmp_path, arpa):
  export_path = tuning_data.tiny_export(str(tmp_path))
  manifest = tuning_data.tuning_manifest(str(tmp_path))
  cache, settings = str(tmp_path / "out.npz"), str(tmp_path / "lm.json")
  args = ["--saved_model=" + os.path.dirname(export_path),
          "--manifest=" + manifest, "--lm_path=" + arpa,
          "--outputs_cache=" + cache, "--beam_width=8", "--alpha_steps=2",
          "--beta_steps=2", "--processes=1", "--lm_settings_out=" + settings]
  proc = _tune_lm(*args)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert "Running the acoustic model over 4 utterances" in proc.stdout
  probabilities, lengths, references, labels, model = (
      tuning.load_outputs(cache))
  assert model == export_path
  assert references == [text for text, _ in tuning_data.TUNING]
  assert "".join(labels) == tuning_data.LABELS and probabilities.shape[2] == 29
  np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-4)
  # 20 ms windows, 10 ms stride, time reduced 4x by the convolutions.
  assert all(0 < n <= probabilities.shape[1] for n in lengths)
  assert set(lm_settings.read(settings)) == {
      "lm_path", "alpha", "beta", "beam_width"}
  proc = _tune_lm(*args)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert "Acoustic outputs of 4 utterances from" in proc.stdout
  # Audio in another format and at another rate is read as transcribe.py
  # reads it: a 44.1 kHz FLAC of a tuning clip gives that clip's outputs.
  clip = os.path.join(str(tmp_path), "tune-0.wav")
  flac = str(tmp_path / "clip44k.flac")
  subprocess.run(["sox", clip, "-r", "44100", flac], check=True)
  model = tuning.load_model(export_path)
  (wav_probs, wav_len, _), (flac_probs, flac_len, _) = [
      tuning.acoustic_outputs(model, [p], show_progress=False)
      for p in (clip, flac)]
  assert abs(int(wav_len[0]) - int(flac_len[0])) <= 1
  n = min(int(wav_len[0]), int(flac_len[0]))
  assert np.abs(wav_probs[0, :n] - flac_probs[0, :n]).mean() < 0.05
  # A file that is not audio is named, not a traceback.
  bad = tmp_path / "bad.wav"
  bad.write_bytes(b"RIFF....WAVEjunk")
  with pytest.raises(tuning.TuningError, match="bad.wav"):
    tuning.acoustic_outputs(tuning.load_model(export_path), [str(bad)],
                               show_progress=False)

  # The training directory's checkpoint instead of the export: the same
  # outputs, cached under the checkpoint's name.
  model_dir = os.path.join(str(tmp_path), "model")
  args[0] = "--model_dir=" + model_dir
  args[3] = "--outputs_cache=" + str(tmp_path / "out_ckpt.npz")
  proc = _tune_lm(*args)
  assert proc.returncode == 0, proc.stderr[-2000:]
  from_checkpoint = tuning.load_outputs(str(tmp_path / "out_ckpt.npz"))
  assert from_checkpoint[4] == os.path.join(model_dir, "model.ckpt-0")
  np.testing.assert_allclose(from_checkpoint[0], probabilities, atol=1e-5)
  np.testing.assert_array_equal(from_checkpoint[1], lengths)
  # Both models at once is a usage error, not a guess.
  proc = _tune_lm("--saved_model=" + export_path, *args)
  assert proc.returncode == 1
  assert "--saved_model or --model_dir (one of them)" in proc.stderr


@pytest.mark.slow  # Loads TensorFlow to resolve the export.
def test_cli_with_relative_paths_tunes_the_lm_the_export_carries(
    tmp_path, arpa, outputs):
  # As `make demo` leaves it: the export carries its LM in assets.extra/,
  # and every path is relative to the directory the command runs in.
  tuning_data.tuning_manifest(str(tmp_path))
  _cached_export(str(tmp_path), outputs, recorded={
      "decoder": "beam", "beam_width": 16, "alpha": 0.0, "beta": 0.0,
      "lm_path": "lm-3gram.arpa", "lexicon": None}, lm=arpa)
  proc = _tune_lm("--saved_model=export", "--manifest=tune.csv",
                  "--outputs_cache=outputs.npz", "--alpha_steps=2",
                  "--beta_steps=2", "--processes=1",
                  "--lm_settings_out=lm_settings.json", cwd=str(tmp_path))
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert "at beam width 16" in proc.stdout
  read = lm_settings.read(str(tmp_path / "lm_settings.json"))
  packaged = tmp_path / "export" / "1700000000" / "assets.extra"
  assert read["lm_path"] == str(packaged / "lm-3gram.arpa")
  assert read["beam_width"] == 16


@pytest.mark.slow  # Loads TensorFlow to resolve the export.
def test_cli_names_an_lm_of_random_bytes_in_one_line(tmp_path, outputs):
  tuning_data.tuning_manifest(str(tmp_path))
  _cached_export(str(tmp_path), outputs)
  (tmp_path / "junk.arpa").write_bytes(np.random.default_rng(0).bytes(3000))
  proc = _tune_lm("--saved_model=export", "--manifest=tune.csv",
                  "--outputs_cache=outputs.npz", "--lm_path=junk.arpa",
                  "--lm_settings_out=s.json", cwd=str(tmp_path))
  assert proc.returncode == 1
  assert proc.stderr.splitlines()[-1:] == [
      "tune_lm.py: error: junk.arpa is not a language model: an ARPA file "
      "starts with a \\data\\ line, a KenLM binary with 'mmap lm "
      "http://kheafield.com/code'"], proc.stderr
  assert not (tmp_path / "s.json").exists()
  # No LM anywhere is a usage error too.
  proc = _tune_lm("--saved_model=export", "--manifest=tune.csv",
                  "--outputs_cache=outputs.npz", "--lm_settings_out=s.json",
                  cwd=str(tmp_path))
  assert proc.returncode == 2
  assert proc.stderr.splitlines()[-1:] == [
      "tune_lm.py: error: no language model to tune: give --lm_path or "
      "--lm_settings (or a model that records its LM)"]


def test_cli_refuses_settings_written_over_an_input(tmp_path):
  tune = str(tmp_path / "tune.csv")
  with open(tune, "w") as f:
    f.write("wav_filename\twav_filesize\ttranscript\n")
  before = open(tune, "rb").read()
  link = str(tmp_path / "settings.json")
  os.link(tune, link)  # a hard link: the same file under another name
  result = _tune_lm("--saved_model=" + str(tmp_path / "none"),
                    "--manifest=" + tune, "--lm_path=" + tune,
                    "--lm_settings_out=" + link)
  assert result.returncode == 2
  assert result.stderr.splitlines()[-1] == (
      "tune_lm.py: error: --lm_settings_out %s is the same file as "
      "--manifest %s; writing it would destroy that input. Choose another "
      "--lm_settings_out." % (link, tune))
  assert open(tune, "rb").read() == before

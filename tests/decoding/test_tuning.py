"""Tests for tuning.py and tune_lm.py: the alpha/beta grid search.

The n-gram is built by the project's own builder (decoding/lm.py); the acoustic
outputs are made by hand (greedy paths with one wrong letter per word that
the LM can repair), or, in the slow end-to-end test, come from a real export
of a (freshly initialized) tiny model served on real WAV files.
"""

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import decoder
from decoding import lm
from decoding import lm_settings
from decoding import scoring
from decoding import tuning
from tests import conftest
from tests.helpers import durability

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
LABELS = " abcdefghijklmnopqrstuvwxyz'-"
BLANK = 28
LM_SENTENCES = ["the cat sat on the mat", "the cat ate the fish",
                "a cat sat on a log", "the dog sat on the mat",
                "the cat and the dog", "a dog ate a fish"]
# Tuning utterances: sentences the LM knows, each spoken with one letter
# whose frame is won by a wrong letter (the right one close behind) that
# turns the word into another word of the LM ("sat" -> "mat"): the lexicon
# alone cannot repair these, the LM's context can.
TUNING = [("the cat sat on the mat", {8: "m"}),
          ("the dog ate the fish", {4: "l"}),
          ("a cat sat on a log", {15: "d"}),
          ("the cat and the dog", {4: "m"})]


def _spell(text, wrong):
  """[time, 29] softmax: one frame per letter, then a blank frame."""
  probs = np.full((2 * len(text), len(LABELS)), 1e-4, np.float32)
  for i, char in enumerate(text):
    if i in wrong:
      probs[2 * i, LABELS.index(wrong[i])] = 0.55
      probs[2 * i, LABELS.index(char)] = 0.45
    else:
      probs[2 * i, LABELS.index(char)] = 1.0
    probs[2 * i + 1, BLANK] = 1.0
  return probs / probs.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def arpa(tmp_path_factory):
  path = str(tmp_path_factory.mktemp("lm") / "3gram.arpa")
  lm.build_arpa(LM_SENTENCES, 3, path)
  return path


@pytest.fixture(scope="module")
def outputs():
  probabilities, lengths = tuning.pad(
      [_spell(text, wrong) for text, wrong in TUNING], BLANK)
  return probabilities, lengths, [text for text, _ in TUNING]


def test_grid_is_alpha_major_and_checks_its_ranges():
  assert tuning.grid(0, 1, 3, -1, 1, 2) == [
      (0.0, -1.0), (0.0, 1.0), (0.5, -1.0), (0.5, 1.0), (1.0, -1.0),
      (1.0, 1.0)]
  assert tuning.grid(0.5, 0.5, 1, 2, 9, 1) == [(0.5, 2.0)]
  with pytest.raises(tuning.TuningError, match="alpha range is empty"):
    tuning.grid(2, 1, 3, 0, 1, 2)
  with pytest.raises(tuning.TuningError, match="beta needs at least"):
    tuning.grid(0, 1, 3, 0, 1, 0)


@pytest.mark.parametrize("processes", [1, 2])
def test_search_scores_every_point_as_a_fresh_decoder_would(arpa, outputs,
                                                            processes):
  probabilities, lengths, references = outputs
  greedy = decoder.make_decoder("greedy", LABELS).decode_batch(probabilities,
                                                                lengths)
  greedy_wer = scoring.compute_error_rates(greedy, references)["corpus_WER"]
  assert greedy_wer > 0.15  # Every sentence has a wrong word.
  base = decoder.make_decoder("beam", LABELS, beam_width=16, lm_path=arpa)
  points = tuning.grid(0.0, 2.0, 3, 0.0, 2.0, 2)
  scored = tuning.search(base, probabilities, lengths, references, points,
                            processes=processes, show_progress=False)
  assert [(p.alpha, p.beta) for p in scored] == points
  for point in scored:
    fresh = decoder.make_decoder("beam", LABELS, beam_width=16, lm_path=arpa,
                                 alpha=point.alpha, beta=point.beta)
    rates = scoring.compute_error_rates(
        fresh.decode_batch(probabilities, lengths), references)
    assert (point.wer, point.cer) == (rates["corpus_WER"], rates["corpus_CER"])
  best = tuning.best_point(scored)
  assert best.wer == min(p.wer for p in scored)
  # The LM repairs the misspellings that its lexicon alone cannot.
  assert best.wer == 0.0 and best.alpha > 0.0
  assert max(p.wer for p in scored if p.alpha == 0.0) > 0.0
  table = tuning.format_table(scored, (greedy_wer, 0.1))
  assert table.count("<- best") == 1 and "greedy" in table


def test_best_point_breaks_ties_by_cer_then_smaller_alpha():
  points = [tuning.Point(1.0, 0.0, 0.2, 0.10),
            tuning.Point(0.5, 1.0, 0.2, 0.10),
            tuning.Point(2.0, 0.0, 0.2, 0.05),
            tuning.Point(0.0, 0.0, 0.3, 0.01)]
  assert tuning.best_point(points) == points[2]
  assert tuning.best_point(points[:2]) == points[1]


def test_on_edge_names_the_bounds_the_best_point_sits_on():
  points = [tuning.Point(a, b, 0.5, 0.5) for a in (0.0, 1.0, 2.0)
            for b in (0.0, 1.0, 2.0)]
  assert tuning.on_edge(points[4], points) == []
  assert tuning.on_edge(points[8], points) == ["alpha max", "beta max"]
  assert tuning.on_edge(points[1], points) == ["alpha min"]
  assert tuning.on_edge(points[0], points[:1]) == []


def test_with_weights_needs_an_lm_or_lexicon():
  plain = decoder.make_decoder("beam", LABELS, beam_width=4)
  with pytest.raises(ValueError, match="need an LM or a lexicon"):
    plain.with_weights(1.0, 0.0)


def test_held_out_check_refuses_shared_utterances(tmp_path):
  tune = str(tmp_path / "tune.csv")
  tuning.check_held_out(["/a/1.wav", "/a/2.wav"], tune,
                           {str(tmp_path / "dev.csv"): ["/a/3.wav"]})
  with pytest.raises(tuning.TuningError,
                     match=r"1 of the 2 tuning utterances .*dev\.csv"):
    tuning.check_held_out(["/a/1.wav", "/a/2.wav"], tune,
                             {str(tmp_path / "dev.csv"): ["/a/2.wav"]})
  with pytest.raises(tuning.TuningError, match="is the manifest it must"):
    tuning.check_held_out(["/a/1.wav"], tune, {tune: []})


def test_outputs_cache_round_trips_and_names_a_bad_file(tmp_path, outputs):
  probabilities, lengths, references = outputs
  path = str(tmp_path / "outputs.npz")
  tuning.save_outputs(path, probabilities, lengths, references, LABELS,
                         "/m/1")
  got = tuning.load_outputs(path)
  np.testing.assert_array_equal(got[0], probabilities)
  np.testing.assert_array_equal(got[1], lengths)
  assert got[2] == references and "".join(got[3]) == LABELS
  assert got[4] == "/m/1"
  bad = tmp_path / "bad.npz"
  bad.write_text("not numpy")
  with pytest.raises(tuning.TuningError, match="bad.npz"):
    tuning.load_outputs(str(bad))


def test_outputs_cache_writes_are_durable_and_never_follow_links(
    tmp_path, outputs, monkeypatch):
  probabilities, lengths, references = outputs
  path = str(tmp_path / "outputs.npz")
  synced = durability.record_fsyncs(monkeypatch)
  # Two runs sharing one cache: each has its own temporary.
  threads = [threading.Thread(target=tuning.save_outputs, args=(
      path, probabilities, lengths, references, LABELS, "/m/%d" % i))
             for i in range(4)]
  for thread in threads:
    thread.start()
  for thread in threads:
    thread.join()
  assert durability.durably_renamed(synced, path)
  assert tuning.load_outputs(path)[4] in ["/m/%d" % i for i in range(4)]
  assert os.listdir(str(tmp_path)) == ["outputs.npz"]
  precious = tmp_path / "precious.bin"
  precious.write_bytes(b"keep me")
  link = str(tmp_path / "linked.npz")
  os.symlink(str(precious), link)
  with pytest.raises(tuning.TuningError, match="is a symbolic link"):
    tuning.load_outputs(link)
  tuning.save_outputs(link, probabilities, lengths, references, LABELS)
  assert precious.read_bytes() == b"keep me"
  assert not os.path.islink(link)


def _tuning_manifest(folder):
  """Real WAV files whose transcripts are the TUNING sentences."""
  rng = np.random.default_rng(0)
  rows = []
  for i, (text, _) in enumerate(TUNING):
    path = os.path.join(folder, "tune-%d.wav" % i)
    rows.append((path, conftest.write_wav(path, conftest.synthesize(text,
                                                                    rng)),
                 text))
  return conftest.write_manifest(os.path.join(folder, "tune.csv"), rows)


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
                     speech_labels=LABELS), f)
  probabilities, lengths, references = outputs
  cache = os.path.join(folder, "outputs.npz")
  tuning.save_outputs(cache, probabilities, lengths, references, LABELS,
                      export_dir)
  return export_dir, cache


@pytest.mark.slow  # Loads TensorFlow to resolve the export: ~8 s.
def test_cli_tunes_from_the_outputs_cache_and_writes_settings(
    tmp_path, arpa, outputs):
  manifest = _tuning_manifest(str(tmp_path))
  dev = conftest.make_corpus(tmp_path / "dev", num_utts=2, name="dev")
  cache = str(tmp_path / "outputs.npz")
  probabilities, lengths, references = outputs
  # The cache holds these utterances' outputs of this export, so the model
  # is not run (the export is only a name: no model inside).
  export_dir = tmp_path / "export" / "1700000000"
  export_dir.mkdir(parents=True)
  (export_dir / "saved_model.pb").write_bytes(b"")
  tuning.save_outputs(cache, probabilities, lengths, references, LABELS,
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
  best = decoder.make_decoder("beam", LABELS, **read)
  assert best.decode_batch(probabilities, lengths) == references


def test_cli_refuses_to_tune_on_the_reported_set(tmp_path, arpa):
  manifest = _tuning_manifest(str(tmp_path))
  proc = _tune_lm("--saved_model=" + str(tmp_path / "none"),
                  "--manifest=" + manifest, "--exclude_manifest=" + manifest,
                  "--lm_path=" + arpa,
                  "--lm_settings_out=" + str(tmp_path / "s.json"))
  assert proc.returncode == 2
  assert "tune.csv is the manifest it must be held out of" in proc.stderr
  assert not os.path.exists(str(tmp_path / "s.json"))


def _tiny_export(folder):
  """Exports a freshly initialized tiny model the way deep_speech.py does."""
  # pylint: disable=g-import-not-at-top
  import tensorflow as tf
  import deep_speech
  from training import export
  params = dict(num_classes=29, rnn_hidden_layers=1, rnn_type="gru",
                is_bidirectional=True, rnn_hidden_size=16, use_bias=True,
                learning_rate=1e-3, conv_filters=8, dtype="float32")
  model_dir = os.path.join(folder, "model")
  with tf.Graph().as_default():
    features = {"features": tf.compat.v1.placeholder(tf.float32,
                                                     [None, None, 161, 1]),
                "input_length": tf.compat.v1.placeholder(tf.int32,
                                                         [None, 1])}
    tf.compat.v1.train.get_or_create_global_step()
    deep_speech.model_fn(features, None, tf.estimator.ModeKeys.PREDICT,
                         params)
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      tf.compat.v1.train.Saver().save(
          session, os.path.join(model_dir, "model.ckpt"), global_step=0)
  settings = {"sample_rate": 16000, "window_ms": 20, "stride_ms": 10,
              "speech_labels": LABELS}
  return export.export_model(
      deep_speech.model_fn, model_dir, tf.estimator.RunConfig(), params,
      os.path.join(folder, "export"), settings, 161)


@pytest.mark.slow
def test_cli_runs_a_real_export_once_and_caches_its_outputs(tmp_path, arpa):
  export_path = _tiny_export(str(tmp_path))
  manifest = _tuning_manifest(str(tmp_path))
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
  assert references == [text for text, _ in TUNING]
  assert "".join(labels) == LABELS and probabilities.shape[2] == 29
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


@pytest.mark.slow
def test_loading_an_export_shows_no_custom_gradient_warning(tmp_path, caplog):
  # The CPU GRU's training loop has a written-out gradient, which TensorFlow
  # warns about on every load of a graph holding it; an export's graph is
  # built for inference and must not hold it.
  export_path = _tiny_export(str(tmp_path))
  with caplog.at_level("WARNING"):
    model = tuning.load_model(export_path)
  assert model.settings.sample_rate == 16000
  assert not [r for r in caplog.records
              if "custom gradients" in r.getMessage()], caplog.text


@pytest.mark.slow  # Loads TensorFlow to resolve the export: ~8 s.
def test_cli_with_relative_paths_tunes_the_lm_the_export_carries(
    tmp_path, arpa, outputs):
  # As `make demo` leaves it: the export carries its LM in assets.extra/,
  # and every path is relative to the directory the command runs in.
  _tuning_manifest(str(tmp_path))
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


@pytest.mark.slow  # Loads TensorFlow to resolve the export: ~8 s.
def test_cli_names_an_lm_of_random_bytes_in_one_line(tmp_path, outputs):
  _tuning_manifest(str(tmp_path))
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

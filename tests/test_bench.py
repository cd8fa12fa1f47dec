"""Smoke tests for the benchmarks in bench/: each runs, in a tiny mode, as the
README tells users to run it, and its last line is the documented JSON.

Speed itself is measured by the scripts, never asserted here.
"""

import json
import os
import subprocess
import sys

import pytest


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(script, *args, timeout=120, env=None):
  """Runs `python bench/<script> args` from the repository root.

  Returns:
    The JSON object of its last output line.
  """
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
  proc = subprocess.run(
      [sys.executable, os.path.join("bench", script)] + list(args), cwd=ROOT,
      env=env, capture_output=True, text=True, timeout=timeout, check=False)
  assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
  lines = proc.stdout.strip().splitlines()
  assert lines, proc.stderr[-4000:]
  return json.loads(lines[-1])


@pytest.mark.slow
def test_input_pipeline_bench():
  result = _run("input_pipeline.py", "--utts", "12", "--min_sec", "1",
                "--max_sec", "3", "--batch_size", "4", "--rounds", "1")
  assert result["utts"] == 12
  assert 0 < result["audio_hours"] < 12 * 3.5 / 3600
  for key in ("seed_generator_utt_per_s", "pipeline_utt_per_s", "speedup",
              "featurizer_audio_s_per_cpu_s"):
    assert result[key] > 0, key
  for key in ("cached_fill_epoch_utt_per_s", "cached_epoch_utt_per_s",
              "cached_epoch_speedup"):
    assert result[key] > 0, key
  assert result["max_abs_diff"] is not None
  assert 0 <= result["max_abs_diff"] <= 1e-4
  assert result["cpus"] == os.cpu_count()


@pytest.mark.slow
def test_train_step_bench():
  result = _run("train_step.py", "--quick", "--configs", "tiny", "--steps",
                "2", "--warmup", "1", "--utt_sec", "1.5")
  assert [r["config"] for r in result["results"]] == ["tiny"]
  (tiny,) = result["results"]
  assert tiny["params_match"]
  assert tiny["timed_steps"] == 2
  assert tiny["estimator_useful_gflops"] == pytest.approx(
      tiny["useful_gflop_per_step"] / tiny["estimator_step_s"], rel=0.01)
  for key in ("estimator_steps_per_s", "keras_loop_steps_per_s", "ratio",
              "estimator_audio_s_per_s", "keras_loop_audio_s_per_s",
              "useful_gflop_per_step", "sgemm_gflops", "fraction_of_sgemm"):
    assert tiny[key] > 0, key


def test_step_flops_counts_the_matrix_products():
  sys.path.insert(0, os.path.join(ROOT, "bench"))
  import flops  # pylint: disable=g-import-not-at-top
  import train_step  # pylint: disable=g-import-not-at-top
  params = dict(train_step.model_params("tiny"), conv_filters=4)
  # 80 frames x 161 bins: conv1 -> 40 x 81, conv2 -> 20 x 81 (see
  # deep_speech_model.CONV_LAYERS); 2 examples.
  conv1 = 2.0 * 2 * 40 * 81 * 4 * 41 * 11 * 1 * 2
  conv2 = 2.0 * 2 * 20 * 81 * 4 * 21 * 11 * 4 * 3
  gru = 3 * 2.0 * 2 * 20 * 2 * 3 * (81 * 4 + 32) * 32
  dense = 3 * 2.0 * 2 * 20 * 64 * 29
  assert flops.step_flops(params, 2, 80, 161) == pytest.approx(
      conv1 + conv2 + gru + dense)


@pytest.mark.slow
def test_precision_bench():
  # The environment is set explicitly, so the test holds on every CPU kind
  # (TensorFlow's oneDNN default differs between them). Where bfloat16
  # cannot run (oneDNN's custom operations on, no AVX512), the script
  # leaves it out and says so.
  env = {"ONEDNN_MAX_CPU_ISA": "AVX2", "TF_ENABLE_ONEDNN_OPTS": "1",
         "CUDA_VISIBLE_DEVICES": ""}
  result = _run("precision.py", "--dtypes", "float32,bfloat16",
                "--batch_size", "2", "--utt_sec", "1", "--steps", "1",
                "--warmup", "0", env=env, timeout=300)
  assert set(result["results"]) == {"float32"}
  assert "bfloat16" in result["skipped"]
  assert result["onednn_custom_ops"] is True
  # With them off, TensorFlow's own kernels emulate bfloat16: it is timed
  # and marked as emulated.
  env["TF_ENABLE_ONEDNN_OPTS"] = "0"
  result = _run("precision.py", "--dtypes", "float32,bfloat16",
                "--batch_size", "2", "--utt_sec", "1", "--steps", "2",
                "--warmup", "1", env=env, timeout=300)
  assert result["batch_size"] == 2 and result["steps"] == 2
  assert set(result["results"]) == {"float32", "bfloat16"}
  assert result["onednn_custom_ops"] is False
  assert result["bfloat16_native"] is False and not result["skipped"]
  for figures in result["results"].values():
    assert figures["step_s"] > 0 and figures["loss_after"] > 0
  assert result["results"]["float32"]["speedup_vs_float32"] == 1.0


@pytest.mark.slow
def test_convergence_bench_prints_its_curve_and_continues(tmp_path):
  sys.path.insert(0, os.path.join(ROOT, "tests"))
  import conftest  # pylint: disable=g-import-not-at-top
  manifest = conftest.make_corpus(tmp_path / "data", num_utts=8)
  args = ["--train_data_dir=" + manifest, "--eval_data_dir=" + manifest,
          "--model_dir=" + str(tmp_path / "model"), "--batch_size=4",
          "--rnn_hidden_size=16", "--rnn_hidden_layers=1", "--conv_filters=4",
          "--learning_rate=2e-3", "--learning_rate_decay_steps=10",
          "--export_dir="]
  first = _run("convergence.py", *(args + ["--max_epochs=2"]), timeout=300)
  assert set(first) >= {"config", "epochs", "minutes", "dev_wer", "dev_cer",
                        "curve"}
  assert first["epochs"] == 2 and len(first["curve"]) == 2
  assert first["config"]["conv_filters"] == 4
  assert first["config"]["learning_rate_decay_steps"] == 10
  minutes = [point[0] for point in first["curve"]]
  assert 0 < minutes[0] < minutes[1] == first["minutes"]
  assert [round(first["dev_wer"], 4), round(first["dev_cer"], 4)] == (
      first["curve"][-1][1:])
  # The model directory is reused: a higher cap continues the same curve.
  second = _run("convergence.py", *(args + ["--max_epochs=3"]), timeout=300)
  assert second["epochs"] == 3
  assert second["curve"][:2] == first["curve"]


@pytest.mark.slow
def test_decoding_bench():
  result = _run("decoding.py", "--utts", "4", "--processes", "1",
                "--beam_width", "16", timeout=300)
  assert result["utts"] == 4 and result["beam_width"] == 16
  assert 12 <= result["mean_audio_s"] <= 16
  assert set(result["results"]) == {"greedy", "beam", "beam+lm",
                                    "beam+lm+lexicon"}
  for figures in result["results"].values():
    assert figures["utt_per_s"] > 0
    assert 0 <= figures["corpus_CER"] <= figures["corpus_WER"] <= 1
  # The synthetic errors are what an LM repairs.
  assert (result["results"]["beam+lm"]["corpus_WER"] <
          result["results"]["greedy"]["corpus_WER"])


def test_synthesis_bench():
  result = _run("synthesis.py", "--per_voice", "2", timeout=120)
  assert result["per_voice_utts"] == 2
  steps = ("engine", "sox", "noise", "mix", "flac")
  for figures in list(result["cpu_ms_per_utt"].values()) + [
      result["corpus_cpu_ms_per_utt"]]:
    assert all(figures[s] >= 0 for s in steps)
    assert abs(sum(figures[s] for s in steps) - figures["total"]) < 0.1
    # The engines and sox run as child processes: their CPU is counted.
    assert figures["engine"] > 0 and figures["sox"] > 0
  assert len(result["cpu_ms_per_utt"]) == 8
  assert 0.5 < result["mean_audio_s"] < 10 and result["demo_estimate_s"] > 0


@pytest.mark.slow
def test_augmentation_bench():
  pytest.importorskip("pyroomacoustics")
  result = _run("augmentation.py", "--utts", "8", "--min_sec", "1",
                "--max_sec", "2", "--batch_size", "4", "--rooms", "2",
                "--rt60", "0.2", "0.3", timeout=300)
  assert result["utts"] == 8 and result["noise_files"] == 2
  assert set(result["utts_per_sec"]) == {
      "none", "reverb", "babble", "noise", "gain", "telephone", "codec_mp3",
      "codec_gsm", "all"}
  assert all(rate > 0 for rate in result["utts_per_sec"].values())
  assert result["sec_per_room"] > 0


def test_uqm_voices_tells_a_steady_tone_from_noise(tmp_path):
  for race, synth in (("tone", ["sine", "200"]), ("hiss", ["whitenoise"])):
    folder = tmp_path / "3dovoice" / race
    folder.mkdir(parents=True)
    for i in range(2):
      subprocess.run(["sox", "-n", "-r", "11025", "-c", "1",
                      str(folder / ("%s-%03d.ogg" % (race, i))), "synth",
                      "1.0"] + synth + ["vol", "0.3"], check=True)
  result = _run("uqm_voices.py", "--tree", str(tmp_path), "--clips", "2")
  assert result["clips_per_race"] == 2
  tone, hiss = result["races"]["tone"], result["races"]["hiss"]
  assert tone["voiced"] > 0.95 and hiss["voiced"] < 0.2
  assert tone["f0"] == pytest.approx(200, rel=0.03)
  assert tone["f0_spread"] < 0.02
  assert hiss["flatness"] > 10 * tone["flatness"]
  assert hiss["high"] > 10 * tone["high"]


@pytest.mark.slow
def test_time_to_accuracy_prints_a_curve_and_the_minutes_to_each_target(
    tmp_path):
  sys.path.insert(0, os.path.join(ROOT, "tests"))
  import conftest  # pylint: disable=g-import-not-at-top
  manifest = conftest.make_corpus(tmp_path / "data", num_utts=8)
  # The demo's configuration, shrunk by flags given after its flagfile.
  result = _run(
      "time_to_accuracy.py", "--train_data_dir=" + manifest,
      "--eval_data_dir=" + manifest, "--model_dir=" + str(tmp_path / "m"),
      "--batch_size=4", "--rnn_hidden_size=16", "--rnn_hidden_layers=1",
      "--conv_filters=4", "--learning_rate=2e-3", "--export_dir=",
      "--train_epochs=2", "--target_greedy_cer=100", "--target_lm_wer=0",
      timeout=600)
  assert [row["epoch"] for row in result["epochs"]] == [1, 2]
  first, second = result["epochs"]
  assert 0 < first["train_minutes"] < second["train_minutes"]
  assert first["wall_minutes"] > first["train_minutes"]
  # Any CER is within 100: reached at the first epoch; no LM was given.
  assert result["minutes_to_greedy_cer"] == first["train_minutes"]
  assert result["minutes_to_lm_wer"] is None and first["lm_wer"] is None
  assert result["config"]["rnn_hidden_size"] == 16
  # The flagfile's other settings stayed: the demo's 10 ms windows.
  assert result["config"]["window_ms"] == 10
  assert "avx512" in result["cpu"] or "no AVX512" in result["cpu"]


@pytest.mark.slow
def test_server_bench():
  result = _run("server.py", "--requests", "4", "--concurrency", "2",
                "--clip_sec", "1", "--batch_requests", "1,2", timeout=300)
  assert (result["requests"], result["concurrency"]) == (4, 2)
  assert [r["batch_requests"] for r in result["runs"]] == [1, 2]
  for run in result["runs"]:
    assert run["rps"] > 0 and 0 < run["p50_ms"] <= run["p99_ms"]


@pytest.mark.slow
def test_tflite_bench():
  result = _run("tflite.py", "--audio_sec", "3", "--threads", "1",
                "--rnn_hidden_layers", "1", "--rnn_hidden_size", "16",
                "--conv_filters", "4", "--variants", "savedmodel,int8",
                "--modes", "stream", timeout=300)
  assert [(c["variant"], c["mode"], c["threads"]) for c in result["cases"]
          ] == [("savedmodel", "stream", 1), ("int8", "stream", 1)]
  for case in result["cases"]:
    assert case["audio_sec"] == 3.0 and case["rtf"] > 0
    assert case["peak_rss_mb"] >= result["baseline"]["peak_rss_mb"] > 0
  assert list(result["file_mb"]) == ["int8"]

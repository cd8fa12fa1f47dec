"""Tests for training/flags.py: the flag catalogue and its conversions."""

import os
import subprocess
import sys

import pytest

from tests import conftest
from training import flags as port_flags
from training import inputs
from training import settings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

# Every flag `python deep_speech.py --helpfull` listed before the
# restructure (the original's, the port's, absl's and TensorFlow's).
FLAGS_BEFORE = """
alsologtostderr batch_size benchmark_log_dir benchmark_logger_type
benchmark_test_id bigquery_data_set bigquery_metric_table
bigquery_run_status_table bigquery_run_table conv_filters delta_threshold
dtype epochs_between_evals eval_data_dir export_dir feature_cache_dir flagfile
freq_mask freq_warp gcp_project hbm_oom_exit helpfull helpshort helpxml hooks
is_bidirectional keep_checkpoint_max learning_rate learning_rate_decay_rate
learning_rate_decay_steps length_buckets log_dir log_every_n_steps
logger_levels logtostderr loss_scale max_audio_sec model_dir num_cpu_replicas
num_gpus num_parallel_calls only_check_args only_check_flags
op_conversion_fallback_to_while_loop pdb pdb_post_mortem profile_file
rnn_hidden_layers rnn_hidden_size rnn_type run_with_pdb run_with_profiling
runtime_oom_exit sample_rate save_checkpoints_steps seed show_samples
showprefixforinfo sortagrad stderrthreshold stop_threshold strict_data
stride_ms tempo_warp test_random_seed test_randomize_ordering_seed test_srcdir
test_tmpdir time_mask train_data_dir train_epochs tt_check_filter
tt_single_core_summaries undefok use_bias use_cprofile_for_profiling verbosity
vocabulary_file wer_threshold window_ms xml_output_file
""".split()


@pytest.mark.slow
def test_helpfull_lists_the_flags_it_listed_before_the_restructure():
  proc = subprocess.run([sys.executable, "deep_speech.py", "--helpfull"],
                        cwd=ROOT, capture_output=True, text=True, timeout=120)
  listed = set()
  for line in proc.stdout.splitlines():
    line = line.strip()
    if line.startswith("-"):
      name = line.split(":")[0].split(",")[-1].lstrip("-")
      listed.add(name.replace("[no]", ""))
  assert set(FLAGS_BEFORE) <= listed, sorted(set(FLAGS_BEFORE) - listed)


def test_model_params_convert_dtype_and_loss_scale():
  flag_values = type("Flags", (), dict(
      rnn_hidden_layers=2, rnn_type="gru", is_bidirectional=True,
      rnn_hidden_size=8, conv_filters=4, use_bias=True, learning_rate=1e-3,
      lookahead_context=2, learning_rate_decay_steps=0,
      learning_rate_decay_rate=0.5, dtype="bf16", loss_scale="64",
      trainable_scopes=None))()
  params = settings.model_params(flag_values, 29)
  assert params["dtype"] == "bfloat16" and params["loss_scale"] == 64.0
  assert params["num_classes"] == 29 and params["rnn_hidden_size"] == 8
  assert params["lookahead_context"] == 2
  flag_values.loss_scale = "-3"
  with pytest.raises(ValueError, match="^--loss_scale: "):
    settings.model_params(flag_values, 29)


def _parse(argv):
  from absl import flags  # pylint: disable=g-import-not-at-top
  if "rnn_hidden_size" not in flags.FLAGS:
    port_flags.define_deep_speech_flags()
  flags.FLAGS.unparse_flags()
  flags.FLAGS(["deep_speech.py"] + list(argv))
  return flags.FLAGS


def test_lm_settings_file_is_read_and_flags_given_override_it(tmp_path):
  from decoding import lm  # pylint: disable=g-import-not-at-top
  from decoding import lm_settings  # pylint: disable=g-import-not-at-top
  arpa = str(tmp_path / "words.arpa")
  lm.build_arpa(["the cat sat", "the dog ran"], 2, arpa)
  (tmp_path / "words.txt").write_text("the\ncat\n")
  tuned = str(tmp_path / "tuned.json")
  lm_settings.write(tuned, "words.arpa", 0.7, 1.5, beam_width=32,
                            lexicon="words.txt")
  args = settings.decoder_args(_parse(["--decoder=beam",
                                         "--lm_settings=" + tuned]))
  assert args == {"kind": "beam", "beam_width": 32, "lm_path": arpa,
                  "alpha": 0.7, "beta": 1.5,
                  "lexicon": str(tmp_path / "words.txt")}
  # Given flags win, even when they equal the defaults.
  args = settings.decoder_args(_parse([
      "--decoder=beam", "--lm_settings=" + tuned, "--lm_alpha=0",
      "--beam_width=100"]))
  assert args["alpha"] == 0.0 and args["beam_width"] == 100
  assert args["beta"] == 1.5
  # Without --decoder, an LM selects the beam search (one rule for the three
  # CLIs, decoding/flags.py); --decoder=greedy with one is an error in flag
  # terms.
  args = settings.decoder_args(_parse(["--lm_settings=" + tuned]))
  assert args["kind"] == "beam" and args["lm_path"] == arpa
  assert settings.decoder_args(_parse(["--lm_path=" + arpa]))["kind"] == (
      "beam")
  with pytest.raises(ValueError, match="--decoder=greedy takes no LM"):
    settings.decoder_args(_parse(["--decoder=greedy",
                                  "--lm_settings=" + tuned]))
  with pytest.raises(ValueError, match="--decoder=greedy takes no LM .*"
                     "--lm_path"):
    settings.decoder_args(_parse(["--decoder=greedy", "--lm_path=" + arpa]))
  with pytest.raises(ValueError, match=r"^--lm_settings: "):
    settings.decoder_args(_parse(["--decoder=beam",
                                    "--lm_settings=" + arpa]))
  with pytest.raises(ValueError, match="--lm_path=.*missing.arpa: no such"):
    settings.decoder_args(_parse([
        "--decoder=beam", "--lm_path=" + str(tmp_path / "missing.arpa")]))
  assert settings.decoder_args(_parse([]))["kind"] == "greedy"


def test_extra_eval_sets_errors_are_in_flag_terms(tmp_path):
  dev = conftest.make_corpus(tmp_path / "dev", num_utts=2, name="dev")
  flags_obj = _parse(["--eval_data_dir=" + dev,
                      "--extra_eval_data_dir=" + dev,
                      "--extra_eval_data_dir=real=" + dev])
  dev_set = inputs.generate_dataset(dev, **settings.data_args(flags_obj))
  sets = settings.extra_eval_datasets(flags_obj, dev_set)
  assert [(n, s is dev_set) for n, s in sets] == [("dev", True),
                                                  ("real", True)]
  # The decoders' names prefix their summaries: not a set's name.
  flags_obj = _parse(["--extra_eval_data_dir=greedy=" + dev])
  with pytest.raises(ValueError) as info:
    settings.extra_eval_datasets(flags_obj)
  assert str(info.value) == (
      "--extra_eval_data_dir=greedy=%s: the set name 'greedy' is taken "
      "(beam, greedy); give another as NAME=%s" % (dev, dev))
  assert settings.extra_eval_datasets(_parse([])) == []

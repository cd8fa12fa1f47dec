"""Tests for training/flags.py: the flag catalogue."""

import os
import subprocess
import sys

import pytest

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

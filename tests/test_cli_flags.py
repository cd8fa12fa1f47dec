"""Every CLI's numeric and choice flags are validated when they are parsed.

Each CLI defines its flags in absl's one global registry, and two CLIs
define flags of the same name (--batch_size), so each CLI's flags are parsed
in a process of their own: one Python process per CLI defines them once and
parses every case with absl (as `absl.app.run` does, before `main`), which
is far cheaper than a process per case. A few real runs of the programs
check what a user sees: the exit status, the one line naming the flag, and
that nothing was written.
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.slow

# CLI -> (the import of the module that defines its flags, the call).
DEFINERS = {
    "deep_speech.py": ("from training import flags as m",
                       "m.define_deep_speech_flags()"),
    "transcribe.py": ("import transcribe as m", "m.define_flags()"),
    "plot.py": ("import plot as m", "m.define_plot_flags()"),
    "data/build_lm.py": ("from data import build_lm as m",
                         "m.define_build_lm_flags()"),
    "data/make_vocabulary.py": ("from data import make_vocabulary as m",
                                "m.define_make_vocabulary_flags()"),
    "data/validate.py": ("from data import validate as m",
                         "m.define_validate_flags()"),
    "data/download.py": ("from data import download as m",
                         "m.define_download_flags()"),
    "training/slurm.py": ("from training import slurm as m",
                          "m.define_slurm_flags()"),
}

# (CLI, a bad flag, the flag name its error must name).
BAD = [
    ("deep_speech.py", "--batch_size=0", "batch_size"),
    ("deep_speech.py", "--batch_size=-2", "batch_size"),
    ("deep_speech.py", "--rnn_hidden_layers=0", "rnn_hidden_layers"),
    ("deep_speech.py", "--rnn_hidden_size=0", "rnn_hidden_size"),
    ("deep_speech.py", "--train_epochs=0", "train_epochs"),
    ("deep_speech.py", "--epochs_between_evals=0", "epochs_between_evals"),
    ("deep_speech.py", "--num_gpus=-2", "num_gpus"),
    ("deep_speech.py", "--num_parallel_calls=0", "num_parallel_calls"),
    ("deep_speech.py", "--seed=-1", "seed"),
    ("deep_speech.py", "--sample_rate=0", "sample_rate"),
    ("deep_speech.py", "--window_ms=0", "window_ms"),
    ("deep_speech.py", "--stride_ms=-10", "stride_ms"),
    ("deep_speech.py", "--learning_rate=0", "learning_rate"),
    ("deep_speech.py", "--learning_rate_decay_steps=-1",
     "learning_rate_decay_steps"),
    ("deep_speech.py", "--learning_rate_decay_rate=1.5",
     "learning_rate_decay_rate"),
    ("deep_speech.py", "--conv_filters=0", "conv_filters"),
    ("deep_speech.py", "--max_audio_sec=0", "max_audio_sec"),
    ("deep_speech.py", "--save_checkpoints_steps=0", "save_checkpoints_steps"),
    ("deep_speech.py", "--keep_checkpoint_max=-1", "keep_checkpoint_max"),
    ("deep_speech.py", "--log_every_n_steps=0", "log_every_n_steps"),
    ("deep_speech.py", "--show_samples=-1", "show_samples"),
    ("deep_speech.py", "--length_buckets=-1", "length_buckets"),
    ("deep_speech.py", "--freq_mask=-1", "freq_mask"),
    ("deep_speech.py", "--time_mask=-1", "time_mask"),
    ("deep_speech.py", "--tempo_warp=1", "tempo_warp"),
    ("deep_speech.py", "--freq_warp=-0.1", "freq_warp"),
    ("deep_speech.py", "--num_cpu_replicas=-1", "num_cpu_replicas"),
    ("deep_speech.py", "--rnn_type=transformer", "rnn_type"),
    ("deep_speech.py", "--dtype=fp64", "dtype"),
    ("transcribe.py", "--num=0", "num"),
    ("transcribe.py", "--sample_rate=0", "sample_rate"),
    ("transcribe.py", "--window_ms=0", "window_ms"),
    ("transcribe.py", "--stride_ms=0", "stride_ms"),
    ("transcribe.py", "--max_chunk_sec=0", "max_chunk_sec"),
    ("transcribe.py", "--batch_size=0", "batch_size"),
    ("transcribe.py", "--output_format=txt", "output_format"),
    ("plot.py", "--window_ms=0", "window_ms"),
    ("plot.py", "--stride_ms=-1", "stride_ms"),
    ("plot.py", "--x_axis=time", "x_axis"),
    ("data/build_lm.py", "--order=0", "order"),
    ("data/build_lm.py", "--min_counts=1,x", "min_counts"),
    ("data/build_lm.py", "--min_counts=1,-2", "min_counts"),
    ("data/build_lm.py", "--prune_threshold=-1", "prune_threshold"),
    ("data/make_vocabulary.py", "--min_count=0", "min_count"),
    ("data/make_vocabulary.py", "--unicode_form=NFX", "unicode_form"),
    ("deep_speech.py", "--unicode_form=nfx", "unicode_form"),
    ("data/build_lm.py", "--unicode_form=ascii", "unicode_form"),
    ("data/validate.py", "--sample_rate=0", "sample_rate"),
    ("data/validate.py", "--stride_ms=30", "stride_ms"),
    ("data/validate.py", "--time_reduction=0", "time_reduction"),
    ("data/validate.py", "--max_audio_sec=0", "max_audio_sec"),
    ("data/validate.py", "--num_threads=0", "num_threads"),
    ("data/download.py", "--num_workers=0", "num_workers"),
    ("data/download.py", "--dataset=timit", "dataset"),
    ("training/slurm.py", "--port=0", "port"),
    ("training/slurm.py", "--port=70000", "port"),
]

# Values at the edges that must still parse (and every CLI's defaults).
GOOD = [
    ("deep_speech.py", ["--batch_size=1", "--num_gpus=-1",
                        "--num_parallel_calls=-1", "--keep_checkpoint_max=0",
                        "--tempo_warp=0.5", "--seed=0", "--show_samples=0",
                        "--learning_rate_decay_rate=1",
                        # A threshold no WER reaches: every cycle runs.
                        "--wer_threshold=-1"]),
    ("transcribe.py", ["--num=1", "--max_chunk_sec=0.5", "--batch_size=1"]),
    ("plot.py", ["--window_ms=25.5", "--stride_ms=0.5"]),
    ("data/build_lm.py", ["--min_counts=0,1,2", "--order=2"]),
    ("data/make_vocabulary.py", ["--min_count=1", "--unicode_form=NFKD",
                                 "--strip_accents", "--nolowercase"]),
    ("data/validate.py", ["--stride_ms=20", "--window_ms=20",
                          "--time_reduction=1", "--max_audio_sec=0.5"]),
    ("data/download.py", ["--num_workers=1"]),
    ("training/slurm.py", ["--port=1"]),
]

# Run with the CLI's definer spliced in: reads a JSON list of argv lists,
# prints the parse error of each (null when it parses).
_PARSE_ALL = """
import json, sys
from absl import flags
{import_line}
{define_call}
results = []
for argv in json.load(sys.stdin):
  flags.FLAGS.unparse_flags()
  try:
    flags.FLAGS(["prog"] + argv)
    results.append(None)
  except flags.Error as e:
    results.append(str(e))
print("RESULTS" + json.dumps(results))
"""

_parsed = {}


def _parse_errors(cli):
  """{tuple(argv): error or None} for this CLI's BAD and GOOD cases."""
  if cli not in _parsed:
    cases = [[flag] for c, flag, _ in BAD if c == cli]
    cases += [argv for c, argv in GOOD if c == cli] + [[]]
    import_line, define_call = DEFINERS[cli]
    proc = subprocess.run(
        [sys.executable, "-c", _PARSE_ALL.format(import_line=import_line,
                                                 define_call=define_call)],
        input=json.dumps(cases), cwd=ROOT, capture_output=True, text=True,
        timeout=300, env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.split("RESULTS", 1)[1])
    _parsed[cli] = dict(zip(map(tuple, cases), results))
  return _parsed[cli]


@pytest.mark.parametrize("cli,flag,name", BAD)
def test_a_bad_value_is_refused_naming_the_flag(cli, flag, name):
  error = _parse_errors(cli)[(flag,)]
  assert error is not None, "%s %s parsed" % (cli, flag)
  assert "--" + name in error


@pytest.mark.parametrize("cli", sorted(DEFINERS))
def test_defaults_and_edge_values_parse(cli):
  errors = _parse_errors(cli)
  assert errors[()] is None
  for c, argv in GOOD:
    if c == cli:
      assert errors[tuple(argv)] is None, (argv, errors[tuple(argv)])


def _run(args, **kwargs):
  proc = subprocess.run([sys.executable] + args, cwd=ROOT, capture_output=True,
                        text=True, timeout=300, **kwargs)
  assert "Traceback" not in proc.stderr, proc.stderr
  return proc.returncode, proc.stderr.splitlines()


def test_transcribe_refuses_a_zero_batch_and_writes_nothing(tmp_path):
  out = tmp_path / "out"
  status, lines = _run(["transcribe.py", "--batch_size=0",
                        "--output_dir=%s" % out, str(tmp_path / "a.wav")])
  assert status == 1
  # (TensorFlow's start-up notices come first.)
  assert [line for line in lines if "Flags parsing error" in line] == [
      "FATAL Flags parsing error: flag --batch_size=0: 0 is not a positive "
      "integer"]
  assert os.listdir(tmp_path) == []


def test_validate_refuses_zero_threads_with_exit_two(tmp_path):
  skipped = tmp_path / "skipped.tsv"
  status, lines = _run(["data/validate.py", "--num_threads=0",
                        "--skipped_file=%s" % skipped, "--time_reduction=4",
                        str(tmp_path / "m.csv")])
  assert status == 2
  assert lines == ["validate.py: error: flag --num_threads=0: 0 is not a "
                   "positive integer"]
  assert os.listdir(tmp_path) == []

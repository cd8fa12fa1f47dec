"""Tests for official_utils/flags/core.py.

Flag groups declare into absl's global FLAGS, which a test process can define
only once, so they are checked in fresh Python processes."""

import json
import types

import pytest

from official_utils.flags import core as flags_core

from tests.helpers import official_utils as helpers


# Every flag NOTES.md lists for deep_speech.py, and the base flags' aliases.
DEEP_SPEECH_FLAGS = [
    "model_dir", "train_epochs", "epochs_between_evals", "stop_threshold",
    "batch_size", "num_gpus", "hooks", "export_dir",
    "benchmark_logger_type", "benchmark_test_id", "benchmark_log_dir",
    "gcp_project", "bigquery_data_set", "bigquery_run_table",
    "bigquery_run_status_table", "bigquery_metric_table",
    "seed", "train_data_dir", "eval_data_dir", "sortagrad", "sample_rate",
    "window_ms", "stride_ms", "vocabulary_file", "rnn_hidden_size",
    "rnn_hidden_layers", "use_bias", "is_bidirectional", "rnn_type",
    "learning_rate", "wer_threshold",
]
BOOL_FLAGS = {"sortagrad", "use_bias", "is_bidirectional"}
SHORT_ALIASES = {
    "md": "model_dir", "te": "train_epochs", "ebe": "epochs_between_evals",
    "bs": "batch_size", "ng": "num_gpus", "hk": "hooks", "ed": "export_dir",
    "bld": "benchmark_log_dir", "bti": "benchmark_test_id",
}


def test_help_wrap_wraps_at_80_columns():
  text = ("The number of training epochs to run between evaluations, which "
          "is a long sentence that must be wrapped so that the help output "
          "of --helpfull stays readable on an 80-column terminal; every "
          "word must survive the wrapping in its original order.")
  wrapped = flags_core.help_wrap(text)
  lines = wrapped.split("\n")
  assert len(lines) >= 3
  assert all(len(line) <= 80 for line in lines)
  # Lines are filled: a line plus the next word would overflow.
  for line, following in zip(lines, lines[1:]):
    assert len(line) + 1 + len(following.split()[0]) > 80 - 2
  assert all(line.startswith("  ") for line in lines[1:])
  assert wrapped.split() == text.split()
  assert flags_core.help_wrap("Short help.") == "Short help."
  assert all(len(line) <= 40
             for line in flags_core.help_wrap(text, width=40).split("\n"))


def test_define_groups_declare_flags_with_short_aliases():
  code = """
      import json
      from absl import flags
      from official_utils.flags import core
      groups = {"base": core.define_base(),
                "performance": core.define_performance(),
                "benchmark": core.define_benchmark()}
      F = flags.FLAGS
      declared = {n: F[n].short_name for g in groups.values() for n in g}
      core.set_defaults(batch_size=64, model_dir="/tmp/md_default",
                        train_epochs=7)
      defaults = {n: F[n].default for n in ("batch_size", "model_dir",
                                           "train_epochs", "hooks")}
      F(["prog", "-bs=16", "-md=/tmp/short", "-ebe=2", "-ng=0",
         "-hk=LoggingTensorHook,ProfilerHook", "-bld=/tmp/bld",
         "-bti=run7", "-ed=/tmp/export"])
      parsed = {n: F[n].value for n in ("batch_size", "model_dir",
                "epochs_between_evals", "num_gpus", "hooks",
                "benchmark_log_dir", "benchmark_test_id", "export_dir",
                "train_epochs")}
      print("JSON" + json.dumps({"groups": groups, "declared": declared,
                                 "defaults": defaults, "parsed": parsed}))
  """
  rc, out = helpers.run_python_code(code)
  assert rc == 0, out
  result = json.loads(out.split("JSON", 1)[1])
  groups, declared = result["groups"], result["declared"]
  assert groups["base"] == ["model_dir", "train_epochs",
                            "epochs_between_evals", "stop_threshold",
                            "batch_size", "num_gpus", "hooks", "export_dir"]
  assert set(groups["performance"]) == {"num_parallel_calls", "dtype",
                                        "loss_scale"}
  assert {"benchmark_logger_type", "benchmark_test_id",
          "benchmark_log_dir"} <= set(groups["benchmark"])
  for short, name in SHORT_ALIASES.items():
    assert declared[name] == short
  # set_defaults changes the defaults, and unset flags take them.
  assert result["defaults"] == {"batch_size": 64,
                                "model_dir": "/tmp/md_default",
                                "train_epochs": 7, "hooks": []}
  assert result["parsed"] == {
      "batch_size": 16, "model_dir": "/tmp/short", "epochs_between_evals": 2,
      "num_gpus": 0, "hooks": ["LoggingTensorHook", "ProfilerHook"],
      "benchmark_log_dir": "/tmp/bld", "benchmark_test_id": "run7",
      "export_dir": "/tmp/export", "train_epochs": 7}


def test_define_base_can_leave_flags_out():
  code = """
      from absl import flags
      from official_utils.flags import core
      names = core.define_base(data_dir=True, hooks=False, export_dir=False)
      print("NAMES", sorted(names))
      print("HOOKS", "hooks" in flags.FLAGS, "DD", flags.FLAGS["dd"].name)
  """
  rc, out = helpers.run_python_code(code)
  assert rc == 0, out
  assert "HOOKS False DD data_dir" in out
  assert "'data_dir'" in out and "'export_dir'" not in out


def test_dash_h_prints_short_help_in_a_minimal_app():
  code = '''
      """A tiny absl app using the base flags."""
      from absl import app
      from official_utils.flags import core
      core.define_base()
      def main(_):
        print("MAIN RAN")
      app.run(main)
  '''
  rc, out = helpers.run_python_code(code, "-h")
  assert "Unknown command line flag" not in out
  assert "MAIN RAN" not in out
  assert "Try --helpfull" in out
  assert rc == 1  # absl exits 1 after printing help


def test_deep_speech_helpfull_lists_every_flag():
  rc, out = helpers.run_python(["deep_speech.py", "--helpfull"])
  assert "Traceback" not in out, out
  assert rc in (0, 1), out
  for name in DEEP_SPEECH_FLAGS:
    spelled = "--[no]" + name if name in BOOL_FLAGS else "--" + name + ":"
    assert spelled in out, name
  for short, name in SHORT_ALIASES.items():
    assert "-%s,--%s:" % (short, name) in out, short
  # The deep_speech.py defaults set through set_defaults.
  assert "(default: '/tmp/deep_speech_model/')" in out
  (rnn_type,) = [l for l in out.splitlines() if "--rnn_type:" in l]
  assert all(cell in rnn_type for cell in ("gru", "lstm", "rnn"))


def test_deep_speech_dash_h():
  rc, out = helpers.run_python(["deep_speech.py", "-h"])
  assert "Unknown command line flag" not in out, out
  assert "Traceback" not in out, out
  assert "--train_data_dir" in out
  assert "Try --helpfull" in out
  assert rc == 1


def test_get_num_gpus():
  gpus = helpers.visible_gpus()
  ns = types.SimpleNamespace
  assert flags_core.get_num_gpus(ns(num_gpus=None)) == min(1, gpus)
  assert flags_core.get_num_gpus(ns(num_gpus=-1)) == gpus
  assert flags_core.get_num_gpus(ns(num_gpus=0)) == 0
  assert flags_core.get_num_gpus(ns(num_gpus=3)) == 3
  with pytest.raises(ValueError, match="-1"):
    flags_core.get_num_gpus(ns(num_gpus=-2))


def test_get_num_gpus_on_cpu_machine():
  if helpers.visible_gpus():
    pytest.skip("this machine has a GPU")
  ns = types.SimpleNamespace
  assert flags_core.get_num_gpus(ns(num_gpus=None)) == 0
  assert flags_core.get_num_gpus(ns(num_gpus=-1)) == 0

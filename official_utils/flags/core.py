"""Flag groups shared by the training scripts (after tensorflow/models official/utils/flags).

`define_base`, `define_performance` and `define_benchmark` each declare one group
of absl flags and return the names they declared, so a script can document
which flags it owns. Nothing here reads flag values except `get_num_gpus`, which
resolves `--num_gpus=-1` to the number of visible GPUs.
"""

import os
import sys
import textwrap

from absl import app as absl_app
from absl import flags

_HELP_WIDTH = 80


def help_wrap(text, width=_HELP_WIDTH, **kwargs):
  """Wraps help text so that `--helpfull` stays readable on an 80-column terminal.

  Args:
    text: the help string.
    width: the column to wrap at.
    **kwargs: passed to `textwrap.fill`.

  Returns:
    The wrapped text, continuation lines indented by two spaces.
  """
  kwargs.setdefault("subsequent_indent", "  ")
  return textwrap.fill(text, width=width, **kwargs)


def _visible_gpus():
  # Imported lazily: listing devices initializes TensorFlow, which must not
  # happen on import of this module.
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return len(tf.config.list_physical_devices("GPU"))


def define_base(data_dir=False, model_dir=True, train_epochs=True,
                epochs_between_evals=True, stop_threshold=True,
                batch_size=True, num_gpu=True, hooks=True, export_dir=True):
  """Declares the flags every training script has.

  Args:
    data_dir, model_dir, train_epochs, epochs_between_evals, stop_threshold,
    batch_size, num_gpu, hooks, export_dir: whether to declare that flag.

  Returns:
    A list of the declared flag names.
  """
  # absl knows only -? for short help; like the original, let -h mean
  # --helpshort too. absl_app.run defines the help flags from this class
  # attribute, so it must be set before the script calls run.
  absl_app.HelpshortFlag.SHORT_NAME = "h"
  # Declared in the original's order, which the returned list keeps.
  names = _define_dir_flags(data_dir, model_dir)
  names += _define_epoch_flags(train_epochs, epochs_between_evals,
                               stop_threshold)
  names += _define_device_flags(batch_size, num_gpu)
  names += _define_hook_and_export_flags(hooks, export_dir)
  return names


def _define_dir_flags(data_dir, model_dir):
  """--data_dir and --model_dir, those asked for; returns their names."""
  names = []
  if data_dir:
    flags.DEFINE_string(
        name="data_dir", short_name="dd", default="/tmp",
        help=help_wrap("The location of the input data."))
    names.append("data_dir")
  if model_dir:
    flags.DEFINE_string(
        name="model_dir", short_name="md", default="/tmp",
        help=help_wrap("The location of the model checkpoint files."))
    names.append("model_dir")
  return names


def _define_epoch_flags(train_epochs, epochs_between_evals, stop_threshold):
  """How long training runs and how often it evaluates; returns the names."""
  names = []
  if train_epochs:
    flags.DEFINE_integer(
        name="train_epochs", short_name="te", default=1, lower_bound=1,
        help=help_wrap("The number of epochs used to train."))
    names.append("train_epochs")
  if epochs_between_evals:
    flags.DEFINE_integer(
        name="epochs_between_evals", short_name="ebe", default=1,
        lower_bound=1,
        help=help_wrap("The number of training epochs to run between "
                       "evaluations."))
    names.append("epochs_between_evals")
  if stop_threshold:
    flags.DEFINE_float(
        name="stop_threshold", short_name="st", default=None,
        help=help_wrap("If passed, training will stop at the earlier of "
                       "train_epochs and when the evaluation metric is "
                       "greater than or equal to stop_threshold. (Unused by "
                       "deep_speech.py, which stops on --wer_threshold.)"))
    names.append("stop_threshold")
  return names


def _define_device_flags(batch_size, num_gpu):
  """The global batch and the GPUs it is split over; returns the names."""
  names = []
  if batch_size:
    flags.DEFINE_integer(
        name="batch_size", short_name="bs", default=32, lower_bound=1,
        help=help_wrap("Global batch size for training and evaluation; it is "
                       "split evenly across the devices."))
    names.append("batch_size")
  if num_gpu:
    flags.DEFINE_integer(
        name="num_gpus", short_name="ng", default=None, lower_bound=-1,
        help=help_wrap("How many GPUs to use with the distribution strategy "
                       "(0: CPU only, -1: all visible GPUs). Default: 1 if a "
                       "GPU is visible, else 0. With a TF_CONFIG cluster "
                       "(MultiWorkerMirroredStrategy) every machine uses all "
                       "its visible GPUs instead."))
    names.append("num_gpus")
  return names


def _define_hook_and_export_flags(hooks, export_dir):
  """--hooks and --export_dir, those asked for; returns their names."""
  names = []
  if hooks:
    flags.DEFINE_list(
        name="hooks", short_name="hk", default="",
        help=help_wrap("A comma-separated list of (case-insensitive) training "
                       "hook names, e.g. `--hooks=LoggingTensorHook,"
                       "ExamplesPerSecondHook`. Known: LoggingTensorHook, "
                       "ProfilerHook, ExamplesPerSecondHook, "
                       "LoggingMetricHook."))
    names.append("hooks")
  if export_dir:
    flags.DEFINE_string(
        name="export_dir", short_name="ed", default=None,
        help=help_wrap("If set, a SavedModel is exported to this directory "
                       "after training (a timestamped sub-directory)."))
    names.append("export_dir")
  return names


# --dtype -> the compute dtype's name (official/utils' DTYPE_MAP, by name so
# that this module needs no TensorFlow import).
DTYPE_MAP = {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}


def define_performance(num_parallel_calls=True, dtype=True,
                       loss_scale=True):
  """Declares flags that change speed but not the model's meaning.

  Returns:
    A list of the declared flag names.
  """
  names = []
  if num_parallel_calls:
    flags.DEFINE_integer(
        name="num_parallel_calls", short_name="npc", default=-1,
        lower_bound=-1,
        help=help_wrap("Parallel calls for featurization in the input "
                       "pipeline; -1 lets tf.data choose (AUTOTUNE)."))
    flags.register_validator(
        "num_parallel_calls", lambda value: value != 0,
        message="--num_parallel_calls must be -1 (AUTOTUNE) or >= 1")
    names.append("num_parallel_calls")
  if dtype:
    flags.DEFINE_enum(
        name="dtype", short_name="dt", default="fp32",
        enum_values=list(DTYPE_MAP),
        help=help_wrap("Compute precision. fp16 runs the convolutions and "
                       "RNNs in float16 (mixed precision; the softmax, CTC "
                       "loss and variables stay float32) with dynamic loss "
                       "scaling; meant for GPUs. bf16 does the same in "
                       "bfloat16 without loss scaling; fast on CPUs with "
                       "AVX512_BF16 or AMX and on recent GPUs, emulated "
                       "(slow) with plain AVX512, unavailable without it."))
    names.append("dtype")
  if loss_scale:
    flags.DEFINE_string(
        name="loss_scale", short_name="ls", default=None,
        help=help_wrap("Loss scale for fp16: a positive number, or 'dynamic' "
                       "(the default with --dtype=fp16). Ignored for fp32."))
    names.append("loss_scale")
  return names


def define_benchmark(benchmark_log_dir=True, bigquery_uploader=True):
  """Declares the benchmark-logging flags.

  Returns:
    A list of the declared flag names.
  """
  names = ["benchmark_logger_type", "benchmark_test_id"]
  flags.DEFINE_enum(
      name="benchmark_logger_type", default="BaseBenchmarkLogger",
      enum_values=["BaseBenchmarkLogger", "BenchmarkFileLogger",
                   "BenchmarkBigQueryLogger"],
      help=help_wrap("The type of benchmark logger: BaseBenchmarkLogger "
                     "writes to the log, BenchmarkFileLogger to JSON lines "
                     "in --benchmark_log_dir. BenchmarkBigQueryLogger is "
                     "not supported by this port."))
  flags.DEFINE_string(
      name="benchmark_test_id", short_name="bti", default=None,
      help=help_wrap("The unique test ID of the benchmark run, recorded in "
                     "the run info."))
  if benchmark_log_dir:
    flags.DEFINE_string(
        name="benchmark_log_dir", short_name="bld", default=None,
        help=help_wrap("The location of the benchmark logging files."))
    names.append("benchmark_log_dir")
  if bigquery_uploader:
    flags.DEFINE_string(
        name="gcp_project", short_name="gp", default=None,
        help=help_wrap("The GCP project name (BigQuery logging only; not "
                       "supported)."))
    flags.DEFINE_string(
        name="bigquery_data_set", short_name="bds", default="test_benchmark",
        help=help_wrap("BigQuery dataset name (not supported)."))
    flags.DEFINE_string(
        name="bigquery_run_table", short_name="brt", default="benchmark_run",
        help=help_wrap("BigQuery run table (not supported)."))
    flags.DEFINE_string(
        name="bigquery_run_status_table", short_name="brst",
        default="benchmark_run_status",
        help=help_wrap("BigQuery run status table (not supported)."))
    flags.DEFINE_string(
        name="bigquery_metric_table", short_name="bmt",
        default="benchmark_metric",
        help=help_wrap("BigQuery metric table (not supported)."))
    names += ["gcp_project", "bigquery_data_set", "bigquery_run_table",
              "bigquery_run_status_table", "bigquery_metric_table"]
  return names


def parse_flags(argv, program=None, usage_status=2):
  """Parses `argv` into `flags.FLAGS`; a bad flag exits with one line.

  For `absl_app.run(main, flags_parser=...)` in CLIs whose exit statuses
  mean something (usage errors exit 2, as with argparse, not absl's 1).

  Args:
    argv: the command line, program name first.
    program: the name the message starts with (default argv[0]'s base name).
    usage_status: the exit status of a bad flag.

  Returns:
    The arguments that are not flags, program name first.
  """
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    sys.stderr.write("%s: error: %s\n" % (
        program or os.path.basename(argv[0]), e))
    sys.exit(usage_status)


def set_defaults(**kwargs):
  """Overrides the defaults of already-declared flags, e.g. `batch_size=128`."""
  for key, value in kwargs.items():
    flags.FLAGS.set_default(name=key, value=value)


def get_num_gpus(flags_obj):
  """Resolves `--num_gpus`: None -> 1 if a GPU is visible else 0; -1 -> all.

  Args:
    flags_obj: the parsed flags (anything with a `num_gpus` attribute).

  Returns:
    A non-negative integer.

  Raises:
    ValueError: for a negative count other than -1.
  """
  num_gpus = flags_obj.num_gpus
  if num_gpus is None:
    return min(1, _visible_gpus())
  if num_gpus == -1:
    return _visible_gpus()
  if num_gpus < 0:
    raise ValueError("--num_gpus must be -1 (all GPUs) or >= 0, got %d."
                     % num_gpus)
  return num_gpus

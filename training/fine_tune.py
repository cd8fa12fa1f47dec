"""Fine-tuning: start a new model from a trained one, optionally freezing.

A warm start initializes the model variables of a new model directory from
another model's checkpoint (`tf.estimator.WarmStartSettings`, applied by the
Estimator only while the model directory has no checkpoint of its own).
The source may be

  * a checkpoint prefix (`<model_dir>/model.ckpt-1200`);
  * a model directory: its best checkpoint (`<model_dir>/best/`, the one
    `--export_best` would export), else its newest intact one;
  * an export (a SavedModel of deep_speech.py --export_dir, or the folder of
    timestamped exports): its variables/ are a checkpoint.

Only the network's own variables are taken, never the global step or the
optimizer's slots: the fine-tuning counts its steps from 0 with a fresh Adam.
With another vocabulary the output layer keeps the weights of the labels
both share, the others start afresh; any other variable that is missing or
shaped differently in the source stops the run
(`runtime.CheckpointMismatchError`, naming the first one).

Freezing keeps the variables that match no trainable scope as they are: they
get no gradient, and batch norm's moving statistics are only updated for the
moving variables that match.
"""

import collections
import os
import re

import tensorflow as tf

from common import atomic_file
import deep_speech_model
from training import checkpoints
from training import export
from training import runtime

# The featurizer settings that the source's and this run's must share.
FEATURIZER_KEYS = ("sample_rate", "window_ms", "stride_ms")

# The checkpoint to start from, the source's settings file (None when there
# is none beside it), and what the path was ("checkpoint", "model directory
# (best checkpoint)", "export", ...), for the log.
Source = collections.namedtuple("Source", ["checkpoint", "settings_path",
                                           "kind"])

# What a warm start takes: the variable names taken as they are; the output
# layer's variables remapped to a new vocabulary and those left out, each as
# (name, the source's shape, this model's shape); and the names `exclude`
# left out.
Plan = collections.namedtuple("Plan", ["variables", "remapped", "dropped",
                                       "excluded"])

# The label files of a remapped output layer, written into the new model
# directory: the Estimator's vocabulary remapping reads files.
LABEL_FILES = ("warm_start_source_labels.txt", "warm_start_labels.txt")
# The CTC blank's line in them: the blank is a position (the last class),
# not a character, so the two vocabularies' blanks must map to each other.
_BLANK_TOKEN = "<blank>"


class SourceError(ValueError):
  """A warm-start source that is not a usable checkpoint (names the path)."""


def _export_source(saved_model):
  return Source(os.path.join(saved_model, "variables", "variables"),
                os.path.join(saved_model, "assets.extra",
                             export.EXPORT_SETTINGS_FILE), "export")


def _settings_beside(prefix):
  """The settings file of the model directory holding `prefix`."""
  folder = os.path.dirname(os.path.abspath(prefix))
  if os.path.basename(folder) == checkpoints.BEST_DIR:
    folder = os.path.dirname(folder)  # best/ sits inside its model directory
  return os.path.join(folder, export.EXPORT_SETTINGS_FILE)


def _directory_source(path):
  """A model directory's or an export folder's Source."""
  if os.path.exists(os.path.join(path, "saved_model.pb")):
    return _export_source(path)
  best, _ = checkpoints.best_checkpoint(path)
  if best:
    return Source(best, _settings_beside(best),
                  "model directory (its best checkpoint)")
  if tf.train.latest_checkpoint(path):
    try:
      latest = checkpoints.choose_for_reading(path).latest
    except checkpoints.NoCheckpointError as e:
      raise SourceError(str(e)) from None
    return Source(latest, _settings_beside(latest),
                  "model directory (its newest checkpoint)")
  try:
    return _export_source(export.find_saved_model(path))
  except ValueError:
    raise SourceError(
        "%s holds no checkpoint, no best/ checkpoint and no SavedModel"
        % path) from None


def find_source(path):
  """The checkpoint (and settings) a warm start from `path` reads.

  Raises:
    SourceError: nothing there, or no intact checkpoint (naming the path).
  """
  if path.endswith(".index") and os.path.isfile(path):
    path = path[:-len(".index")]
  if os.path.isdir(path):
    source = _directory_source(path)
  elif os.path.isfile(path + ".index"):
    source = Source(path, _settings_beside(path), "checkpoint")
  elif os.path.exists(path):
    raise SourceError("%s is not a checkpoint prefix, a model directory or "
                      "an export" % path)
  else:
    raise SourceError("%s does not exist" % path)
  problem = checkpoints.checkpoint_problem(source.checkpoint)
  if problem:
    raise SourceError("%s: %s" % (path, problem))
  return source


def read_settings(source):
  """The source's featurizer settings and labels, or None if not recorded.

  Raises:
    export.SettingsError: a settings file that cannot be read (names it).
  """
  if not os.path.exists(source.settings_path):
    return None
  return export.load_settings(source.settings_path)


def featurizer_differences(source_settings, settings):
  """[(key, the source's value, this run's)] for each differing setting."""
  return [(key, source_settings[key], settings[key])
          for key in FEATURIZER_KEYS
          if float(source_settings[key]) != float(settings[key])]


def _output_layer(names):
  prefix = deep_speech_model.OUTPUT_LAYER + "/"
  return [name for name in names if name.startswith(prefix)]


def plan(checkpoint, model, num_feature_bins, source_labels, labels,
         exclude=None):
  """Which of `model`'s variables a warm start from `checkpoint` takes.

  With another vocabulary, the output layer's kernel keeps the columns of
  the labels both vocabularies share (a new label's column starts at zero)
  and its bias starts afresh; when the source's labels are unknown and its
  class count differs, the whole output layer starts afresh.

  Args:
    checkpoint: the source's checkpoint prefix.
    model: the `DeepSpeech2` of this run.
    num_feature_bins: spectrogram bins of the input.
    source_labels: the source's vocabulary (a string, blank last), or None
      when its settings are unknown.
    labels: this run's vocabulary, blank last.
    exclude: a compiled regular expression: matching variables (at the start
      of their name) are not taken.

  Returns:
    A `Plan`.

  Raises:
    runtime.CheckpointMismatchError: a variable to take is missing from the
      checkpoint or shaped differently (the first one, both shapes).
  """
  shapes = runtime.variable_shapes(model, num_feature_bins)
  saved = {name: list(shape)
           for name, shape in tf.train.list_variables(checkpoint)}
  skipped = set(name for name in shapes if exclude and exclude.match(name))
  excluded = sorted(skipped)
  output = [name for name in _output_layer(shapes) if name not in skipped]
  if source_labels is not None:
    differs = source_labels != labels
  else:
    differs = any(name in saved and saved[name][-1:] != shapes[name][-1:]
                  for name in output)
  remapped, dropped = [], []
  for name in output if differs else ():
    entry = (name, saved.get(name), shapes[name])
    # A kernel [inputs, classes] whose inputs fit has one column per label.
    if (source_labels is not None and len(shapes[name]) == 2 and
        name in saved and saved[name][:-1] == shapes[name][:-1]):
      remapped.append(entry)
    else:
      dropped.append(entry)
    skipped.add(name)
  problem = runtime.checkpoint_mismatch(checkpoint, model, num_feature_bins,
                                        skip=skipped)
  if problem:
    raise runtime.CheckpointMismatchError(
        "%s does not fit this model: %s" % (checkpoint, problem))
  return Plan([name for name in shapes if name not in skipped], remapped,
              dropped, excluded)


def shared_labels(source_labels, labels):
  """How many of `labels` the source has too (the blank counts as shared)."""
  return len(set(source_labels[:-1]) & set(labels[:-1])) + 1


def write_label_files(directory, source_labels, labels):
  """Writes LABEL_FILES (one label a line, blank last) into `directory`."""
  os.makedirs(directory, exist_ok=True)
  paths = []
  for name, vocabulary in zip(LABEL_FILES, (source_labels, labels)):
    paths.append(os.path.join(directory, name))
    atomic_file.write_text(
        paths[-1], "".join(label + "\n" for label in vocabulary[:-1]) +
        _BLANK_TOKEN + "\n")
  return paths


def warm_start_settings(checkpoint, warm_plan, label_files=None):
  """The Estimator's `WarmStartSettings` carrying out `warm_plan`.

  Args:
    checkpoint: the source's checkpoint prefix.
    warm_plan: a `Plan`.
    label_files: `write_label_files`' paths, when the plan remaps.
  """
  names = list(warm_plan.variables)
  vocab_info = {}
  for name, source_shape, shape in warm_plan.remapped:
    names.append(name)
    # New labels' columns get VocabInfo's default: zeros.
    vocab_info[name] = tf.estimator.VocabInfo(
        label_files[1], shape[-1], 0, label_files[0], source_shape[-1],
        axis=1)
  # A list of names selects among all global variables (a single regex would
  # see only the trainable ones and miss batch norm's moving statistics);
  # each is anchored so that no optimizer slot ("dense/kernel/Adam") matches.
  return tf.estimator.WarmStartSettings(
      ckpt_to_initialize_from=checkpoint,
      vars_to_warm_start=[re.escape(name) + r":\d+$" for name in names],
      var_name_to_vocab_info=vocab_info)


def compile_patterns(patterns):
  """Compiled regular expressions; ValueError naming a bad one."""
  compiled = []
  for pattern in patterns or ():
    try:
      compiled.append(re.compile(pattern))
    except re.error as e:
      raise ValueError("bad regular expression %r: %s" % (pattern, e)) \
          from None
  return compiled


def _matches(name, patterns):
  return any(re.match(pattern, name) for pattern in patterns)


def variables_to_train(scopes):
  """The trainable variables matching `scopes` (regexes), or None for all."""
  if not scopes:
    return None
  return [v for v in tf.compat.v1.trainable_variables()
          if _matches(v.op.name, scopes)]


def written_variable(op):
  """The variable an update op writes (by its handle), else the op's name."""
  op = op.op if isinstance(op, tf.Tensor) else op
  if op.inputs and (op.inputs[0].dtype == tf.resource or
                    op.type in ("Assign", "AssignSub", "AssignAdd")):
    return op.inputs[0].op.name
  return op.name


def update_ops_to_run(scopes):
  """The UPDATE_OPS writing variables that match `scopes` (None: all).

  Batch norm's moving mean and variance are not trainable, so freezing by
  gradients alone would still let frozen layers' statistics drift toward
  the new data and change what the frozen layers compute at evaluation.
  """
  ops = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
  if not scopes:
    return ops
  return [op for op in ops if _matches(written_variable(op), scopes)]


def unmatched_scope(scopes, names):
  """The first of `scopes` that matches none of `names`, or None."""
  for scope in scopes:
    if not any(re.match(scope, name) for name in names):
      return scope
  return None

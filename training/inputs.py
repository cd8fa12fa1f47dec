"""The training and evaluation sets: manifests read, checked and reported."""

import functools
import os
import re

from absl import logging

from data import dataset
from data import manifest
from data import text_normalization
import deep_speech_model


def generate_dataset(data_path, features, vocabulary_file, sortagrad,
                     max_audio_sec=None, strict=False,
                     text_policy=text_normalization.DEFAULT):
  """Reads and checks a manifest into a `DeepSpeechDataset`.

  `features` is the run's `featurizer.AudioFeaturizer` (rate, framing,
  normalization), the value its export records for transcription.
  """
  data_conf = dataset.DatasetConfig(features, data_path, vocabulary_file,
                                    sortagrad, max_audio_sec=max_audio_sec,
                                    strict=strict, text_policy=text_policy)
  speech_dataset = dataset.DeepSpeechDataset(
      data_conf, time_reduction=deep_speech_model.TIME_REDUCTION)
  unstable = text_policy.unstable_tokens(speech_dataset.speech_labels[:-1])
  if unstable:
    # Such a token never becomes a label: the vocabulary was made under
    # another policy, and those classes are wasted.
    logging.warning(
        "%s holds %s, which no transcript can hold after the text policy "
        "(%s); make the vocabulary with the same --unicode_form, "
        "--strip_accents and --lowercase.", vocabulary_file,
        ", ".join(repr(t) for t in unstable), text_policy.describe())
  return speech_dataset


# An extra evaluation set's name: it becomes a TensorBoard tag prefix, a
# report key and part of a skip list's file name.
_SET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def parse_eval_set(spec, reserved=()):
  """An extra evaluation set's (name, manifest path) from `NAME=path`.

  A bare path is named by its file's stem (`dev-clean` for
  `/data/dev-clean.csv`). A `=` after a path separator belongs to the path,
  so `/data/a=b/dev.csv` is a bare path.

  Args:
    spec: `NAME=path` or a path.
    reserved: names that are taken (e.g. the decoders' summary prefixes).

  Raises:
    ValueError: no path, or a name that is not plain or is reserved.
  """
  name, sep, path = spec.partition("=")
  if not sep or os.sep in name:
    name, path = None, spec
  if not path:
    raise ValueError("no manifest path in %r" % spec)
  if name is None:
    name = os.path.splitext(os.path.basename(path))[0]
  if not _SET_NAME.match(name):
    raise ValueError("%r is not a plain set name (letters, digits, '.', '_', "
                     "'-'); give one as NAME=%s" % (name, path))
  if name in reserved:
    raise ValueError("the set name %r is taken (%s); give another as "
                     "NAME=%s" % (name, ", ".join(sorted(reserved)), path))
  return name, path


def load_extra_sets(specs, known_datasets=(), reserved=(), **data_args):
  """The extra evaluation sets, each read and checked like the dev set.

  Args:
    specs: `parse_eval_set`'s specs.
    known_datasets: `DeepSpeechDataset`s already read (training, dev); a spec
      naming one of their manifests reuses it rather than reading it again.
    reserved: names no set may take.
    **data_args: `generate_dataset`'s other arguments.

  Returns:
    A list of (name, `DeepSpeechDataset`), in the order given.

  Raises:
    ValueError: "<spec>: <problem>" for a bad spec, two sets of one name, or
      a manifest that cannot be used (its `ManifestError` or `DataError`,
      which names the file).
  """
  by_path = {os.path.abspath(d.config.data_path): d for d in known_datasets}
  sets = []
  for spec in specs or ():
    try:
      name, path = parse_eval_set(spec, reserved)
      if name in dict(sets):
        raise ValueError("a second set named %r; give each its own name as "
                         "NAME=path" % name)
      key = os.path.abspath(path)
      if key not in by_path:
        by_path[key] = generate_dataset(path, **data_args)
    except ValueError as e:  # ManifestError and DataError included
      raise ValueError("%s: %s" % (spec, e)) from None
    sets.append((name, by_path[key]))
  return sets


def report_skipped_rows(train_speech_dataset, eval_speech_dataset,
                        model_dir, extra_sets=()):
  """Logs and lists each manifest's skipped rows in model_dir.

  `extra_sets` are `load_extra_sets`' (name, dataset) pairs; a manifest read
  once is reported once.
  """
  names = {}
  reported = []
  for role, speech_dataset in ((("train", train_speech_dataset),
                                ("eval", eval_speech_dataset)) +
                               tuple(extra_sets)):
    if any(speech_dataset is done for done in reported):
      continue  # one manifest, reported once
    reported.append(speech_dataset)
    path = os.path.abspath(speech_dataset.config.data_path)
    name = os.path.splitext(os.path.basename(path))[0]
    if names.get(name, path) != path:
      # Two manifests with one base name must not share (or delete) a list.
      name += "_" + role
    names[name] = path
    manifest.report_skipped(speech_dataset.skipped, path,
                            len(speech_dataset.entries), model_dir, name=name)


def train_input_fn(speech_dataset, per_device_batch_size, num_replicas,
                   bucket_boundaries, augment, plan, done_steps,
                   **pipeline_options):
  """The training input function of one cycle, past its first done_steps.

  Args:
    speech_dataset: the training `DeepSpeechDataset`.
    per_device_batch_size: utterances per replica and step.
    num_replicas: replicas in sync (a global step takes one batch each).
    bucket_boundaries: length-bucket boundaries (`sampler.bucket_boundaries`).
    augment: the training `augment.Chain`.
    plan: the cycle's `cycles.CyclePlan`.
    done_steps: global steps of the cycle already trained.
    **pipeline_options: `dataset.input_fn`'s num_parallel_calls and
      feature_cache_dir.

  Returns:
    A function of (params, input_context) for the Estimator.
  """
  return functools.partial(
      dataset.input_fn, per_device_batch_size, speech_dataset,
      epochs=plan.epoch_lists, skip_batches=done_steps * num_replicas,
      bucket_boundaries=bucket_boundaries, bucketed=plan.bucketed,
      augment=augment, **pipeline_options)


def load_datasets(train_path, eval_path, **data_args):
  """The training and evaluation `DeepSpeechDataset`s.

  Args:
    train_path: the training manifest.
    eval_path: the evaluation manifest.
    **data_args: `generate_dataset`'s other arguments.

  Returns:
    (training set, evaluation set); the same object when both paths name one
    manifest (a common smoke test), which is then read and checked once.
  """
  train_speech_dataset = generate_dataset(train_path, **data_args)
  if os.path.abspath(eval_path) == os.path.abspath(train_path):
    return train_speech_dataset, train_speech_dataset
  return train_speech_dataset, generate_dataset(eval_path, **data_args)

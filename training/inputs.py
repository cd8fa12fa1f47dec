"""The training and evaluation sets: manifests read, checked and reported."""

import functools
import os

from absl import logging

from data import dataset
from data import manifest
from data import text_normalization
import deep_speech_model


def generate_dataset(data_path, sample_rate, window_ms, stride_ms,
                     vocabulary_file, sortagrad, max_audio_sec=None,
                     strict=False, text_policy=text_normalization.DEFAULT):
  """Reads and checks a manifest into a `DeepSpeechDataset`."""
  audio_conf = dataset.AudioConfig(sample_rate=sample_rate,
                                   window_ms=window_ms, stride_ms=stride_ms,
                                   normalize=True)
  data_conf = dataset.DatasetConfig(audio_conf, data_path, vocabulary_file,
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


def report_skipped_rows(train_speech_dataset, eval_speech_dataset,
                        model_dir):
  """Logs and lists each manifest's skipped rows in model_dir."""
  names = {}
  for role, speech_dataset in (("train", train_speech_dataset),
                               ("eval", eval_speech_dataset)):
    if role == "eval" and speech_dataset is train_speech_dataset:
      break  # one manifest, reported once
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

"""Trains and evaluates DeepSpeech2 with a TensorFlow Estimator.

    python deep_speech.py --train_data_dir=train.csv --eval_data_dir=dev.csv \
        --model_dir=/tmp/deep_speech_model --train_epochs=10

Each cycle batch-wise shuffles the training set (sorted in the first epoch with
--sortagrad), trains --epochs_between_evals passes, greedy-decodes the
evaluation set and logs `Iteration N: WER = x, CER = y`. Training stops after
--train_epochs or once WER <= --wer_threshold, then exports a SavedModel to
--export_dir. Re-running the same command resumes from the last checkpoint.
"""

import functools
import json
import math
import os
import sys
import time
import warnings

from absl import app as absl_app
from absl import flags
from absl import logging
import tensorflow as tf

from data import augment as augment_lib
from data import dataset
from data import manifest
import decoder
import deep_speech_model
import training_hooks
import train_state
from training import cpu
from official_utils.flags import core as flags_core
from official_utils.logs import hooks_helper
from official_utils.logs import logger
from official_utils.misc import distribution_utils
from official_utils.misc import model_helpers

# Default vocabulary: " ", a-z, "'", and the CTC blank "-" (last, index 28).
_VOCABULARY_FILE = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "data", "vocabulary.txt")

# Evaluation metric keys.
_WER_KEY = "WER"
_CER_KEY = "CER"

# Featurizer settings and vocabulary saved in the export's assets.extra/.
EXPORT_SETTINGS_FILE = "deep_speech_features.json"

# Marks the in-graph finiteness check, so its error is recognised.
_NON_FINITE_MARKER = "DEEP_SPEECH_NON_FINITE_LOSS"


def compute_length_after_conv(max_time_steps, ctc_time_steps, input_length):
  """Computes the time_steps/ctc_input_length after convolution.

  A padded batch holds, for each utterance, input_length frames of real
  spectrogram followed by zeros up to max_time_steps. The convolutions shrink
  the time axis to ctc_time_steps; an utterance keeps the same share of it:
  ctc_input_length = floor(input_length * ctc_time_steps / max_time_steps).
  This length is what the CTC loss and the decoder may use.

  Args:
    max_time_steps: padded length of the batch, before the convolutions.
    ctc_time_steps: time steps after the convolutions.
    input_length: int tensor [batch, 1], real frames of each utterance.

  Returns:
    int32 tensor [batch, 1].
  """
  ctc_input_length = tf.cast(tf.multiply(
      tf.cast(input_length, tf.int64), tf.cast(ctc_time_steps, tf.int64)),
                             tf.float64)
  return tf.cast(tf.math.floordiv(
      ctc_input_length, tf.cast(max_time_steps, tf.float64)), tf.int32)


def ctc_loss(label_length, ctc_input_length, labels, logits):
  """CTC loss of each utterance.

  Args:
    label_length: int [batch, 1].
    ctc_input_length: int [batch, 1], frames after the convolutions.
    labels: int [batch, max_label_length], zero-padded.
    logits: float32 [batch, time, num_classes]; the last class is the blank.

  Returns:
    float32 [batch, 1] negative log-likelihoods.
  """
  # Reshape rather than squeeze: a batch of one keeps its batch axis.
  label_length = tf.reshape(tf.cast(label_length, tf.int32), [-1])
  ctc_input_length = tf.reshape(tf.cast(ctc_input_length, tf.int32), [-1])
  mask = tf.sequence_mask(label_length, tf.shape(labels)[1])
  sparse_labels = tf.SparseTensor(
      indices=tf.where(mask),
      values=tf.boolean_mask(tf.cast(labels, tf.int32), mask),
      dense_shape=tf.cast(tf.shape(labels), tf.int64))
  # The v1 op applies log-softmax itself, which is stabler than the seed's
  # log(softmax + epsilon) and equal to it up to that epsilon.
  losses = tf.compat.v1.nn.ctc_loss(
      labels=sparse_labels, inputs=tf.cast(logits, tf.float32),
      sequence_length=ctc_input_length, time_major=False)
  return tf.expand_dims(losses, axis=1)


def evaluate_model(estimator, speech_labels, entries, input_fn_eval):
  """Greedy-decodes the evaluation set and scores it.

  Args:
    estimator: the trained `tf.estimator.Estimator`.
    speech_labels: the vocabulary as one string, in class order.
    entries: the evaluation entries, in the order input_fn_eval yields them.
    input_fn_eval: the evaluation input function.

  Returns:
    A dict with "WER" and "CER" (the seed's means over utterances),
    "corpus_WER" and "corpus_CER" (total errors / total reference length),
    and the transcripts as "decoded" and "targets".
  """
  greedy_decoder = decoder.DeepSpeechDecoder(
      speech_labels, blank_index=len(speech_labels) - 1)
  decoded = []
  last_logged = 0
  for batch in estimator.predict(input_fn=input_fn_eval,
                                 yield_single_examples=False):
    decoded.extend(greedy_decoder.decode_batch(
        batch["probabilities"], batch["ctc_input_length"]))
    if len(decoded) - last_logged >= 500:
      last_logged = len(decoded)
      logging.info("Evaluated %d/%d utterances", len(decoded), len(entries))
  targets = [entry.transcript for entry in entries]
  if len(decoded) != len(targets):
    raise RuntimeError("Evaluation produced %d transcripts for %d utterances"
                       % (len(decoded), len(targets)))
  results = decoder.compute_error_rates(decoded, targets)
  results["decoded"] = decoded
  results["targets"] = targets
  return results


def network(params):
  """The `DeepSpeech2` that `params` (see `model_fn`) describe."""
  return deep_speech_model.DeepSpeech2(
      params["rnn_hidden_layers"], params["rnn_type"],
      params["is_bidirectional"], params["rnn_hidden_size"],
      params["num_classes"], params["use_bias"],
      dtype=params.get("dtype", "float32"),
      conv_filters=params.get("conv_filters",
                              deep_speech_model.DEFAULT_CONV_FILTERS))


def model_fn(features, labels, mode, params):
  """DeepSpeech2 model function.

  Args:
    features: a dict with "features" float32 [batch, time, bins, 1],
      "input_length" int32 [batch, 1], and for training and evaluation
      "label_length" int32 [batch, 1] (and optionally "wav_filename").
    labels: int32 [batch, max_label_length], or None in PREDICT mode.
    mode: a `tf.estimator.ModeKeys` value.
    params: a dict of hyper-parameters: num_classes, rnn_hidden_layers,
      rnn_type, is_bidirectional, rnn_hidden_size, use_bias, learning_rate,
      and optionally conv_filters (default 32), learning_rate_decay_steps
      and learning_rate_decay_rate (exponential decay; 0 steps: constant),
      dtype ("float32", "float16" or "bfloat16") and loss_scale (a
      number or "dynamic", for float16).

  Returns:
    A `tf.estimator.EstimatorSpec`.
  """
  input_length = features["input_length"]
  spectrogram = features["features"]
  model = network(params)

  training = mode == tf.estimator.ModeKeys.TRAIN
  # Named so that tests and hooks can see what each replica receives.
  tf.identity(tf.shape(spectrogram)[0], name="replica_batch_size")
  logits = model(spectrogram, training=training)
  ctc_input_length = compute_length_after_conv(
      tf.shape(spectrogram)[1], tf.shape(logits)[1], input_length)

  if mode == tf.estimator.ModeKeys.PREDICT:
    probabilities = tf.nn.softmax(logits)
    lengths = tf.reshape(ctc_input_length, [-1])
    predictions = {
        "classes": tf.argmax(logits, axis=2),
        "probabilities": probabilities,
        "logits": logits,
        "ctc_input_length": lengths,
    }
    export_outputs = {
        tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY:
            tf.estimator.export.PredictOutput({
                "probabilities": probabilities,
                "ctc_input_length": lengths}),
    }
    return tf.estimator.EstimatorSpec(mode=mode, predictions=predictions,
                                      export_outputs=export_outputs)

  loss = tf.reduce_mean(ctc_loss(
      features["label_length"], ctc_input_length, labels, logits))
  loss = tf.identity(loss, name="loss")

  if mode == tf.estimator.ModeKeys.EVAL:
    return tf.estimator.EstimatorSpec(mode=mode, loss=loss)

  global_step = tf.compat.v1.train.get_or_create_global_step()
  # A NaN or infinite loss fails the step before any variable is updated, so
  # the weights (and the next checkpoint) are never poisoned. The message
  # carries the step and the batch's files.
  files = features.get("wav_filename", tf.constant(["<unknown>"]))
  finite = tf.debugging.Assert(
      tf.reduce_all(tf.math.is_finite(loss)),
      [_NON_FINITE_MARKER, "step", global_step, "loss", loss, "files", files],
      summarize=1000)
  learning_rate = params["learning_rate"]
  if params.get("learning_rate_decay_steps"):
    # Smooth exponential decay: the rate halves (for a decay rate of 0.5)
    # every learning_rate_decay_steps steps.
    learning_rate = tf.compat.v1.train.exponential_decay(
        learning_rate, global_step, params["learning_rate_decay_steps"],
        params.get("learning_rate_decay_rate", 0.5))
  tf.identity(learning_rate, name="learning_rate")
  optimizer = tf.compat.v1.train.AdamOptimizer(learning_rate=learning_rate)
  if params.get("dtype") == "float16":
    # Float16 gradients underflow without scaling; the dynamic scale backs
    # off and skips the update when a scaled gradient overflows.
    optimizer = tf.compat.v1.mixed_precision.MixedPrecisionLossScaleOptimizer(
        optimizer, loss_scale=params.get("loss_scale") or "dynamic")
  with tf.control_dependencies([finite]):
    minimize_op = optimizer.minimize(loss, global_step=global_step)
  # Batch norm's moving mean and variance are updated only by these ops.
  update_ops = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
  train_op = tf.group(minimize_op, update_ops)
  return tf.estimator.EstimatorSpec(mode=mode, loss=loss, train_op=train_op)


def serving_input_receiver_fn(num_feature_bins=161):
  """Serving inputs: spectrogram features and their real lengths.

  Returns:
    A `ServingInputReceiver` taking "features" float32 [batch, time, bins, 1]
    and "input_length" int32 [batch, 1].
  """
  inputs = {
      "features": tf.compat.v1.placeholder(
          tf.float32, [None, None, num_feature_bins, 1], name="features"),
      "input_length": tf.compat.v1.placeholder(
          tf.int32, [None, 1], name="input_length"),
  }
  return tf.estimator.export.ServingInputReceiver(inputs, inputs)


def generate_dataset(data_path, sample_rate, window_ms, stride_ms,
                     vocabulary_file, sortagrad, max_audio_sec=None,
                     strict=False):
  """Reads and checks a manifest into a `DeepSpeechDataset`."""
  audio_conf = dataset.AudioConfig(sample_rate=sample_rate,
                                   window_ms=window_ms, stride_ms=stride_ms,
                                   normalize=True)
  data_conf = dataset.DatasetConfig(audio_conf, data_path, vocabulary_file,
                                    sortagrad, max_audio_sec=max_audio_sec,
                                    strict=strict)
  return dataset.DeepSpeechDataset(
      data_conf, time_reduction=deep_speech_model.TIME_REDUCTION)


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


def _distribution(flags_obj, role):
  """(strategy or None, session config or None, number of replicas)."""
  if role is not None:
    if flags_obj.num_cpu_replicas > 1:
      raise ValueError("--num_cpu_replicas simulates devices on one machine; "
                       "it cannot be combined with a TF_CONFIG cluster.")
    strategy = distribution_utils.get_multi_worker_strategy()
    return strategy, None, strategy.num_replicas_in_sync
  num_gpus = flags_core.get_num_gpus(flags_obj)
  if num_gpus == 0 and flags_obj.num_cpu_replicas > 1:
    # Simulated devices, to exercise the multi-device path without GPUs.
    # Graph-mode sessions need device_count, or the first run hangs.
    num_replicas = flags_obj.num_cpu_replicas
    strategy = distribution_utils.get_distribution_strategy(
        0, devices=["/cpu:%d" % i for i in range(num_replicas)])
    return strategy, tf.compat.v1.ConfigProto(
        device_count={"CPU": num_replicas}), num_replicas
  # One device needs no strategy: the Estimator places the graph itself.
  strategy = (distribution_utils.get_distribution_strategy(num_gpus)
              if num_gpus > 1 else None)
  return strategy, None, max(1, num_gpus)


def run_deep_speech(flags_obj):
  """Runs the train/evaluate cycles; returns the list of cycle records.

  With a TF_CONFIG cluster, every machine runs this with the same flags and
  model_dir (a shared directory): they train each cycle together with
  MultiWorkerMirroredStrategy, and the chief alone evaluates, records the
  cycle, writes reports and exports; the others wait for its record.
  """
  role = distribution_utils.multi_worker_role(
      distribution_utils.tf_config_cluster())
  if role is not None:
    # The Estimator drives MultiWorkerMirroredStrategy in graph mode only.
    tf.compat.v1.disable_eager_execution()
    logging.info("TF_CONFIG: task %d of %d in a MultiWorkerMirroredStrategy "
                 "cluster%s.", role.index, role.num_workers,
                 " (the chief)" if role.is_chief else "")
  is_chief = role is None or role.is_chief
  # Seeds Python's `random`, numpy and TensorFlow: Keras initializers draw
  # their seeds from Python's generator, so the graph seed alone (the seed's
  # way) leaves the initial weights random.
  tf.keras.utils.set_random_seed(flags_obj.seed)
  logging.info("Data preprocessing...")
  data_args = dict(sample_rate=flags_obj.sample_rate,
                   window_ms=flags_obj.window_ms,
                   stride_ms=flags_obj.stride_ms,
                   vocabulary_file=flags_obj.vocabulary_file,
                   sortagrad=flags_obj.sortagrad,
                   max_audio_sec=flags_obj.max_audio_sec,
                   strict=flags_obj.strict_data)
  train_speech_dataset = generate_dataset(flags_obj.train_data_dir,
                                          **data_args)
  # The same manifest for both (a common smoke test) is read and checked once.
  if os.path.abspath(flags_obj.eval_data_dir) == os.path.abspath(
      flags_obj.train_data_dir):
    eval_speech_dataset = train_speech_dataset
  else:
    eval_speech_dataset = generate_dataset(flags_obj.eval_data_dir,
                                           **data_args)
  if is_chief:
    report_skipped_rows(train_speech_dataset, eval_speech_dataset,
                        flags_obj.model_dir)

  # Number of label classes. Label string is " abc...xyz'-".
  num_classes = len(train_speech_dataset.speech_labels)

  strategy, session_config, num_replicas = _distribution(flags_obj, role)
  per_device_batch_size = distribution_utils.per_device_batch_size(
      flags_obj.batch_size, num_replicas)

  run_config = tf.estimator.RunConfig(
      train_distribute=strategy, session_config=session_config,
      tf_random_seed=flags_obj.seed,
      save_checkpoints_steps=flags_obj.save_checkpoints_steps,
      save_checkpoints_secs=(None if flags_obj.save_checkpoints_steps
                             else 600),
      keep_checkpoint_max=flags_obj.keep_checkpoint_max,
      log_step_count_steps=flags_obj.log_every_n_steps)
  params = {
      "num_classes": num_classes,
      "rnn_hidden_layers": flags_obj.rnn_hidden_layers,
      "rnn_type": flags_obj.rnn_type,
      "is_bidirectional": flags_obj.is_bidirectional,
      "rnn_hidden_size": flags_obj.rnn_hidden_size,
      "conv_filters": flags_obj.conv_filters,
      "use_bias": flags_obj.use_bias,
      "learning_rate": flags_obj.learning_rate,
      "learning_rate_decay_steps": flags_obj.learning_rate_decay_steps,
      "learning_rate_decay_rate": flags_obj.learning_rate_decay_rate,
      "dtype": _DTYPES[flags_obj.dtype],
      "loss_scale": _loss_scale(flags_obj.loss_scale),
  }
  if (params["dtype"] == "bfloat16" and
      not deep_speech_model.bfloat16_supported()):
    raise ValueError(
        "--dtype=bf16: TensorFlow cannot run bfloat16 convolutions on this "
        "machine (on a CPU without AVX512, oneDNN's custom operations cannot; "
        "TF_ENABLE_ONEDNN_OPTS=0 lets TensorFlow's own kernels emulate them, "
        "slower than fp32). Use --dtype=fp32.")
  emulated = params["dtype"] == "bfloat16" and cpu.bfloat16_emulation_warning()
  if emulated:
    logging.warning("--dtype=bf16: %s Use --dtype=fp32 for speed.", emulated)
  _check_model_dir(flags_obj.model_dir, network(params),
                   train_speech_dataset.num_feature_bins)
  estimator = tf.estimator.Estimator(
      model_fn=model_fn, model_dir=flags_obj.model_dir, config=run_config,
      params=params)

  run_params = dict(params, batch_size=flags_obj.batch_size,
                    train_epochs=flags_obj.train_epochs)
  benchmark_logger = logger.get_benchmark_logger()
  benchmark_logger.log_run_info("deep_speech", "LibriSpeech", run_params,
                                test_id=flags_obj.benchmark_test_id)

  train_hooks = hooks_helper.get_train_hooks(
      flags_obj.hooks, model_dir=flags_obj.model_dir,
      batch_size=flags_obj.batch_size)

  input_fn_eval = functools.partial(
      dataset.input_fn, per_device_batch_size, eval_speech_dataset,
      num_parallel_calls=flags_obj.num_parallel_calls,
      feature_cache_dir=flags_obj.feature_cache_dir)
  boundaries = dataset.bucket_boundaries(train_speech_dataset.entries,
                                         flags_obj.length_buckets)
  augment = augment_lib.Chain(
      augment_lib.Warp(flags_obj.tempo_warp, flags_obj.freq_warp,
                       flags_obj.seed),
      augment_lib.SpecAugment(flags_obj.freq_mask, flags_obj.time_mask,
                              flags_obj.seed))

  fingerprint = train_state.fingerprint(
      train_entries=len(train_speech_dataset.entries),
      batch_size=flags_obj.batch_size, num_replicas=num_replicas,
      epochs_between_evals=flags_obj.epochs_between_evals,
      sortagrad=flags_obj.sortagrad, seed=flags_obj.seed,
      length_buckets=flags_obj.length_buckets)
  if is_chief:
    state = train_state.TrainState.load_or_start(
        flags_obj.model_dir, _current_step(estimator), fingerprint)
  else:
    state = train_state.TrainState.wait_for_chief(flags_obj.model_dir,
                                                  fingerprint)
  schedule = train_state.cycle_epochs(flags_obj.train_epochs,
                                      flags_obj.epochs_between_evals)
  stopper = training_hooks.StopOnSignal()
  for cycle_index, epochs in enumerate(schedule):
    if cycle_index < len(state.cycles):
      record = state.cycles[cycle_index]
      logging.info("Cycle %d/%d already done (step %d, WER %.4f); skipping.",
                   cycle_index + 1, len(schedule), record["global_step"],
                   record[_WER_KEY])
      if _stop_on_wer(flags_obj.wer_threshold, record[_WER_KEY]):
        break
      continue
    logging.info("Starting a training cycle: %d/%d", cycle_index + 1,
                 len(schedule))
    epoch_lists, bucketed, cycle_steps = _cycle_plan(
        train_speech_dataset.entries, epochs, flags_obj,
        per_device_batch_size, num_replicas, boundaries,
        whole_steps=role is not None)
    start_step = state.cycle_start_step()
    done_steps = _current_step(estimator) - start_step
    recorder = training_hooks.LossRecorder()
    train_started = time.time()
    if done_steps < cycle_steps:
      if done_steps > 0:
        logging.info("Resuming the cycle at step %d of %d.", done_steps,
                     cycle_steps)
      input_fn_train = functools.partial(
          dataset.input_fn, per_device_batch_size, train_speech_dataset,
          epochs=epoch_lists, skip_batches=done_steps * num_replicas,
          num_parallel_calls=flags_obj.num_parallel_calls,
          feature_cache_dir=flags_obj.feature_cache_dir,
          bucket_boundaries=boundaries, bucketed=bucketed,
          augment=augment)
      hooks = train_hooks + [stopper, recorder]
      with training_hooks.clear_graph_errors(_NON_FINITE_MARKER):
        if role is None:
          estimator.train(input_fn=input_fn_train, hooks=hooks,
                          max_steps=start_step + cycle_steps)
        else:
          # Estimator.train refuses a TF_CONFIG cluster; train_and_evaluate
          # runs the workers' synchronous training (the cluster has no
          # evaluator task, so its EvalSpec is never used: the chief
          # evaluates below).
          tf.estimator.train_and_evaluate(
              estimator,
              tf.estimator.TrainSpec(input_fn_train,
                                     max_steps=start_step + cycle_steps,
                                     hooks=hooks),
              tf.estimator.EvalSpec(input_fn_eval))
      if stopper.received is not None:
        logging.warning("Interrupted: checkpoint saved at step %d. Run the "
                        "same command to resume.", _current_step(estimator))
        raise KeyboardInterrupt
    train_loss = recorder.mean()
    train_seconds = time.time() - train_started

    if not is_chief:
      state = train_state.TrainState.wait_for_chief(
          flags_obj.model_dir, fingerprint, num_cycles=cycle_index + 1)
      record = state.cycles[cycle_index]
      logging.info("Cycle %d: the chief measured WER %.4f, CER %.4f.",
                   cycle_index + 1, record[_WER_KEY], record[_CER_KEY])
      if _stop_on_wer(flags_obj.wer_threshold, record[_WER_KEY]):
        break
      continue
    logging.info("Starting to evaluate...")
    eval_started = time.time()
    with training_hooks.clear_graph_errors(_NON_FINITE_MARKER):
      eval_results = evaluate_model(
          estimator, eval_speech_dataset.speech_labels,
          eval_speech_dataset.entries, input_fn_eval)
    eval_seconds = time.time() - eval_started
    global_step = _current_step(estimator)
    _log_evaluation(cycle_index + 1, eval_results, train_loss,
                    flags_obj.show_samples)
    metrics = {k: eval_results[k] for k in
               (_WER_KEY, _CER_KEY, "corpus_WER", "corpus_CER")}
    benchmark_logger.log_evaluation_result(dict(metrics,
                                                global_step=global_step))
    state.add_cycle(dict(metrics, cycle=cycle_index + 1,
                         global_step=global_step, train_loss=train_loss,
                         train_seconds=round(train_seconds, 2),
                         eval_seconds=round(eval_seconds, 2)))
    if _stop_on_wer(flags_obj.wer_threshold, eval_results[_WER_KEY]):
      logging.info("WER %.4f reached --wer_threshold=%g: stopping.",
                   eval_results[_WER_KEY], flags_obj.wer_threshold)
      break

  if flags_obj.export_dir and is_chief:
    # The featurizer settings travel with the model, so transcribe.py
    # featurizes audio exactly as training did.
    settings_path = os.path.join(flags_obj.model_dir, EXPORT_SETTINGS_FILE)
    with open(settings_path, "w") as f:
      json.dump({"sample_rate": flags_obj.sample_rate,
                 "window_ms": flags_obj.window_ms,
                 "stride_ms": flags_obj.stride_ms,
                 "speech_labels": train_speech_dataset.speech_labels}, f)
    # The variables are float32 whatever --dtype: a float32 serving graph
    # runs on any machine (bfloat16 needs AVX512 on a CPU, and float16 is
    # slow there).
    exporter = tf.estimator.Estimator(
        model_fn=model_fn, model_dir=flags_obj.model_dir, config=run_config,
        params=dict(params, dtype="float32"))
    export_path = exporter.export_saved_model(
        flags_obj.export_dir, functools.partial(
            serving_input_receiver_fn, train_speech_dataset.num_feature_bins),
        assets_extra={EXPORT_SETTINGS_FILE: settings_path})
    logging.info("Exported the SavedModel to %s",
                 export_path.decode() if isinstance(export_path, bytes)
                 else export_path)
  return state.cycles


def _check_model_dir(model_dir, model, num_feature_bins):
  """Raises ValueError when model_dir's checkpoint is another network."""
  latest = tf.train.latest_checkpoint(model_dir)
  problem = latest and deep_speech_model.checkpoint_mismatch(
      latest, model, num_feature_bins)
  if problem:
    raise ValueError(
        "%s was trained with a different model or features (%s). Use the "
        "flags it was trained with (--rnn_hidden_size, --rnn_hidden_layers, "
        "--rnn_type, --is_bidirectional, --use_bias, --conv_filters, "
        "--window_ms, --sample_rate), or another --model_dir." % (
            latest, problem))


def _cycle_plan(entries, epochs, flags_obj, per_device_batch_size,
                num_replicas, boundaries, whole_steps=False):
  """One cycle's epoch orders, which epochs are bucketed, and its steps.

  Each epoch's order derives from (seed, epoch), so a resumed cycle sees the
  batches the interrupted one would have seen. With whole_steps (several
  workers), the cycle takes only steps that give every replica a batch and
  leaves out the last batches (fewer than the replicas): a worker whose
  input ended early would leave the others waiting in the all-reduce.
  """
  epoch_lists = [dataset.epoch_entries(
      entries, epoch, flags_obj.sortagrad, per_device_batch_size,
      flags_obj.seed, flags_obj.length_buckets) for epoch in epochs]
  bucketed = [dataset.use_buckets(epoch, flags_obj.sortagrad,
                                  flags_obj.length_buckets)
              for epoch in epochs]
  batches = sum(dataset.epoch_num_batches(
      e, per_device_batch_size, boundaries if b else None)
                for e, b in zip(epoch_lists, bucketed))
  # A global step consumes one batch per replica.
  if whole_steps:
    return epoch_lists, bucketed, batches // num_replicas
  return epoch_lists, bucketed, int(math.ceil(batches / float(num_replicas)))


def _log_evaluation(iteration, eval_results, train_loss, show_samples):
  """The seed's `Iteration N: WER = x, CER = y` line, and more detail."""
  logging.info("Iteration {}: WER = {:.4f}, CER = {:.4f}".format(
      iteration, eval_results[_WER_KEY], eval_results[_CER_KEY]))
  logging.info("Iteration {}: corpus WER = {:.4f}, corpus CER = {:.4f}, "
               "mean train loss = {}".format(
                   iteration, eval_results["corpus_WER"],
                   eval_results["corpus_CER"],
                   "%.4f" % train_loss if train_loss is not None else "n/a"))
  pairs = zip(eval_results["targets"], eval_results["decoded"])
  for ref, hyp in list(pairs)[:show_samples]:
    logging.info("  reference : %s\n  prediction: %s", ref, hyp)


# --dtype -> the model's compute dtype.
_DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}


def _loss_scale(value):
  """--loss_scale as a float, "dynamic", or None."""
  if value is None or value == "dynamic":
    return value
  try:
    scale = float(value)
  except ValueError:
    scale = 0.0
  if scale <= 0:
    raise ValueError("--loss_scale must be a positive number or 'dynamic', "
                     "got %r" % value)
  return scale


def _stop_on_wer(threshold, wer):
  """Stops when WER is at or below the threshold (the seed had it inverted)."""
  return model_helpers.past_threshold(threshold, wer, higher_is_better=False)


def _current_step(estimator):
  """The global step of the latest checkpoint (0 before any)."""
  if not estimator.latest_checkpoint():
    return 0
  return int(estimator.get_variable_value(
      tf.compat.v1.GraphKeys.GLOBAL_STEP))


def define_deep_speech_flags():
  """Add flags for run_deep_speech."""
  # Add common flags
  flags_core.define_base(data_dir=False)
  flags_core.define_performance(num_parallel_calls=True, dtype=True,
                                loss_scale=True)
  flags_core.define_benchmark()
  flags.adopt_module_key_flags(flags_core)

  flags_core.set_defaults(
      model_dir="/tmp/deep_speech_model/",
      export_dir="/tmp/deep_speech_saved_model/",
      train_epochs=200,
      batch_size=128,
      hooks="")

  # Deep speech flags
  flags.DEFINE_integer(
      name="seed", default=1,
      help=flags_core.help_wrap("The random seed: weights, shuffling and "
                                "dropout; the same seed on the same machine "
                                "gives the same run."))
  flags.DEFINE_string(
      name="train_data_dir",
      default="/tmp/librispeech_data/test-clean/LibriSpeech/test-clean.csv",
      help=flags_core.help_wrap("The csv file path of train dataset."))
  flags.DEFINE_string(
      name="eval_data_dir",
      default="/tmp/librispeech_data/test-clean/LibriSpeech/test-clean.csv",
      help=flags_core.help_wrap("The csv file path of evaluation dataset."))
  flags.DEFINE_bool(
      name="sortagrad", default=True,
      help=flags_core.help_wrap(
          "If true, sort examples by audio length and perform no "
          "batch_wise shuffling for the first epoch."))
  flags.DEFINE_integer(
      name="sample_rate", default=16000,
      help=flags_core.help_wrap("The sample rate for audio."))
  flags.DEFINE_integer(
      name="window_ms", default=20,
      help=flags_core.help_wrap("The frame length for spectrogram."))
  flags.DEFINE_integer(
      name="stride_ms", default=10,
      help=flags_core.help_wrap("The frame step."))
  flags.DEFINE_string(
      name="vocabulary_file", default=_VOCABULARY_FILE,
      help=flags_core.help_wrap("The file path of vocabulary file."))

  # RNN related flags
  flags.DEFINE_integer(
      name="rnn_hidden_size", default=800,
      help=flags_core.help_wrap("The hidden size of RNNs."))
  flags.DEFINE_integer(
      name="rnn_hidden_layers", default=5,
      help=flags_core.help_wrap("The number of RNN layers."))
  flags.DEFINE_bool(
      name="use_bias", default=True,
      help=flags_core.help_wrap("Use bias in the last fully-connected layer"))
  flags.DEFINE_bool(
      name="is_bidirectional", default=True,
      help=flags_core.help_wrap("If rnn unit is bidirectional"))
  flags.DEFINE_enum(
      name="rnn_type", default="gru",
      enum_values=list(deep_speech_model.SUPPORTED_RNNS.keys()),
      case_sensitive=False,
      help=flags_core.help_wrap("Type of RNN cell."))
  flags.DEFINE_integer(
      name="conv_filters", default=deep_speech_model.DEFAULT_CONV_FILTERS,
      lower_bound=1,
      help=flags_core.help_wrap(
          "Channels of each of the two convolutions (the original's fixed "
          "32). 16 makes a 3x256 model's training step ~1.7x faster on a "
          "CPU."))

  # Training related flags
  flags.DEFINE_float(
      name="learning_rate", default=5e-4,
      help=flags_core.help_wrap("The initial learning rate."))
  flags.DEFINE_integer(
      name="learning_rate_decay_steps", default=0, lower_bound=0,
      help=flags_core.help_wrap(
          "Decay the learning rate exponentially, by "
          "--learning_rate_decay_rate every this many steps (0: constant, as "
          "the original)."))
  flags.DEFINE_float(
      name="learning_rate_decay_rate", default=0.5, lower_bound=0.0,
      upper_bound=1.0,
      help=flags_core.help_wrap(
          "Factor the learning rate is multiplied by every "
          "--learning_rate_decay_steps steps."))

  # Evaluation metrics threshold
  flags.DEFINE_float(
      name="wer_threshold", default=None,
      help=flags_core.help_wrap(
          "If passed, training stops once the evaluation WER is at or below "
          "it. The MLPerf target is 0.23."))

  # Flags this port adds.
  flags.DEFINE_float(
      name="max_audio_sec", default=None,
      help=flags_core.help_wrap(
          "Skip clips longer than this many seconds (they can exhaust "
          "memory); default: no limit."))
  flags.DEFINE_bool(
      name="strict_data", default=False,
      help=flags_core.help_wrap(
          "Fail on the first bad manifest row instead of skipping bad rows "
          "(skipped rows are listed in <model_dir>/skipped_<manifest>.tsv)."))
  flags.DEFINE_integer(
      name="save_checkpoints_steps", default=None,
      help=flags_core.help_wrap(
          "Save a checkpoint every this many steps (default: every 600 s, and "
          "always at the end of each cycle)."))
  flags.DEFINE_integer(
      name="keep_checkpoint_max", default=5,
      help=flags_core.help_wrap("How many recent checkpoints to keep."))
  flags.DEFINE_integer(
      name="log_every_n_steps", default=100,
      help=flags_core.help_wrap("Log the loss and steps/s every this many "
                                "steps."))
  flags.DEFINE_integer(
      name="show_samples", default=3,
      help=flags_core.help_wrap("After each evaluation, log this many "
                                "reference/prediction pairs."))
  flags.DEFINE_string(
      name="feature_cache_dir", default=None,
      help=flags_core.help_wrap(
          "Cache each utterance's features in this directory: computed once, "
          "read back by later epochs, evaluations and runs. Entries are keyed "
          "by the audio file (path, size, mtime) and the featurizer settings, "
          "so changed audio or settings are recomputed. Same numbers as "
          "without the cache."))
  flags.DEFINE_integer(
      name="length_buckets", default=0,
      help=flags_core.help_wrap(
          "If > 0, epochs after the sorted sortagrad epoch shuffle utterances "
          "individually and batch them within this many length buckets "
          "(tf.data group_by_window), instead of shuffling sorted blocks. "
          "Changes batch composition; 0 keeps the original's batch-wise "
          "shuffle."))
  flags.DEFINE_integer(
      name="freq_mask", default=0,
      help=flags_core.help_wrap(
          "SpecAugment for training: mask up to this many frequency bins, "
          "twice per utterance (0: off). Regularizes small corpora."))
  flags.DEFINE_integer(
      name="time_mask", default=0,
      help=flags_core.help_wrap(
          "SpecAugment for training: mask up to this many frames (at most a "
          "fifth of the utterance), twice per utterance (0: off)."))
  flags.DEFINE_float(
      name="tempo_warp", default=0.0,
      help=flags_core.help_wrap(
          "For training: resample each utterance's frames to a random "
          "length within this relative change (0.1: 90-110%%), keeping "
          "enough frames for its transcript (0: off). Mimics speaking-rate "
          "changes; works on cached features."))
  flags.DEFINE_float(
      name="freq_warp", default=0.0,
      help=flags_core.help_wrap(
          "For training: scale each utterance's frequency axis by a random "
          "factor within this relative change (0.1: 0.9-1.1), like vocal "
          "tract length perturbation (0: off)."))
  flags.DEFINE_integer(
      name="num_cpu_replicas", default=0,
      help=flags_core.help_wrap(
          "With --num_gpus=0, train with MirroredStrategy over this many "
          "simulated CPU devices (tests the multi-device path; slower than "
          "one device)."))


def _setup_logging():
  """One log format, INFO level, no deprecation notices from TF internals."""
  logging.set_verbosity(logging.INFO)
  # TensorFlow's logger has its own handler and would print every message a
  # second time; let its records go through absl's handler only.
  tf_logger = tf.get_logger()
  tf_logger.handlers = []
  tf_logger.propagate = True
  warnings.filterwarnings("ignore", message=r"`tf\.layers\.", category=UserWarning)
  # pylint: disable=g-import-not-at-top
  from tensorflow.python.util import deprecation
  deprecation._PRINT_DEPRECATION_WARNINGS = False  # pylint: disable=protected-access


def main(_):
  _setup_logging()
  cpu.enable_onednn_if_unset()
  flags_obj = flags.FLAGS
  try:
    with logger.benchmark_context(flags_obj):
      run_deep_speech(flags_obj)
  except KeyboardInterrupt:
    logging.warning("Interrupted. The last checkpoint stands; run the same "
                    "command to resume.")
    sys.exit(130)
  except (manifest.ManifestError, dataset.DataError, ValueError,
          training_hooks.AudioReadError,
          training_hooks.NonFiniteLossError) as e:
    logging.error("%s", e)
    sys.exit(1)


if __name__ == "__main__":
  define_deep_speech_flags()
  absl_app.run(main)

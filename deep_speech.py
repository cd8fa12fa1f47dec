"""Trains and evaluates DeepSpeech2 with a TensorFlow Estimator.

    python deep_speech.py --train_data_dir=train.csv --eval_data_dir=dev.csv \
        --model_dir=/tmp/deep_speech_model --train_epochs=10

Each cycle batch-wise shuffles the training set (sorted in the first epoch with
--sortagrad), trains --epochs_between_evals passes, decodes the evaluation set
(greedy, and --decoder=beam when asked) and logs `Iteration N: WER = x, CER =
y`; each --extra_eval_data_dir set follows, decoded alike, as `Iteration N
[name]: ...`. Training stops after --train_epochs or once WER (of the
evaluation set) <= --wer_threshold, then exports a SavedModel to
--export_dir. Re-running the same command resumes; --eval_only evaluates a
checkpoint without training.
"""

import os
import sys
import time

from absl import app as absl_app
from absl import flags
from absl import logging
import tensorflow as tf

from common import atomic_file
from common import cpu
from data import dataset
from data import manifest
from decoding import beam_search
import deep_speech_model
from official_utils.logs import logger
from official_utils.misc import distribution_utils
from training import checkpoints
from training import cycles
from training import evaluation
from training import export
from training import fine_tune
from training import flags as port_flags
from training import hooks
from training import inputs
from training import lock
from training import optimizer as optimizer_lib
from training import runtime
from training import settings
from training import summaries


# The seed's name for it, where the seed defined it; the network owns the
# time reduction it describes.
compute_length_after_conv = deep_speech_model.compute_length_after_conv


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
      and optionally conv_filters (default 32), lookahead_context (future
      frames of the lookahead convolution; default 0, none),
      learning_rate_decay_steps and learning_rate_decay_rate (exponential
      decay; 0 steps: constant), dtype ("float32", "float16" or
      "bfloat16"), loss_scale (a number or "dynamic", for float16) and
      trainable_scopes (regular expressions: only the variables whose names
      they match are trained, and only their batch-norm statistics updated;
      None: all).

  Returns:
    A `tf.estimator.EstimatorSpec`.
  """
  input_length = features["input_length"]
  spectrogram = features["features"]
  model = deep_speech_model.from_params(params)

  training = mode == tf.estimator.ModeKeys.TRAIN
  # Named so that tests and hooks can see what each replica receives.
  tf.identity(tf.shape(spectrogram)[0], name="replica_batch_size")
  logits = model(spectrogram, training=training)

  if mode == tf.estimator.ModeKeys.PREDICT:
    predictions = deep_speech_model.predictions(spectrogram, input_length,
                                                logits)
    export_outputs = {
        tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY:
            tf.estimator.export.PredictOutput({
                key: predictions[key]
                for key in ("probabilities", "ctc_input_length")}),
    }
    return tf.estimator.EstimatorSpec(mode=mode, predictions=predictions,
                                      export_outputs=export_outputs)

  ctc_input_length = compute_length_after_conv(
      tf.shape(spectrogram)[1], tf.shape(logits)[1], input_length)
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
      [hooks.NON_FINITE_MARKER, "step", global_step, "loss", loss, "files",
       files],
      summarize=1000)
  optimizer, learning_rate = optimizer_lib.optimizer(params, global_step)
  with tf.control_dependencies([finite]):
    # minimize() in two halves, so the gradients' norm can be summarized.
    grads_and_vars = optimizer.compute_gradients(
        loss, var_list=fine_tune.variables_to_train(
            params.get("trainable_scopes")))
    minimize_op = optimizer.apply_gradients(grads_and_vars,
                                            global_step=global_step)
  summaries.add_training_scalars(learning_rate, grads_and_vars)
  # Batch norm's moving mean and variance are updated only by these ops.
  # They wait for the finiteness check too, or a NaN batch would poison the
  # statistics while the weights stay clean; they were built with the
  # network, before the loss existed, so the dependency is added to each.
  update_ops = fine_tune.update_ops_to_run(params.get("trainable_scopes"))
  for op in update_ops:
    op._add_control_input(finite)  # pylint: disable=protected-access
  train_op = tf.group(minimize_op, update_ops)
  return tf.estimator.EstimatorSpec(mode=mode, loss=loss, train_op=train_op)


def run_deep_speech(flags_obj):
  """Runs the train/evaluate cycles; returns the list of cycle records.

  Each cycle shuffles the training set, trains, evaluates, logs and tests
  the stop threshold, as the original did. A cycle that a previous run of
  the same command finished is skipped, and an interrupted one resumes at
  its checkpoint with the same batches (training/cycles.py).

  With a TF_CONFIG cluster, every machine runs this with the same flags and
  model_dir (a shared directory): they train each cycle together with
  MultiWorkerMirroredStrategy, and the chief alone evaluates, records the
  cycle, writes reports and exports; the others wait for its record.
  """
  started = time.time()
  role = distribution_utils.multi_worker_role(
      distribution_utils.tf_config_cluster())
  is_chief = role is None or role.is_chief
  # Seeds Python's `random`, numpy and TensorFlow: Keras initializers draw
  # their seeds from Python's generator, so the graph seed alone (the seed's
  # way) leaves the initial weights random.
  tf.keras.utils.set_random_seed(flags_obj.seed)

  logging.info("Data preprocessing...")
  train_speech_dataset, eval_speech_dataset = inputs.load_datasets(
      flags_obj.train_data_dir, flags_obj.eval_data_dir,
      **settings.data_args(flags_obj))
  # Every worker reads them, as it reads the dev set, so that a bad one
  # stops the whole cluster alike; only the chief decodes them.
  extra_datasets = settings.extra_eval_datasets(
      flags_obj, train_speech_dataset, eval_speech_dataset)
  decoder_arguments = settings.decoder_args(flags_obj)
  decoders = evaluation.make_decoders(eval_speech_dataset.speech_labels,
                                      decoder_arguments)
  feature_settings = settings.feature_settings(
      flags_obj, train_speech_dataset.speech_labels)
  if is_chief:
    _prepare_model_dir(flags_obj.model_dir, train_speech_dataset,
                       eval_speech_dataset, feature_settings, extra_datasets)
  run = settings.setup_run(flags_obj, role, model_fn,
                           train_speech_dataset, eval_speech_dataset, decoders)
  extra_sets = settings.eval_sets(flags_obj, run.per_device_batch_size,
                                  extra_datasets)
  state = cycles.TrainState.load_or_wait(
      flags_obj.model_dir, cycles.current_step(run.estimator),
      run.fingerprint, is_chief)
  schedule = cycles.cycle_epochs(flags_obj.train_epochs,
                                 flags_obj.epochs_between_evals)

  trained = []  # this run's cycle records, for --max_train_minutes
  for cycle_index, epochs in enumerate(schedule):
    if cycle_index < len(state.cycles):
      record = state.cycles[cycle_index]
      logging.info("Cycle %d/%d already done (step %d, WER %.4f); skipping.",
                   cycle_index + 1, len(schedule), record["global_step"],
                   record[evaluation.WER_KEY])
    else:
      logging.info("Starting a training cycle: %d/%d", cycle_index + 1,
                   len(schedule))
      train_loss, train_seconds = _train_cycle(
          run, state, train_speech_dataset.entries, epochs)
      if is_chief:
        logging.info("Starting to evaluate...")
        record = _evaluate_cycle(run, state, eval_speech_dataset,
                                 cycle_index + 1, train_loss, train_seconds,
                                 time.time() - started, extra_sets)
      else:
        state, record = _chief_record(run, cycle_index)
      trained.append(record)
    if _should_stop(flags_obj, run.decoder_kind, record, trained,
                    cycle_index + 1 == len(schedule)):
      break

  if flags_obj.export_dir and is_chief:
    path = export.export_run(
        model_fn, run.model_dir, run.estimator.config, run.params,
        flags_obj.export_dir, feature_settings,
        train_speech_dataset.num_feature_bins, flags_obj.export_best,
        decoder_arguments)
    logging.info("Exported the SavedModel to %s", path)
  return state.cycles


def _chief_record(run, cycle_index):
  """Waits for the chief's record of a cycle, logs it; (state, record)."""
  state = cycles.TrainState.wait_for_chief(
      run.model_dir, run.fingerprint, num_cycles=cycle_index + 1)
  record = state.cycles[cycle_index]
  logging.info("Cycle %d: the chief measured WER %.4f, CER %.4f.",
               cycle_index + 1, record[evaluation.WER_KEY],
               record[evaluation.CER_KEY])
  return state, record


def _should_stop(flags_obj, decoder_kind, record, trained, last_cycle):
  """The run loop's stop tests after a cycle; logs the reason for a stop.

  --wer_threshold (the original's test) on the cycle's decisive WER, then
  --max_train_minutes on this run's clock.
  """
  wer, label = evaluation.decisive_wer(record, decoder_kind)
  if evaluation.past_wer_threshold(flags_obj.wer_threshold, wer):
    logging.info("WER %.4f (%s) reached --wer_threshold=%g: stopping.",
                 wer, label, flags_obj.wer_threshold)
    return True
  fits, predicted = cycles.time_for_another_cycle(
      flags_obj.max_train_minutes, trained)
  if not fits and not last_cycle:
    logging.info("Stopping after cycle %d: the next would end ~%.1f minutes "
                 "into this run, past --max_train_minutes=%g. Run the same "
                 "command to continue.", record["cycle"], predicted,
                 flags_obj.max_train_minutes)
    return True
  return False


def _prepare_model_dir(model_dir, train_speech_dataset, eval_speech_dataset,
                       feature_settings, extra_datasets=()):
  """The chief's first writes: skipped rows, an intact checkpoint, settings.

  The featurizer settings are written now, not only at export, so that
  `transcribe.py --model_dir` featurizes as training does at any time.
  """
  inputs.report_skipped_rows(train_speech_dataset, eval_speech_dataset,
                             model_dir, extra_datasets)
  # A damaged newest checkpoint: back to the newest intact one.
  checkpoints.recover(model_dir, os.path.join(model_dir, cycles.STATE_FILE))
  export.write_settings(model_dir, feature_settings)


def _train_cycle(run, state, entries, epochs):
  """Trains one cycle (or what is left of it); (mean loss, seconds)."""
  plan = cycles.plan_cycle(
      entries, epochs, run.per_device_batch_size, run.num_replicas,
      run.order.sortagrad, run.order.seed, run.order.length_buckets,
      run.boundaries, whole_steps=run.multi_worker)
  return cycles.train_cycle(
      run.estimator, plan, state.cycle_start_step(), run.make_input_fn,
      run.train_hooks, run.multi_worker, run.input_fn_eval)


def _evaluate_cycle(run, state, eval_speech_dataset, cycle, train_loss,
                    train_seconds, run_seconds, extra_sets=()):
  """Evaluates, records and keeps the best checkpoint; the cycle record.

  `run_seconds` (since this run started, before the evaluation) goes into
  the record with the evaluation's time added, so that every worker's
  --max_train_minutes decision reads the chief's clock.
  """
  record = evaluation.evaluate_cycle(
      run.estimator, run.input_fn_eval, eval_speech_dataset, cycle,
      train_loss, train_seconds, run.show_samples, run.decoders,
      run.model_dir, extra_sets)
  record["run_seconds"] = round(run_seconds + record["eval_seconds"], 2)
  state.add_cycle(record)
  checkpoints.keep_if_best(
      run.model_dir, run.estimator.latest_checkpoint(),
      *evaluation.decisive_wer(record, run.decoder_kind))
  return record


def run_eval_only(flags_obj):
  """--eval_only: evaluates a checkpoint; returns (results, report path).

  Takes no lock and moves nothing: a training run may go on beside it.
  """
  tf.keras.utils.set_random_seed(flags_obj.seed)
  eval_speech_dataset = inputs.generate_dataset(
      flags_obj.eval_data_dir, **settings.data_args(flags_obj))
  extra_sets = settings.eval_sets(
      flags_obj, flags_obj.batch_size,
      settings.extra_eval_datasets(flags_obj, eval_speech_dataset))
  labels = eval_speech_dataset.speech_labels
  decoders = evaluation.make_decoders(labels,
                                      settings.decoder_args(flags_obj))
  checkpoint = settings.checkpoint_to_evaluate(flags_obj)
  params = settings.model_params(flags_obj, len(labels))
  settings.check_before_training(
      flags_obj, params, deep_speech_model.from_params(params),
      eval_speech_dataset.num_feature_bins, checkpoint)
  estimator = tf.estimator.Estimator(
      model_fn=model_fn, model_dir=flags_obj.model_dir, params=params,
      config=tf.estimator.RunConfig(tf_random_seed=flags_obj.seed))
  return evaluation.evaluate_checkpoint(
      estimator, checkpoint, settings.eval_input_fn(
          flags_obj, flags_obj.batch_size, eval_speech_dataset),
      eval_speech_dataset, decoders, flags_obj.model_dir,
      flags_obj.show_samples, extra_sets)


def main(_):
  runtime.setup_logging()
  cpu.enable_onednn_if_unset()
  flags_obj = flags.FLAGS
  try:
    # Checked before anything is read or written: TensorFlow itself would
    # fail on a malformed TF_CONFIG only after the data were read.
    tf_config = distribution_utils.tf_config_cluster()
    role = distribution_utils.multi_worker_role(tf_config)
  except ValueError as e:
    logging.error("%s", e)
    sys.exit(1)
  if tf_config:
    # The Estimator drives MultiWorkerMirroredStrategy in graph mode only.
    tf.compat.v1.disable_eager_execution()
  if role is not None:
    logging.info("TF_CONFIG: task %d of %d in a MultiWorkerMirroredStrategy "
                 "cluster%s.", role.index, role.num_workers,
                 " (the chief)" if role.is_chief else "")
  try:
    if flags_obj.eval_only:  # a reader: no lock, nothing rolled back
      run_eval_only(flags_obj)
      return
    # One run per model directory; each task of a cluster locks its own file.
    with lock.RunLock(flags_obj.model_dir, role and role.index), \
        logger.benchmark_context(flags_obj):
      run_deep_speech(flags_obj)
  except KeyboardInterrupt:
    logging.warning("Interrupted. The last checkpoint stands; run the same "
                    "command to resume.")
    sys.exit(130)
  except (manifest.ManifestError, dataset.DataError, ValueError,
          hooks.AudioReadError, hooks.NonFiniteLossError, lock.LockedError,
          atomic_file.WriteError, hooks.CheckpointWriteError,
          beam_search.DecoderLibraryError) as e:
    logging.error("%s", e)
    sys.exit(1)


if __name__ == "__main__":
  port_flags.define_deep_speech_flags()
  # `--help` lists the flags defined in training/flags.py as this program's.
  flags.adopt_module_key_flags(port_flags)
  absl_app.run(main)

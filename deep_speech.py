"""Trains and evaluates DeepSpeech2 with a TensorFlow Estimator.

    python deep_speech.py --train_data_dir=train.csv --eval_data_dir=dev.csv \
        --model_dir=/tmp/deep_speech_model --train_epochs=10

Each cycle batch-wise shuffles the training set (sorted in the first epoch with
--sortagrad), trains --epochs_between_evals passes, greedy-decodes the
evaluation set and logs `Iteration N: WER = x, CER = y`. Training stops after
--train_epochs or once WER <= --wer_threshold, then exports a SavedModel to
--export_dir. Re-running the same command resumes from the last checkpoint.
"""

import collections
import functools
import os
import sys
import warnings

from absl import app as absl_app
from absl import flags
from absl import logging
import tensorflow as tf

from data import augment as augment_lib
from data import dataset
from data import manifest
from data import sampler
import deep_speech_model
from official_utils.flags import core as flags_core
from official_utils.logs import hooks_helper
from official_utils.logs import logger
from official_utils.misc import distribution_utils
from official_utils.misc import model_helpers
from data import atomic_file
from training import checkpoints
from training import cycles
from training import evaluation
from training import export
from training import flags as port_flags
from training import hooks
from training import inputs
from training import lock
from training import runtime
from training import summaries

# Evaluation metric keys.
_WER_KEY = "WER"
_CER_KEY = "CER"


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
      [hooks.NON_FINITE_MARKER, "step", global_step, "loss", loss, "files",
       files],
      summarize=1000)
  optimizer, learning_rate = _optimizer(params, global_step)
  with tf.control_dependencies([finite]):
    # minimize() in two halves, so the gradients' norm can be summarized.
    grads_and_vars = optimizer.compute_gradients(loss)
    minimize_op = optimizer.apply_gradients(grads_and_vars,
                                            global_step=global_step)
  summaries.add_training_scalars(learning_rate, grads_and_vars)
  # Batch norm's moving mean and variance are updated only by these ops.
  # They wait for the finiteness check too, or a NaN batch would poison the
  # statistics while the weights stay clean; they were built with the
  # network, before the loss existed, so the dependency is added to each.
  update_ops = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
  for op in update_ops:
    op._add_control_input(finite)  # pylint: disable=protected-access
  train_op = tf.group(minimize_op, update_ops)
  return tf.estimator.EstimatorSpec(mode=mode, loss=loss, train_op=train_op)


def _optimizer(params, global_step):
  """Adam at params' learning rate (decayed if asked); (optimizer, rate)."""
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
  return optimizer, learning_rate


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
      **port_flags.data_args(flags_obj))
  if is_chief:
    inputs.report_skipped_rows(train_speech_dataset, eval_speech_dataset,
                               flags_obj.model_dir)
  if is_chief:  # a damaged newest checkpoint: back to the newest intact one
    checkpoints.recover(flags_obj.model_dir, os.path.join(
        flags_obj.model_dir, cycles.STATE_FILE))
  run = _setup_run(flags_obj, role, train_speech_dataset, eval_speech_dataset)
  state = cycles.TrainState.load_or_wait(
      flags_obj.model_dir, cycles.current_step(run.estimator),
      run.fingerprint, is_chief)
  schedule = cycles.cycle_epochs(flags_obj.train_epochs,
                                 flags_obj.epochs_between_evals)

  for cycle_index, epochs in enumerate(schedule):
    if cycle_index < len(state.cycles):
      record = state.cycles[cycle_index]
      logging.info("Cycle %d/%d already done (step %d, WER %.4f); skipping.",
                   cycle_index + 1, len(schedule), record["global_step"],
                   record[_WER_KEY])
    else:
      logging.info("Starting a training cycle: %d/%d", cycle_index + 1,
                   len(schedule))
      plan = cycles.plan_cycle(
          train_speech_dataset.entries, epochs, run.per_device_batch_size,
          run.num_replicas, flags_obj.sortagrad, flags_obj.seed,
          flags_obj.length_buckets, run.boundaries,
          whole_steps=role is not None)
      train_loss, train_seconds = cycles.train_cycle(
          run.estimator, plan, state.cycle_start_step(), run.make_input_fn,
          run.train_hooks, role is not None, run.input_fn_eval)
      if is_chief:
        logging.info("Starting to evaluate...")
        record = evaluation.evaluate_cycle(
            run.estimator, run.input_fn_eval, eval_speech_dataset, cycle_index + 1,
                                 train_loss, train_seconds,
                                 flags_obj.show_samples)
        state.add_cycle(record)
        checkpoints.keep_if_best(flags_obj.model_dir,
                                 run.estimator.latest_checkpoint(),
                                 record[_WER_KEY])
      else:
        # The chief evaluates; this worker learns the result from its record.
        state = cycles.TrainState.wait_for_chief(
            flags_obj.model_dir, run.fingerprint, num_cycles=cycle_index + 1)
        record = state.cycles[cycle_index]
        logging.info("Cycle %d: the chief measured WER %.4f, CER %.4f.",
                     cycle_index + 1, record[_WER_KEY], record[_CER_KEY])
    if _stop_on_wer(flags_obj.wer_threshold, record[_WER_KEY]):
      logging.info("WER %.4f reached --wer_threshold=%g: stopping.",
                   record[_WER_KEY], flags_obj.wer_threshold)
      break

  if flags_obj.export_dir and is_chief:
    best, best_record = (checkpoints.best_checkpoint(flags_obj.model_dir)
                         if flags_obj.export_best else (None, None))
    path = export.export_model(
        model_fn, flags_obj.model_dir, run.estimator.config, run.params,
        flags_obj.export_dir,
        dict({"sample_rate": flags_obj.sample_rate,
              "window_ms": flags_obj.window_ms,
              "stride_ms": flags_obj.stride_ms,
              "speech_labels": train_speech_dataset.speech_labels},
             **({"best_step": best_record["step"],
                 "best_WER": best_record["WER"]} if best else {})),
        train_speech_dataset.num_feature_bins, checkpoint_path=best)
    logging.info("Exported the SavedModel to %s", path)
  return state.cycles


# What the cycles of one run share: the Estimator, its params, the batch
# layout, the input functions and the hooks.
_Run = collections.namedtuple("_Run", [
    "estimator", "params", "num_replicas", "per_device_batch_size",
    "boundaries", "make_input_fn", "input_fn_eval", "train_hooks",
    "fingerprint"])


def _setup_run(flags_obj, role, train_speech_dataset, eval_speech_dataset):
  """The Estimator and the rest of a `_Run`, from the flags."""
  strategy, session_config, num_replicas = runtime.distribution(
      role, flags_core.get_num_gpus(flags_obj), flags_obj.num_cpu_replicas)
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
  params = port_flags.model_params(flags_obj,
                                   len(train_speech_dataset.speech_labels))
  _check_before_training(flags_obj, params,
                         train_speech_dataset.num_feature_bins)
  estimator = tf.estimator.Estimator(
      model_fn=model_fn, model_dir=flags_obj.model_dir, config=run_config,
      params=params)
  logger.get_benchmark_logger().log_run_info(
      "deep_speech", "LibriSpeech",
      dict(params, batch_size=flags_obj.batch_size,
           train_epochs=flags_obj.train_epochs),
      test_id=flags_obj.benchmark_test_id)

  pipeline = dict(num_parallel_calls=flags_obj.num_parallel_calls,
                  feature_cache_dir=flags_obj.feature_cache_dir)
  boundaries = sampler.bucket_boundaries(train_speech_dataset.entries,
                                         flags_obj.length_buckets)
  try:
    warp = augment_lib.Warp(flags_obj.tempo_warp, flags_obj.freq_warp,
                            flags_obj.seed)
  except ValueError as e:
    raise ValueError("--tempo_warp, --freq_warp: %s" % e) from None
  augment = augment_lib.Chain(
      warp, augment_lib.SpecAugment(flags_obj.freq_mask, flags_obj.time_mask,
                              flags_obj.seed))
  return _Run(
      estimator, params, num_replicas, per_device_batch_size, boundaries,
      functools.partial(inputs.train_input_fn, train_speech_dataset,
                        per_device_batch_size, num_replicas, boundaries,
                        augment, **pipeline),
      functools.partial(dataset.input_fn, per_device_batch_size,
                        eval_speech_dataset, **pipeline),
      hooks_helper.get_train_hooks(flags_obj.hooks,
                                   model_dir=flags_obj.model_dir,
                                   batch_size=flags_obj.batch_size),
      cycles.fingerprint(
          train_entries=len(train_speech_dataset.entries),
          batch_size=flags_obj.batch_size, num_replicas=num_replicas,
          epochs_between_evals=flags_obj.epochs_between_evals,
          sortagrad=flags_obj.sortagrad, seed=flags_obj.seed,
          length_buckets=flags_obj.length_buckets))


def _check_before_training(flags_obj, params, num_feature_bins):
  """Stops with a message in flag terms before anything would fail later."""
  try:
    runtime.check_dtype(params["dtype"])
  except ValueError as e:
    raise ValueError("--dtype=%s: %s. Use --dtype=fp32." % (
        flags_obj.dtype, e)) from None
  try:
    runtime.check_model_dir(flags_obj.model_dir, network(params),
                            num_feature_bins)
  except runtime.CheckpointMismatchError as e:
    raise ValueError(
        "%s. Use the flags it was trained with (--rnn_hidden_size, "
        "--rnn_hidden_layers, --rnn_type, --is_bidirectional, --use_bias, "
        "--conv_filters, --window_ms, --sample_rate), or another "
        "--model_dir." % e) from None


def _stop_on_wer(threshold, wer):
  """Stops when WER is at or below the threshold (the seed had it inverted)."""
  return model_helpers.past_threshold(threshold, wer, higher_is_better=False)


def setup_logging():
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
  setup_logging()
  flags_obj = flags.FLAGS
  if distribution_utils.tf_config_cluster():
    # The Estimator drives MultiWorkerMirroredStrategy in graph mode only.
    tf.compat.v1.disable_eager_execution()
  role = distribution_utils.multi_worker_role(
      distribution_utils.tf_config_cluster())
  try:
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
          atomic_file.WriteError, checkpoints.CheckpointWriteError) as e:
    logging.error("%s", e)
    sys.exit(1)


if __name__ == "__main__":
  port_flags.define_deep_speech_flags()
  # `--help` lists the flags defined in training/flags.py as this program's.
  flags.adopt_module_key_flags(port_flags)
  absl_app.run(main)

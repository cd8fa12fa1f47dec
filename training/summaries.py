"""TensorBoard summaries of a run: training scalars and each cycle's evaluation.

Everything is written with TensorFlow's own summary ops, so a stock
`tensorboard --logdir=<model_dir>` shows it:

  * in `<model_dir>` (the Estimator's own events): "loss" and
    "global_step/sec" from the Estimator, "learning_rate" and
    "gradient_norm" from `add_training_scalars` (called in model_fn's TRAIN
    branch), "examples/sec" from `ExamplesPerSecondSummaryHook`;
  * in `<model_dir>/eval`, at the global step each cycle ended on, from
    `write_eval_summaries`: "WER", "CER", "corpus_WER", "corpus_CER" (and
    "<decoder>/WER" ... per decoder when there are several), a table of a few
    reference / prediction pairs, one spectrogram image and its transcript;
    each extra evaluation set's the same under its name ("uqm-dev/WER",
    "uqm-dev/beam/WER", "uqm-dev/samples", ...).
"""

import numpy as np
import tensorflow as tf

EVAL_SUBDIR = "eval"


def _first_replica():
  """False on the other replicas of a distribution strategy.

  The replicas see the same weights, so one copy of each summary is enough
  (and two with one tag would fail the Estimator's merged summary op).
  """
  context = tf.distribute.get_replica_context()
  if context is None:  # Cross-replica context: a single copy already.
    return True
  replica_id = tf.get_static_value(context.replica_id_in_sync_group)
  return replica_id is None or int(replica_id) == 0


def _scalar_summary(tag, value):
  """A v1 scalar summary whose tag is exactly `tag`.

  `tf.compat.v1.summary.scalar` tags a summary with its unique op name, so
  next to model_fn's tensor named "learning_rate" it would show up in
  TensorBoard as "learning_rate_1".
  """
  summary = tf.raw_ops.ScalarSummary(
      tags=tag, values=tf.cast(value, tf.float32),
      name=tag.replace("/", "_") + "_summary")
  tf.compat.v1.add_to_collection(tf.compat.v1.GraphKeys.SUMMARIES, summary)
  return summary


def add_training_scalars(learning_rate, grads_and_vars):
  """Adds the learning rate and the global gradient norm as v1 summaries.

  Called inside model_fn's TRAIN branch; the Estimator's summary saver
  writes them to model_dir every `save_summary_steps`, tagged
  "learning_rate" and "gradient_norm".

  Args:
    learning_rate: a float or scalar tensor, the optimizer's rate.
    grads_and_vars: the optimizer's `compute_gradients` result; None
      gradients (variables the loss does not reach) are left out.

  Returns:
    The scalar gradient-norm tensor (the L2 norm of all gradients together).
  """
  gradients = [g for g, _ in grads_and_vars if g is not None]
  gradient_norm = tf.linalg.global_norm(gradients)
  if _first_replica():
    _scalar_summary("learning_rate", learning_rate)
    _scalar_summary("gradient_norm", gradient_norm)
  return gradient_norm


class ExamplesPerSecondSummaryHook(tf.estimator.SessionRunHook):
  """Writes "examples/sec" (global batch size x steps/s) to model_dir.

  The Estimator's own "global_step/sec" sits beside it; examples/s stays
  comparable across batch sizes and replica counts.

  Args:
    batch_size: the global batch size (all replicas together).
    output_dir: the model directory (the Estimator's event files).
    every_n_steps: steps between two summaries.
  """

  def __init__(self, batch_size, output_dir, every_n_steps=100):
    self._batch_size = batch_size
    self._output_dir = output_dir
    self._timer = tf.compat.v1.train.SecondOrStepTimer(
        every_steps=every_n_steps)
    self._writer = None
    self._global_step = None

  def begin(self):
    # The cache hands out the writer the Estimator's summary hooks use, so
    # everything lands in one event file.
    self._writer = tf.compat.v1.summary.FileWriterCache.get(self._output_dir)
    self._global_step = tf.compat.v1.train.get_global_step()
    if self._global_step is None:
      raise RuntimeError("ExamplesPerSecondSummaryHook needs a global step.")

  def before_run(self, run_context):  # pylint: disable=unused-argument
    return tf.estimator.SessionRunArgs(self._global_step)

  def after_run(self, run_context, run_values):  # pylint: disable=unused-argument
    # The step was read before this step ran; it has now finished.
    global_step = int(run_values.results) + 1
    if not self._timer.should_trigger_for_step(global_step):
      return
    elapsed_s, elapsed_steps = self._timer.update_last_triggered_step(
        global_step)
    if elapsed_s:
      rate = self._batch_size * elapsed_steps / elapsed_s
      summary = tf.compat.v1.Summary(value=[tf.compat.v1.Summary.Value(
          tag="examples/sec", simple_value=rate)])
      self._writer.add_summary(summary, global_step)

  def end(self, session):  # pylint: disable=unused-argument
    if self._writer is not None:
      self._writer.flush()


def decoder_metrics(per_decoder):
  """Flattens per-decoder results into summary names.

  Args:
    per_decoder: an ordered dict, decoder name -> dict of metric name ->
      float (e.g. {"greedy": {"WER": .3, "CER": .1}}); the first decoder is
      the run's main one.

  Returns:
    A dict: the first decoder's metrics under their plain names ("WER"),
    and, when there are several decoders, every decoder's metrics as
    "<decoder>/<metric>" ("greedy/WER", "beam/WER").
  """
  if not per_decoder:
    return {}
  metrics = dict(next(iter(per_decoder.values())))
  if len(per_decoder) > 1:
    for name, values in per_decoder.items():
      metrics.update({"%s/%s" % (name, k): v for k, v in values.items()})
  return metrics


def _markdown_cell(text):
  # The text plugin renders markdown: a "|" would split the cell.
  return text.replace("\\", "\\\\").replace("|", "\\|") or " "


def _samples_table(samples):
  """A markdown table of (reference, prediction) pairs."""
  rows = ["| reference | prediction |", "|---|---|"]
  rows += ["| %s | %s |" % (_markdown_cell(ref), _markdown_cell(pred))
           for ref, pred in samples]
  return "\n".join(rows)


def spectrogram_image(spectrogram):
  """A log spectrogram as a grey image, low frequencies at the bottom.

  Args:
    spectrogram: float array [frames, bins].

  Returns:
    float32 [1, bins, frames, 1] in [0, 1]; the 1st and 99th percentiles
    span the range, so a few loud frames do not flatten the rest.
  """
  values = np.asarray(spectrogram, dtype=np.float64)
  if values.ndim != 2 or not values.size:
    raise ValueError("A spectrogram must be a non-empty [frames, bins] array, "
                     "got shape %s." % (values.shape,))
  low, high = np.percentile(values, [1, 99])
  scaled = np.clip((values - low) / max(high - low, 1e-9), 0.0, 1.0)
  return scaled.T[::-1][np.newaxis, :, :, np.newaxis].astype(np.float32)


def _eval_summary_ops(global_step, metrics, samples, spectrogram, transcript,
                      tag_prefix):
  """Runs (eagerly) or builds (in a graph) the summaries of one evaluation."""
  def tag(name):
    return "%s/%s" % (tag_prefix, name) if tag_prefix else name

  ops = [tf.summary.scalar(tag(name), float(value), step=global_step)
         for name, value in sorted(metrics.items())]
  if samples:
    ops.append(tf.summary.text(tag("samples"), _samples_table(samples),
                               step=global_step))
  if spectrogram is not None:
    ops.append(tf.summary.image(
        tag("spectrogram"), spectrogram_image(spectrogram), step=global_step,
        description=transcript or None))
    ops.append(tf.summary.text(tag("spectrogram_transcript"),
                               transcript or "", step=global_step))
  return ops


def write_eval_summaries(eval_dir, global_step, metrics, samples=(),
                         spectrogram=None, transcript=None, tag_prefix=None):
  """Writes one cycle's evaluation to `eval_dir` at `global_step`.

  Args:
    eval_dir: the directory TensorBoard shows as the "eval" run, normally
      `<model_dir>/eval`.
    global_step: int, the step the evaluated checkpoint was saved at.
    metrics: dict, summary name -> float (see `decoder_metrics`).
    samples: a few (reference, prediction) string pairs.
    spectrogram: float array [frames, bins] of one utterance, or None.
    transcript: that utterance's reference transcript.
    tag_prefix: an extra evaluation set's name, put before every tag so
      that its figures sit beside the dev set's in the same run; None for
      the dev set.
  """
  args = (int(global_step), metrics, samples, spectrogram, transcript,
          tag_prefix)
  if tf.executing_eagerly():
    writer = tf.summary.create_file_writer(eval_dir)
    with writer.as_default():
      _eval_summary_ops(*args)
    writer.close()
    return
  # A multi-worker run disables eager execution: run the same summaries in
  # a graph of their own, through a tf.function so that the summary ops'
  # own checks run too (automatic control dependencies).
  with tf.Graph().as_default():
    writer = tf.summary.create_file_writer(eval_dir)

    @tf.function
    def write():
      with writer.as_default():
        _eval_summary_ops(*args)
      return tf.constant(True)

    written = write()
    with tf.compat.v1.Session() as sess:
      sess.run(writer.init())
      sess.run(written)
      sess.run(writer.close())

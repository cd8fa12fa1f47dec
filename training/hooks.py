"""Session hooks the training loop uses, and the non-finite loss error.

  * `StopOnSignal`: Ctrl-C or SIGTERM ends training after the current step
    through `request_stop`, so the Estimator saves its final checkpoint.
  * `LossRecorder`: keeps every step's loss, for the cycle's mean loss.
  * `explain_graph_errors`: turns the in-graph checks' errors (a non-finite
    loss, unreadable audio) into `NonFiniteLossError` / `AudioReadError` with
    plain messages, and a checkpoint save that failed on a full disk into a
    `CheckpointWriteError` (worded by `write_error_message`).
"""

import contextlib
import errno
import re
import signal

from absl import logging
import tensorflow as tf

from data import dataset

# model_fn's in-graph finiteness check starts its message with this, so that
# its error is recognised.
NON_FINITE_MARKER = "DEEP_SPEECH_NON_FINITE_LOSS"


class StopOnSignal(tf.estimator.SessionRunHook):
  """Ends training after the current step when SIGINT/SIGTERM arrives.

  A second signal interrupts at once (KeyboardInterrupt). `received` holds
  the first signal number, or None.
  """

  def __init__(self):
    self.received = None
    self._previous = {}

  def _handler(self, signum, frame):  # pylint: disable=unused-argument
    if self.received is not None:
      raise KeyboardInterrupt
    self.received = signum
    logging.warning("Signal %d received: stopping after this step and "
                    "saving a checkpoint (send it again to stop at once).",
                    signum)

  def begin(self):
    for sig in (signal.SIGINT, signal.SIGTERM):
      self._previous[sig] = signal.signal(sig, self._handler)

  def after_run(self, run_context, run_values):  # pylint: disable=unused-argument
    if self.received is not None:
      run_context.request_stop()

  def end(self, session):  # pylint: disable=unused-argument
    for sig, handler in self._previous.items():
      signal.signal(sig, handler)
    self._previous = {}


class LossRecorder(tf.estimator.SessionRunHook):
  """Collects the loss (the tensor named "loss") of every step."""

  def __init__(self):
    self.losses = []

  def before_run(self, run_context):  # pylint: disable=unused-argument
    return tf.estimator.SessionRunArgs(
        tf.compat.v1.get_default_graph().get_tensor_by_name("loss:0"))

  def after_run(self, run_context, run_values):  # pylint: disable=unused-argument
    self.losses.append(float(run_values.results))

  def mean(self):
    """Mean loss of the recorded steps, or None if none ran."""
    return sum(self.losses) / len(self.losses) if self.losses else None


class NonFiniteLossError(RuntimeError):
  """Training produced a NaN or infinite loss."""


def non_finite_message(error, marker):
  """Turns the in-graph assertion's error into a readable message.

  Args:
    error: the `tf.errors.InvalidArgumentError` raised by the step.
    marker: the string `model_fn` put first in the assertion's data.

  Returns:
    One line: the step, the loss, that the checkpoint is intact, and the
    batch's files (as the assertion printed them, space-separated).
  """
  text = getattr(error, "message", None) or str(error)
  text = text.split(marker, 1)[-1].split("\n\t [[")[0].strip()
  # The assertion prints each datum in brackets:
  # "] [step] [3] [loss] [nan] [files] [/a.wav /b.wav]".
  match = re.match(r"\]\s*\[step\] \[(\d+)\] \[loss\] \[([^\]]*)\] "
                   r"\[files\] \[(.*)\]$", text, re.S)
  if not match:
    return ("Training stopped: the loss is not finite (NaN or infinite). The "
            "weights were not updated and the last checkpoint is intact. "
            "Step, loss and the batch's files: %s" % text)
  step, loss, files = match.groups()
  return ("Training stopped at step %s: the loss is not finite (%s). The "
          "weights were not updated and the last checkpoint is intact. The "
          "batch's files: %s" % (step, loss, files.replace("\n", " ")))


class AudioReadError(RuntimeError):
  """An audio file could not be read during training or evaluation."""


class CheckpointWriteError(OSError):
  """A checkpoint could not be written (a full disk); names the file."""

  def __str__(self):
    return self.strerror


# TensorFlow's errors end "<path>; <strerror>" for a failed write.
_DISK_FULL_TEXTS = ("No space left on device", "File too large",
                    "Disk quota exceeded")


def write_error_message(error):
  """'disk full while writing <path>' for a failed save, or None.

  Args:
    error: an exception from a training or export step. A checkpoint save
      writes `<prefix>_temp/part-...` and renames it, so a failed save
      leaves the previous checkpoint as the newest; the message names the
      checkpoint prefix rather than the temporary file.
  """
  text = getattr(error, "message", None) or str(error)
  for reason in _DISK_FULL_TEXTS:
    match = re.search(r"([^\s';\"]+); %s" % reason, text)
    if match:
      path = re.sub(r"_temp[/\\].*$", "", match.group(1))
      return ("disk full while writing %s (%s). The previous checkpoint is "
              "intact; free some space and run the same command to resume."
              % (path, reason))
  return None


@contextlib.contextmanager
def explain_graph_errors(non_finite_marker=NON_FINITE_MARKER):
  """Turns the in-graph checks' errors into exceptions with plain messages.

  Args:
    non_finite_marker: the string model_fn's finiteness assertion starts with.

  Raises:
    NonFiniteLossError: for a NaN or infinite loss.
    AudioReadError: for audio that could not be read in the pipeline.
    CheckpointWriteError: a save failed on a full disk.
  """
  try:
    yield
  except (tf.errors.ResourceExhaustedError, tf.errors.OutOfRangeError) as e:
    message = write_error_message(e)
    if message is None:
      raise
    raise CheckpointWriteError(errno.ENOSPC, message) from None
  except tf.errors.InvalidArgumentError as e:
    text = str(e)
    if non_finite_marker in text:
      raise NonFiniteLossError(
          non_finite_message(e, non_finite_marker)) from None
    if dataset.AUDIO_ERROR_MARKER in text:
      detail = text.split(dataset.AUDIO_ERROR_MARKER, 1)[1]
      detail = detail.split("\n")[0].strip(" ]").lstrip("] [")
      detail = detail.replace("\\'", "'").rstrip(".")
      raise AudioReadError(
          "Stopped: cannot read %s. The file changed since the manifest was "
          "checked; fix or remove it (python data/validate.py finds such "
          "rows) and run the same command to resume from the last "
          "checkpoint." % detail) from None
    raise

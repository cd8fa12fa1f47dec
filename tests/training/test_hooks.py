"""Tests for training/hooks.py: signals, the loss record, graph errors."""

import os
import signal

import pytest
import tensorflow as tf

from data import dataset as dataset_lib
from data import featurizer
from data import vocabulary
from training import hooks
from training import inputs


class _Context(object):
  stopped = False

  def request_stop(self):
    self.stopped = True


def test_a_signal_stops_after_the_current_step():
  stopper = hooks.StopOnSignal()
  stopper.begin()
  try:
    os.kill(os.getpid(), signal.SIGTERM)
    assert stopper.received == signal.SIGTERM
    context = _Context()
    stopper.after_run(context, None)
    assert context.stopped
    # A second signal stops at once.
    with pytest.raises(KeyboardInterrupt):
      os.kill(os.getpid(), signal.SIGTERM)
  finally:
    stopper.end(None)
  assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_loss_recorder_means_the_steps_it_saw():
  recorder = hooks.LossRecorder()
  assert recorder.mean() is None
  for loss in (3.0, 1.0):
    recorder.after_run(None, tf.estimator.SessionRunValues(loss, None, None))
  assert recorder.mean() == 2.0


def test_non_finite_loss_message_names_step_loss_and_files():
  text = ("%s] [step] [12] [loss] [nan] [files] [/a.wav /b.wav]\n\t [[x]]"
          % hooks.NON_FINITE_MARKER)
  error = tf.errors.InvalidArgumentError(None, None, text)
  message = hooks.non_finite_message(error, hooks.NON_FINITE_MARKER)
  assert message.startswith("Training stopped at step 12: the loss is not "
                            "finite (nan).")
  assert message.endswith("The batch's files: /a.wav /b.wav")


def test_graph_errors_become_plain_exceptions():
  text = "%s] [step] [1] [loss] [inf] [files] [x.wav]" % (
      hooks.NON_FINITE_MARKER)
  with pytest.raises(hooks.NonFiniteLossError, match="step 1"):
    with hooks.explain_graph_errors():
      raise tf.errors.InvalidArgumentError(None, None, text)
  # Other errors pass unchanged.
  with pytest.raises(tf.errors.InvalidArgumentError, match="other"):
    with hooks.explain_graph_errors():
      raise tf.errors.InvalidArgumentError(None, None, "other")


def test_write_error_message_ignores_other_errors():
  assert hooks.write_error_message(ValueError("bad")) is None
  error = tf.errors.ResourceExhaustedError(
      None, None, "/m/model.ckpt-7_temp/part-00000-of-00001.data-00000-of-"
      "00001.tempstate1; No space left on device\n\t [[{{node save/SaveV2}}]]")
  assert hooks.write_error_message(error).startswith(
      "disk full while writing /m/model.ckpt-7 (No space left on device)")
  # explain_graph_errors raises it as the error the CLI reports in one line.
  with pytest.raises(hooks.CheckpointWriteError,
                     match="^disk full while writing /m/model.ckpt-7 "):
    with hooks.explain_graph_errors():
      raise error


def test_audio_unreadable_after_the_check_is_a_clear_error(corpus):
  speech = inputs.generate_dataset(
      corpus, featurizer.AudioFeaturizer(), vocabulary.VOCABULARY_FILE, True)
  victim = speech.entries[1].wav_filename
  with open(victim, "wb") as f:
    f.write(b"not audio any more")
  with pytest.raises(hooks.AudioReadError) as info:
    with hooks.explain_graph_errors(hooks.NON_FINITE_MARKER):
      for _ in dataset_lib.input_fn(4, speech):
        pass
  message = str(info.value)
  assert victim in message and "Format not recognised" in message
  assert "\\'" not in message and "resume" in message

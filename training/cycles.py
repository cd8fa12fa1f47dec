"""Train/evaluate cycles: the schedule, each cycle's plan, and the record.

`<model_dir>/train_state.json` records, for each finished cycle, the global
step it ended at and its evaluation results. A run started again in the same
model directory (after a crash, a kill or Ctrl-C) skips the finished cycles,
resumes the unfinished one at the checkpoint's step with the same batches, and
never evaluates a cycle twice or loses one.

The record is tied to a fingerprint of what fixes the step count (training
set size, batch size, replicas, epochs per cycle, sortagrad, seed). When the
fingerprint changes, the old cycles are kept under "history" and counting
starts again from the checkpoint's step.
"""

import collections
import json
import math
import os
import time

from absl import logging
import tensorflow as tf

from common import atomic_file
from data import sampler
from training import hooks
from training import train_state

STATE_FILE = "train_state.json"


def fingerprint(**values):
  """A stable description of the settings that fix the cycle schedule."""
  return json.dumps(values, sort_keys=True)


def cycle_epochs(train_epochs, epochs_between_evals):
  """The epoch indices of each cycle.

  The original ran train_epochs // epochs_between_evals cycles of one pass
  each, training fewer epochs than asked; here every cycle trains
  epochs_between_evals passes and a last, shorter cycle takes the remainder.

  Returns:
    A list of lists of 0-based epoch indices.
  """
  if train_epochs < 1:
    raise ValueError("train_epochs must be >= 1, got %d" % train_epochs)
  if epochs_between_evals < 1:
    raise ValueError("epochs_between_evals must be >= 1, got %d"
                     % epochs_between_evals)
  return [list(range(start, min(start + epochs_between_evals, train_epochs)))
          for start in range(0, train_epochs, epochs_between_evals)]


class TrainState(object):
  """The cycle record of one model directory."""

  def __init__(self, path, data):
    self._path = path
    self._data = data

  @classmethod
  def load_or_start(cls, model_dir, current_step, fingerprint):
    """Loads the record, or starts one at `current_step`.

    Args:
      model_dir: the model directory.
      current_step: the global step of the latest checkpoint (0 if none).
      fingerprint: from `fingerprint()`.
    """
    path = os.path.join(model_dir, STATE_FILE)
    data = None
    if os.path.exists(path):
      try:
        data = train_state.read_record(path)
      except train_state.RecordError as e:
        logging.warning("%s; starting a new record.", e)
    fresh = data is None or data.get("fingerprint") != fingerprint
    if data is not None and data.get("fingerprint") != fingerprint:
      logging.warning(
          "The training settings changed since the last run in %s; cycle "
          "counting restarts at step %d (weights are restored from the "
          "checkpoint).", model_dir, current_step)
      history = data.get("history", []) + data.get("cycles", [])
      data = {"fingerprint": fingerprint, "base_step": current_step,
              "cycles": [], "history": history}
    if data is None:
      data = {"fingerprint": fingerprint, "base_step": current_step,
              "cycles": []}
    state = cls(path, data)
    if fresh:
      # Written now, not at the first finished cycle: a run killed inside its
      # first cycle must find base_step on restart, or it would count the
      # steps already taken a second time.
      state._write()  # pylint: disable=protected-access
    if data["cycles"]:
      logging.info("Found %d finished cycle(s) in %s.", len(data["cycles"]),
                   path)
    return state

  @classmethod
  def load_or_wait(cls, model_dir, current_step, fingerprint, is_chief):
    """The chief's record: loaded or started (chief), or waited for (others)."""
    if is_chief:
      return cls.load_or_start(model_dir, current_step, fingerprint)
    return cls.wait_for_chief(model_dir, fingerprint)

  @property
  def cycles(self):
    """Finished cycles, each a dict with cycle, global_step and metrics."""
    return self._data["cycles"]

  def cycle_start_step(self):
    """The global step at which the next cycle starts."""
    if self.cycles:
      return self.cycles[-1]["global_step"]
    return self._data.get("base_step", 0)

  @classmethod
  def wait_for_chief(cls, model_dir, fingerprint, num_cycles=0,
                     poll_secs=2.0, timeout_secs=None, sleep=time.sleep):
    """The chief's record once it matches `fingerprint` and has `num_cycles`.

    The other workers of a multi-worker run never write the record: they
    read the chief's, in the model directory all workers share, to start
    each cycle where it does and to learn its evaluation.

    Args:
      model_dir: the shared model directory.
      fingerprint: from `fingerprint()`; the chief's must be the same.
      num_cycles: finished cycles to wait for.
      poll_secs: seconds between reads.
      timeout_secs: give up after this long (None: wait as long as it takes,
        the chief may be evaluating a large dev set).
      sleep: the sleeping function (tests pass a fake one).

    Raises:
      TimeoutError: timeout_secs passed first.
    """
    path = os.path.join(model_dir, STATE_FILE)
    waited = 0.0
    next_notice = 60.0
    while True:
      data = None
      try:
        data = train_state.read_record(path)
      except (OSError, train_state.RecordError):
        pass  # Not written yet, or being replaced.
      if (data is not None and data.get("fingerprint") == fingerprint and
          len(data.get("cycles", [])) >= num_cycles):
        return cls(path, data)
      if timeout_secs is not None and waited >= timeout_secs:
        raise TimeoutError(
            "Waited %.0f s for the chief to record %d finished cycle(s) in "
            "%s; is the model directory shared by all workers, and is the "
            "chief running with the same flags?" % (waited, num_cycles,
                                                    path))
      if waited >= next_notice:
        logging.info("Waiting for the chief's cycle %d in %s (%.0f s so "
                     "far; the model directory must be shared by all "
                     "workers).", num_cycles, path, waited)
        next_notice += 60.0
      sleep(poll_secs)
      waited += poll_secs

  def add_cycle(self, record):
    """Appends a finished cycle and writes the file atomically."""
    self._data["cycles"].append(record)
    self._write()

  def _write(self):
    """Writes the record atomically (a kill leaves the old or the new one)."""
    atomic_file.write_json(self._path, self._data)


# One cycle's epoch orders (lists of entries), whether each epoch is batched
# in length buckets, and the global steps the cycle takes.
CyclePlan = collections.namedtuple("CyclePlan",
                                   ["epoch_lists", "bucketed", "steps"])


def plan_cycle(entries, epochs, per_device_batch_size, num_replicas,
               sortagrad, seed, length_buckets, boundaries,
               whole_steps=False):
  """The batches of one cycle, and how many global steps they make.

  Each epoch's order derives from (seed, epoch), so a resumed cycle sees the
  batches the interrupted one would have seen. With whole_steps (several
  workers), the cycle takes only steps that give every replica a batch and
  leaves out the last batches (fewer than the replicas): a worker whose
  input ended early would leave the others waiting in the all-reduce.

  Returns:
    A `CyclePlan`.
  """
  epoch_lists = [sampler.epoch_entries(
      entries, epoch, sortagrad, per_device_batch_size, seed, length_buckets)
                 for epoch in epochs]
  bucketed = [sampler.use_buckets(epoch, sortagrad, length_buckets)
              for epoch in epochs]
  batches = sum(sampler.epoch_num_batches(
      e, per_device_batch_size, boundaries if b else None)
                for e, b in zip(epoch_lists, bucketed))
  # A global step consumes one batch per replica.
  if whole_steps:
    return CyclePlan(epoch_lists, bucketed, batches // num_replicas)
  return CyclePlan(epoch_lists, bucketed,
                   int(math.ceil(batches / float(num_replicas))))


def train_steps(estimator, input_fn, max_steps, train_hooks, multi_worker,
                input_fn_eval):
  """Trains up to global step max_steps; graph errors come out readable.

  Args:
    estimator: the `tf.estimator.Estimator`.
    input_fn: the cycle's training input function.
    max_steps: the global step to stop at.
    train_hooks: `SessionRunHook`s for the training session.
    multi_worker: True in a TF_CONFIG cluster.
    input_fn_eval: an evaluation input function (required by
      train_and_evaluate, never used: the cluster has no evaluator task).
  """
  with hooks.explain_graph_errors():
    if not multi_worker:
      estimator.train(input_fn=input_fn, hooks=train_hooks,
                      max_steps=max_steps)
      return
    # Estimator.train refuses a TF_CONFIG cluster; train_and_evaluate runs
    # the workers' synchronous training.
    tf.estimator.train_and_evaluate(
        estimator,
        tf.estimator.TrainSpec(input_fn, max_steps=max_steps,
                               hooks=train_hooks),
        tf.estimator.EvalSpec(input_fn_eval))


def train_cycle(estimator, plan, start_step, make_input_fn, train_hooks,
                multi_worker, input_fn_eval):
  """Trains one cycle to its last step, resuming where a checkpoint left it.

  Args:
    estimator: the `tf.estimator.Estimator`.
    plan: the cycle's `CyclePlan`.
    start_step: the global step the cycle started at.
    make_input_fn: (plan, batches to skip) -> the training input function.
    train_hooks: the run's `SessionRunHook`s.
    multi_worker: True in a TF_CONFIG cluster.
    input_fn_eval: the evaluation input function (see `train_steps`).

  Returns:
    (mean training loss or None if no step ran, seconds spent).

  Raises:
    KeyboardInterrupt: after Ctrl-C or SIGTERM, once the checkpoint is saved.
  """
  done_steps = current_step(estimator) - start_step
  stopper = hooks.StopOnSignal()
  recorder = hooks.LossRecorder()
  started = time.time()
  if done_steps < plan.steps:
    if done_steps > 0:
      logging.info("Resuming the cycle at step %d of %d.", done_steps,
                   plan.steps)
    # A global step consumes one batch per replica, so the batches already
    # trained on are skipped from the cycle's fixed order.
    input_fn = make_input_fn(plan, done_steps)
    train_steps(estimator, input_fn, start_step + plan.steps,
                train_hooks + [stopper, recorder], multi_worker,
                input_fn_eval)
    if stopper.received is not None:
      logging.warning("Interrupted: checkpoint saved at step %d. Run the "
                      "same command to resume.", current_step(estimator))
      raise KeyboardInterrupt
  return recorder.mean(), time.time() - started


def time_for_another_cycle(max_train_minutes, run_records):
  """Whether one more cycle ends within --max_train_minutes of this run.

  The next cycle is predicted to take as long as the last one trained in
  this run (training and evaluation): the first cycle also fills the feature
  cache, so the prediction after it errs on the safe side. Only the records
  decide, and the chief writes them, so every worker of a cluster decides
  alike.

  Args:
    max_train_minutes: the budget (0 or None: no limit).
    run_records: the cycle records trained in this run, oldest first; each
      has "train_seconds", "eval_seconds" and "run_seconds" (this run's
      seconds when the cycle was recorded).

  Returns:
    (True or False, the predicted minutes at the next cycle's end or None).
  """
  if not max_train_minutes or not run_records:
    return True, None
  last = run_records[-1]
  if "run_seconds" not in last:
    return True, None
  cycle = last.get("train_seconds", 0.0) + last.get("eval_seconds", 0.0)
  predicted = (last["run_seconds"] + cycle) / 60.0
  return predicted <= max_train_minutes, predicted


def current_step(estimator):
  """The global step of the latest checkpoint (0 before any)."""
  if not estimator.latest_checkpoint():
    return 0
  return int(estimator.get_variable_value(
      tf.compat.v1.GraphKeys.GLOBAL_STEP))

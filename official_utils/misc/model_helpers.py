"""Small helpers for training loops (after official/utils/misc/model_helpers)."""

import numbers


def past_stop_threshold(stop_threshold, eval_metric):
  """Whether an error-like metric has reached its target.

  The original compared `eval_metric >= stop_threshold` for accuracy-like
  metrics and DeepSpeech reused it for WER, where lower is better, so it
  stopped after the first evaluation. This port takes the direction
  explicitly through `higher_is_better` in `past_threshold`; this function keeps
  the original name and meaning for accuracy-like metrics.

  Args:
    stop_threshold: the target, or None for "never stop".
    eval_metric: the latest metric value.

  Returns:
    True when the metric is at or above the threshold.

  Raises:
    ValueError: if either value is not a number.
  """
  return past_threshold(stop_threshold, eval_metric, higher_is_better=True)


def past_threshold(threshold, value, higher_is_better):
  """Whether `value` has reached `threshold` in the metric's own direction.

  Args:
    threshold: the target, or None for "never stop".
    value: the latest metric value.
    higher_is_better: True for accuracy-like metrics, False for error rates
      such as WER.

  Returns:
    A bool.

  Raises:
    ValueError: if either value is not a number.
  """
  if threshold is None:
    return False
  if not isinstance(threshold, numbers.Number):
    raise ValueError("Threshold for checking stop conditions must be a "
                     "number.")
  if not isinstance(value, numbers.Number):
    raise ValueError("Eval metric being checked against stop conditions "
                     "must be a number.")
  # bool(): numpy scalars compare to numpy.bool_, not the promised bool.
  if higher_is_better:
    return bool(value >= threshold)
  return bool(value <= threshold)

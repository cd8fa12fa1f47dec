"""model_fn's optimizer: Adam at params' learning rate, decayed if asked,
with loss scaling for float16 (params as model_fn documents them).
"""

import tensorflow as tf


def optimizer(params, global_step):
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

"""Tests for training/optimizer.py: the rate schedule and float16's scaling."""

import pytest
import tensorflow as tf

from training import optimizer as optimizer_lib


def _rate_at(params, step):
  with tf.Graph().as_default():
    global_step = tf.compat.v1.train.get_or_create_global_step()
    optimizer_lib.optimizer(params, global_step)
    # The named tensor the logging hooks read.
    rate = tf.compat.v1.get_default_graph().get_tensor_by_name(
        "learning_rate:0")
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      global_step.load(step, sess)
      return sess.run(rate)


def test_a_constant_rate_without_decay_steps():
  params = {"learning_rate": 5e-4}
  assert _rate_at(params, 0) == pytest.approx(5e-4)
  assert _rate_at(params, 10000) == pytest.approx(5e-4)


def test_the_rate_halves_every_decay_steps():
  params = {"learning_rate": 1e-3, "learning_rate_decay_steps": 100,
            "learning_rate_decay_rate": 0.5}
  assert _rate_at(params, 0) == pytest.approx(1e-3)
  assert _rate_at(params, 100) == pytest.approx(5e-4)
  assert _rate_at(params, 50) == pytest.approx(1e-3 * 0.5 ** 0.5)


@pytest.mark.parametrize("dtype,scaled", [("float16", True),
                                          ("bfloat16", False),
                                          ("float32", False)])
def test_only_float16_gets_a_loss_scale(dtype, scaled):
  with tf.Graph().as_default():
    global_step = tf.compat.v1.train.get_or_create_global_step()
    opt, _ = optimizer_lib.optimizer({"learning_rate": 1e-3, "dtype": dtype},
                                     global_step)
  assert isinstance(
      opt, tf.compat.v1.mixed_precision.MixedPrecisionLossScaleOptimizer) is (
          scaled)

"""Tests for deep_speech_rnn: the CPU GRU computes Keras GRU's function."""

import numpy as np
import pytest
import tensorflow as tf

import deep_speech_rnn
from training import runtime


def _bidirectional_pair(units=5, features=6, dtype=None, seed=0):
  """Ours and Keras's bidirectional GRU with the same random weights."""
  # The network's layer names (deep_speech_model._rnn_layer).
  ours = tf.keras.layers.Bidirectional(
      deep_speech_rnn.GRU(units, return_sequences=True, dtype=dtype,
                          name="rnn_1"),
      name="bidirectional_rnn_1", dtype=dtype)
  keras = tf.keras.layers.Bidirectional(
      tf.keras.layers.GRU(units, return_sequences=True, dtype=dtype,
                          name="rnn_1"),
      name="bidirectional_rnn_1", dtype=dtype)
  shape = tf.TensorShape([None, None, features])
  ours.build(shape)
  keras.build(shape)
  # Random biases too (Keras starts them at zero): both rows must be used
  # where Keras uses them.
  rng = np.random.default_rng(seed)
  weights = [0.5 * rng.standard_normal(w.shape).astype(np.float32)
             for w in keras.get_weights()]
  ours.set_weights(weights)
  keras.set_weights(weights)
  return ours, keras


def _outputs_and_gradients(layer, inputs, cotangent):
  """Traced (graph-mode) outputs and d(sum(outputs * cotangent))."""

  @tf.function
  def run(inputs):
    with tf.GradientTape() as tape:
      tape.watch(inputs)
      outputs = layer(inputs)
      loss = tf.reduce_sum(tf.cast(outputs, tf.float32) * cotangent)
    return outputs, tape.gradient(loss, [inputs] + layer.trainable_weights)

  outputs, gradients = run(inputs)
  library = run.get_concrete_function(inputs).graph.as_graph_def().library
  return outputs, gradients, [f.signature.name for f in library.function]


def test_hoisted_gru_matches_keras_gru_and_its_gradients():
  ours, keras = _bidirectional_pair()
  rng = np.random.default_rng(1)
  inputs = tf.constant(rng.standard_normal((3, 11, 6)).astype(np.float32))
  cotangent = tf.constant(rng.standard_normal((3, 11, 10)).astype(np.float32))
  ours_out, ours_grads, functions = _outputs_and_gradients(ours, inputs,
                                                           cotangent)
  keras_out, keras_grads, _ = _outputs_and_gradients(keras, inputs, cotangent)
  # Ours ran (both directions), not Keras's generic kernel.
  assert sum("hoisted_gru" in name and "backward" not in name
             for name in functions) >= 2
  assert not any("standard_gru" in name for name in functions)
  np.testing.assert_allclose(ours_out, keras_out, atol=1e-5, rtol=0)
  # Inputs, then kernel, recurrent kernel and bias of each direction.
  assert len(ours_grads) == 7
  for ours_grad, keras_grad, name in zip(
      ours_grads, keras_grads, ["inputs"] + [w.name for w in ours.weights]):
    np.testing.assert_allclose(ours_grad, keras_grad, atol=1e-5, rtol=1e-5,
                               err_msg=name)


def test_weights_have_keras_gru_names_and_shapes():
  ours, keras = _bidirectional_pair(units=4, features=3)
  assert ([(w.name, w.shape.as_list()) for w in ours.weights] ==
          [(w.name, w.shape.as_list()) for w in keras.weights])
  assert ours.weights[0].name == "forward_rnn_1/gru_cell/kernel:0"
  assert [w.shape.as_list() for w in ours.weights[:3]] == [
      [3, 12], [4, 12], [2, 12]]


@pytest.mark.parametrize("dtype", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_matches_keras_gru(dtype):
  # Where oneDNN runs without AVX512 (TF_ENABLE_ONEDNN_OPTS=1 on an AVX2
  # CPU) a bfloat16 GRU, Keras's too, aborts the process inside oneDNN; the
  # CLIs refuse bf16 there after the same probe.
  if dtype == "mixed_bfloat16" and not runtime.bfloat16_supported():
    pytest.skip("this machine's TensorFlow cannot run bfloat16 layers")
  ours, keras = _bidirectional_pair(dtype=dtype)
  rng = np.random.default_rng(2)
  inputs = tf.constant(rng.standard_normal((2, 9, 6)).astype(np.float32))
  cotangent = tf.ones([2, 9, 10])
  ours_out, ours_grads, _ = _outputs_and_gradients(ours, inputs, cotangent)
  keras_out, keras_grads, _ = _outputs_and_gradients(keras, inputs, cotangent)
  low = tf.keras.mixed_precision.Policy(dtype).compute_dtype
  assert ours_out.dtype == low
  # Rounding to 8 (bfloat16) or 11 (float16) significant bits.
  tolerance = 0.05 if dtype == "mixed_bfloat16" else 5e-3
  np.testing.assert_allclose(tf.cast(ours_out, tf.float32),
                             tf.cast(keras_out, tf.float32), atol=tolerance)
  for ours_grad, keras_grad in zip(ours_grads, keras_grads):
    assert ours_grad.dtype == keras_grad.dtype
    scale = np.abs(keras_grad).max()
    np.testing.assert_allclose(ours_grad, keras_grad, atol=tolerance * scale)


def test_masked_inputs_take_keras_path_and_match():
  ours, keras = _bidirectional_pair()
  inputs = tf.constant(np.random.default_rng(3).standard_normal(
      (2, 7, 6)).astype(np.float32))
  mask = tf.constant([[True] * 7, [True] * 4 + [False] * 3])
  ours_out = tf.function(lambda x: ours(x, mask=mask))(inputs)
  keras_out = tf.function(lambda x: keras(x, mask=mask))(inputs)
  np.testing.assert_allclose(ours_out, keras_out, atol=1e-5)


def test_inference_graph_has_no_custom_gradient_and_same_outputs():
  # Evaluation and exports (training=False) run the loop without its
  # written-out gradient: the same outputs, and no gradient function left in
  # the graph for a SavedModel to warn about.
  ours, keras = _bidirectional_pair()
  inputs = tf.constant(np.random.default_rng(4).standard_normal(
      (3, 8, 6)).astype(np.float32))

  def functions(training):
    run = tf.function(lambda x: ours(x, training=training))
    graph = run.get_concrete_function(inputs).graph.as_graph_def()
    ops = [node.op for f in graph.library.function for node in f.node_def]
    return run(inputs), [f.signature.name for f in graph.library.function], ops

  inference, inference_names, inference_ops = functions(False)
  training, _, training_ops = functions(True)
  keras_out = tf.function(lambda x: keras(x, training=False))(inputs)
  np.testing.assert_allclose(inference, keras_out, atol=1e-5, rtol=0)
  np.testing.assert_allclose(inference, training, atol=1e-6, rtol=0)
  assert sum("hoisted_gru_inference" in n for n in inference_names) >= 2
  # tf.custom_gradient leaves an IdentityN with a gradient override.
  assert "IdentityN" in training_ops
  assert "IdentityN" not in inference_ops

"""Tests for deep_speech_model: shapes, RNN variants, batch-norm updates."""


import json
import os
import warnings

import numpy as np
import pytest
import tensorflow as tf

import deep_speech
import deep_speech_model

NUM_CLASSES = 29


def _build(rnn_type="gru", bidirectional=True, use_bias=True, layers=2,
           hidden=8, frames=50, batch=3, training=False, **kwargs):
  """Builds the model in a fresh graph; returns (graph, logits value)."""
  graph = tf.Graph()
  with graph.as_default():
    tf.compat.v1.set_random_seed(0)
    inputs = tf.constant(np.random.default_rng(0).standard_normal(
        (batch, frames, 161, 1)).astype(np.float32))
    model = deep_speech_model.DeepSpeech2(layers, rnn_type, bidirectional,
                                          hidden, NUM_CLASSES, use_bias,
                                          **kwargs)
    logits = model(inputs, training=training)
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      value = sess.run(logits)
  return graph, value


@pytest.mark.parametrize("frames", [1, 7, 50, 101])
def test_output_frames_follow_the_convolutions(frames):
  _, logits = _build(frames=frames, layers=1)
  assert logits.shape == (3, deep_speech_model.conv_output_frames(frames),
                          NUM_CLASSES)
  # Two stride-2 convolutions with "same"-like padding: ceil(T / 4).
  assert deep_speech_model.conv_output_frames(frames) == -(-frames // 4)


@pytest.mark.parametrize("rnn_type", ["gru", "lstm", "rnn"])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_every_rnn_type_and_direction_builds_and_runs(rnn_type,
                                                      bidirectional):
  graph, logits = _build(rnn_type=rnn_type, bidirectional=bidirectional)
  assert np.all(np.isfinite(logits))
  names = [v.name for v in graph.get_collection(
      tf.compat.v1.GraphKeys.GLOBAL_VARIABLES)]
  rnn_vars = [n for n in names if "rnn_" in n and "cnn" not in n]
  # Backward weights exist exactly when bidirectional.
  assert any("backward" in n for n in rnn_vars) == bidirectional
  # Batch norm on the inputs of RNN layers after the first, plus the final
  # one and the two convolutions': 2 + (layers - 1) + 1 = 4 for 2 layers.
  gammas = [n for n in names if n.endswith("gamma:0")]
  assert len(gammas) == 4
  # The RNN output width is hidden * directions, seen by the dense kernel.
  dense_kernel = [v for v in graph.get_collection(
      tf.compat.v1.GraphKeys.GLOBAL_VARIABLES)
                  if v.name == "dense/kernel:0"][0]
  assert dense_kernel.shape.as_list() == [8 * (2 if bidirectional else 1),
                                          NUM_CLASSES]


@pytest.mark.parametrize("use_bias", [True, False])
def test_use_bias_controls_the_dense_bias(use_bias):
  graph, _ = _build(use_bias=use_bias, layers=1)
  names = [v.name for v in graph.get_collection(
      tf.compat.v1.GraphKeys.GLOBAL_VARIABLES)]
  assert ("dense/bias:0" in names) == use_bias


def test_convolutions_match_the_seed_geometry():
  graph, _ = _build(layers=1)
  shapes = {v.name: v.shape.as_list() for v in graph.get_collection(
      tf.compat.v1.GraphKeys.GLOBAL_VARIABLES)}
  assert shapes["cnn_1/kernel:0"] == [41, 11, 1, 32]
  assert shapes["cnn_2/kernel:0"] == [21, 11, 32, 32]
  assert "cnn_1/bias:0" not in shapes  # the seed's convolutions have no bias


def test_conv_filters_set_both_convolutions_and_the_rnn_input():
  graph, logits = _build(layers=1, conv_filters=8)
  shapes = {v.name: v.shape.as_list() for v in graph.get_collection(
      tf.compat.v1.GraphKeys.GLOBAL_VARIABLES)}
  assert shapes["cnn_1/kernel:0"] == [41, 11, 1, 8]
  assert shapes["cnn_2/kernel:0"] == [21, 11, 8, 8]
  # 161 bins -> 81 after the first convolution's frequency stride, times 8
  # channels feed the first GRU (3 gates x 8 units per direction).
  gru_kernels = [s for n, s in shapes.items()
                 if n.startswith("bidirectional_rnn_1") and
                 n.endswith("/kernel:0")]
  assert gru_kernels and all(s == [81 * 8, 3 * 8] for s in gru_kernels)
  assert logits.shape == (3, deep_speech_model.conv_output_frames(50),
                          NUM_CLASSES)
  with pytest.raises(ValueError, match="conv_filters"):
    deep_speech_model.DeepSpeech2(1, "gru", True, 8, NUM_CLASSES, True,
                                  conv_filters=0)


def test_unknown_rnn_type_is_a_clear_error():
  with pytest.raises(ValueError, match="rnn_type"):
    deep_speech_model.DeepSpeech2(1, "transformer", True, 8, NUM_CLASSES, True)


def test_batch_norm_moving_statistics_update_during_training():
  """The upstream TF2 revision lost BN updates; ours must run them."""
  graph = tf.Graph()
  with graph.as_default():
    tf.compat.v1.set_random_seed(0)
    rng = np.random.default_rng(1)
    features = {
        "features": tf.constant(
            3.0 + rng.standard_normal((2, 40, 161, 1)).astype(np.float32)),
        "input_length": tf.constant([[40], [36]], tf.int32),
        "label_length": tf.constant([[3], [2]], tf.int32),
    }
    labels = tf.constant([[3, 1, 20], [4, 15, 0]], tf.int32)
    params = dict(num_classes=NUM_CLASSES, rnn_hidden_layers=2,
                  rnn_type="gru", is_bidirectional=True, rnn_hidden_size=8,
                  use_bias=True, learning_rate=1e-3)
    spec = deep_speech.model_fn(features, labels,
                                tf.estimator.ModeKeys.TRAIN, params)
    moving = [v for v in tf.compat.v1.global_variables()
              if "moving_mean" in v.name or "moving_variance" in v.name]
    assert len(moving) == 2 * 4
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      before = sess.run(moving)
      for _ in range(3):
        sess.run(spec.train_op)
      after = sess.run(moving)
  changed = [not np.allclose(b, a) for b, a in zip(before, after)]
  assert all(changed), [v.name for v, c in zip(moving, changed) if not c]


@pytest.mark.parametrize("rnn_type", ["gru", "lstm"])
def test_cudnn_implementation_is_registered_in_estimator_graphs(rnn_type):
  """In a tf.compat.v1 graph Keras would drop its cuDNN path; ours keeps it.

  The layer registers a GPU implementation that Grappler swaps in at session
  time on a GPU; on this CPU the generic one runs (the other tests).
  """
  graph, logits = _build(rnn_type=rnn_type, layers=1)
  assert np.all(np.isfinite(logits))
  # Grappler swaps functions that share an api_implements name by device.
  by_name = {}
  for function in graph.as_graph_def().library.function:
    if "api_implements" in function.attr:
      by_name.setdefault(function.attr["api_implements"].s, {}).setdefault(
          function.attr["api_preferred_device"].s.decode(), []).append(
              function)
  assert len(by_name) == 2  # one per direction
  for devices in by_name.values():
    assert {"CPU", "GPU"} == set(devices)
    assert any(node.op == "CudnnRNN" for function in devices["GPU"]
               for node in function.node_def)
    if rnn_type == "gru":
      # On a CPU, deep_speech_rnn's GRU with the input projection hoisted.
      assert all("hoisted_gru" in function.signature.name
                 for function in devices["CPU"])


def test_a_keras_gru_checkpoint_restores_with_the_same_logits(
    tmp_path, monkeypatch):
  """Checkpoints of Keras's GRU (all of them before deep_speech_rnn) load."""

  class KerasGRU(tf.keras.layers.GRU):
    """The generic Keras GRU, as the network ran on CPUs before."""

  inputs = np.random.default_rng(0).standard_normal(
      (2, 40, 161, 1)).astype(np.float32)
  logits = {}
  for name in ("keras", "ours"):
    graph = tf.Graph()
    with graph.as_default():
      if name == "keras":
        monkeypatch.setitem(deep_speech_model.SUPPORTED_RNNS, "gru", KerasGRU)
      else:
        monkeypatch.undo()
      model = deep_speech_model.DeepSpeech2(2, "gru", True, 8, NUM_CLASSES,
                                            True, conv_filters=4)
      output = model(tf.constant(inputs), training=False)
      saver = tf.compat.v1.train.Saver()
      with tf.compat.v1.Session() as sess:
        if name == "keras":
          sess.run(tf.compat.v1.global_variables_initializer())
          # Non-zero biases, so both of the GRU's bias rows matter.
          for variable in tf.compat.v1.trainable_variables():
            if "gru_cell/bias" in variable.name:
              sess.run(variable.assign(np.random.default_rng(1).standard_normal(
                  variable.shape).astype(np.float32)))
          saver.save(sess, str(tmp_path / "model.ckpt"))
        else:
          saver.restore(sess, str(tmp_path / "model.ckpt"))
        logits[name] = sess.run(output)
  np.testing.assert_allclose(logits["ours"], logits["keras"], atol=1e-5)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_mixed_precision_keeps_variables_and_logits_float32(dtype):
  graph = tf.Graph()
  with graph.as_default():
    inputs = tf.zeros([2, 30, 161, 1])
    model = deep_speech_model.DeepSpeech2(2, "gru", True, 8, NUM_CLASSES,
                                          True, dtype=dtype)
    logits = model(inputs, training=True)
    variables = graph.get_collection(tf.compat.v1.GraphKeys.GLOBAL_VARIABLES)
    # The convolutions and the RNNs' matrix products compute in the low
    # precision (the point of mixed precision).
    low = tf.as_dtype(dtype).as_datatype_enum
    assert any(op.type == "Conv2D" and op.get_attr("T") == tf.as_dtype(dtype)
               for op in graph.get_operations())
    # The RNN steps live in the graph's function library (the while body).
    rnn_matmuls = [node for function in graph.as_graph_def().library.function
                   for node in function.node_def if node.op == "MatMul"]
    assert rnn_matmuls and all(node.attr["T"].type == low
                               for node in rnn_matmuls)
  assert logits.dtype == tf.float32
  assert variables and all(v.dtype.base_dtype == tf.float32
                           for v in variables)
  with pytest.raises(ValueError, match="dtype"):
    deep_speech_model.DeepSpeech2(1, "gru", True, 8, NUM_CLASSES, True,
                                  dtype="bfloat8")


def test_building_the_model_gives_no_deprecation_warning():
  # Users meet the first warning of a run; `tf.compat.v1.layers.dense`
  # (the function) warned on every build, the layer class does not.
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    graph, _ = _build(layers=1)
  messages = [str(w.message) for w in caught]
  assert not [m for m in messages if "deprecated" in m], messages
  names = [v.op.name for v in graph.get_collection("variables")]
  assert "dense/kernel" in names and "dense/bias" in names


def _graph_nodes(bidirectional):
  """(name, op) of every node of a small GRU model's inference graph."""
  graph = tf.Graph()
  with graph.as_default():
    model = deep_speech_model.DeepSpeech2(2, "gru", bidirectional, 8, 29,
                                          True, conv_filters=4,
                                          lookahead_context=0)
    model(tf.compat.v1.placeholder(tf.float32, [None, None, 161, 1]),
          training=False)
  return [[node.name, node.op] for node in graph.as_graph_def().node]


@pytest.mark.parametrize("bidirectional", [True, False])
def test_no_lookahead_builds_the_graph_of_the_original_network(bidirectional):
  # The fixture lists the graph that the network built before the lookahead
  # existed (same layers, same calls), node for node.
  with open(os.path.join(os.path.dirname(__file__), "fixtures",
                         "model_graph_nodes.json")) as f:
    before = json.load(f)["gru_%s" % bidirectional]
  assert _graph_nodes(bidirectional) == before


def _unidirectional_logits(spectrograms, lookahead_context, layers=2):
  """Logits of one randomly initialized unidirectional GRU model."""
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(0)
    model = deep_speech_model.DeepSpeech2(
        layers, "gru", False, 8, NUM_CLASSES, True, conv_filters=4,
        lookahead_context=lookahead_context)
    inputs = tf.compat.v1.placeholder(tf.float32, [None, None, 161, 1])
    logits = model(inputs, training=False)
    names = {v.op.name: v.shape.as_list()
             for v in tf.compat.v1.global_variables()}
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      # Non-trivial batch-norm statistics, as after training.
      for v in tf.compat.v1.global_variables():
        if "moving_" in v.op.name:
          v.load(np.random.default_rng(1).uniform(
              0.5, 1.5, v.shape.as_list()).astype(np.float32), sess)
      return [sess.run(logits, {inputs: s}) for s in spectrograms], names


@pytest.mark.parametrize("lookahead_context", [0, 1, 3])
def test_a_unidirectional_frame_sees_exactly_its_computed_future(
    lookahead_context):
  past, future = deep_speech_model.input_context()
  assert (past, future) == (40, 40)
  future += deep_speech_model.TIME_REDUCTION * lookahead_context
  frames, m = 200, 20
  base = np.random.default_rng(0).standard_normal(
      (1, frames, 161, 1)).astype(np.float32)
  last_seen = base.copy()
  last_seen[0, 4 * m + future] += 5.0
  unseen = base.copy()
  unseen[0, 4 * m + future + 1:] += 5.0
  (logits, seen_logits, unseen_logits), names = _unidirectional_logits(
      [base, last_seen, unseen], lookahead_context)
  assert logits.shape == (1, 50, NUM_CLASSES)
  # Frame m changes with its last future input frame, and not with any
  # frame after it; every later frame is left to the change. The graph is
  # deterministic, so any difference at all is the frame's influence (its
  # size depends on the random weights, which other tests' seeding moves).
  assert np.any(seen_logits[0, m] != logits[0, m])
  np.testing.assert_array_equal(unseen_logits[0, :m + 1],
                                logits[0, :m + 1])
  assert np.any(unseen_logits[0, m + 1] != logits[0, m + 1])
  if lookahead_context:
    assert names["lookahead/depthwise_kernel"] == [lookahead_context + 1,
                                                   8, 1]
  else:
    assert not [n for n in names if "lookahead" in n]


def test_a_negative_lookahead_is_a_clear_error():
  with pytest.raises(ValueError, match="lookahead_context must be >= 0"):
    deep_speech_model.DeepSpeech2(1, "gru", False, 8, NUM_CLASSES, True,
                                  lookahead_context=-1)

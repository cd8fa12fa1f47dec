"""TensorBoard event files read back, for tests of what a run summarized."""

import glob
import os

import tensorflow as tf


def read_events(directory):
  """{tag: [(step, value or raw tensor proto)]} from every event file."""
  found = {}
  for path in sorted(glob.glob(os.path.join(directory, "events.out.*"))):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        if value.HasField("simple_value"):
          content = value.simple_value
        else:
          content = value
        found.setdefault(value.tag, []).append((event.step, content))
  return found


def scalar(value):
  """The float of a v2 scalar summary's tensor proto."""
  return float(tf.make_ndarray(value.tensor))

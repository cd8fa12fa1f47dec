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


def scalars(directory):
  """{tag: {step: number, or None for a text or image summary}}."""
  found = {}
  for tag, points in read_events(directory).items():
    for step, content in points:
      if not isinstance(content, float):
        numeric = (content.HasField("tensor") and
                   not content.tensor.string_val)
        content = scalar(content) if numeric else None
      found.setdefault(tag, {})[step] = content
  return found

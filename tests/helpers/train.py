"""Helpers for tests that run deep_speech.py's training cycles in-process.

Shared by tests/test_deep_speech.py, the end-to-end CLI scenarios
(tests/end_to_end/) and the other test modules that train a tiny model.
"""

import json
import os

from absl import flags

import deep_speech
from training import cycles
from training import flags as port_flags

FLAGS = flags.FLAGS
# model_fn's params for a tiny model.
PARAMS = dict(num_classes=29, rnn_hidden_layers=1, rnn_type="gru",
              is_bidirectional=True, rnn_hidden_size=16, use_bias=True,
              learning_rate=1e-3)
# deep_speech.py flags for a tiny model trained in seconds, without export.
TINY = ["--batch_size=4", "--rnn_hidden_size=16", "--rnn_hidden_layers=1",
        "--learning_rate=2e-3", "--export_dir=", "--show_samples=0"]


def parse(argv):
  """Parses `argv` as deep_speech.py's flags; returns absl's FLAGS."""
  if "rnn_hidden_size" not in FLAGS:
    port_flags.define_deep_speech_flags()
  FLAGS.unparse_flags()
  FLAGS(["deep_speech.py"] + list(argv))
  return FLAGS


def run_in_process(argv):
  """Parses `argv` as deep_speech.py flags and runs the cycles in-process."""
  return deep_speech.run_deep_speech(parse(argv))


def read_state(model_dir):
  """The train_state.json record of `model_dir`, as a dict."""
  with open(os.path.join(model_dir, cycles.STATE_FILE)) as f:
    return json.load(f)

"""Tests for training/train_state.py: the one reader of train_state.json,
with real files, and what its three users make of a file that is no record.
"""

import json
import os

import pytest

import plot
from training import checkpoints
from training import cycles
from training import train_state

GOOD = {"fingerprint": "fp", "base_step": 0,
        "cycles": [{"cycle": 1, "global_step": 4, "WER": 0.5, "CER": 0.2}]}

# Valid JSON of the wrong shape, and what the error says of it.
WRONG_SHAPES = [
    ([], "a JSON list, not an object"),
    ("cycles", "a JSON str, not an object"),
    (None, "a JSON NoneType, not an object"),
    ({"fingerprint": "fp"}, "no \"cycles\" list"),
    ({"cycles": {"1": 4}}, "no \"cycles\" list"),
    ({"cycles": [], "base_step": "0"}, "\"base_step\" is not an integer"),
    ({"cycles": [], "history": {}}, "\"history\" is not a list"),
    ({"cycles": [4]}, "cycle 1 has no integer \"global_step\""),
    ({"cycles": [{"global_step": 4}, {"global_step": 4.5}]},
     "cycle 2 has no integer \"global_step\""),
    ({"cycles": [{"global_step": True}]},
     "cycle 1 has no integer \"global_step\""),
    ({"cycles": [{"global_step": 4, "WER": "0.5"}]},
     "cycle 1's WER is not a number"),
    ({"cycles": [{"global_step": 4, "extra_eval": [0.5]}]},
     "cycle 1's \"extra_eval\" is not an object of sets"),
    ({"cycles": [{"global_step": 4, "extra_eval": {"uqm-dev": 0.5}}]},
     "cycle 1's \"extra_eval\" is not an object of sets"),
    ({"cycles": [{"global_step": 4, "WER": 0.5,
                  "extra_eval": {"uqm-dev": {"WER": None}}}]},
     "cycle 1's [uqm-dev] WER is not a number"),
]


def _write(directory, value):
  path = os.path.join(str(directory), cycles.STATE_FILE)
  with open(path, "w") as f:
    json.dump(value, f)
  return path


def test_a_good_record_is_read(tmp_path):
  assert train_state.read_record(_write(tmp_path, GOOD)) == GOOD


def test_a_record_with_extra_sets_is_read(tmp_path):
  extra = {"uqm-dev": {"WER": 0.8, "CER": 0.4, "corpus_WER": 0.8,
                       "corpus_CER": 0.4}}
  record = dict(GOOD, cycles=[dict(GOOD["cycles"][0], extra_eval=extra)])
  assert train_state.read_record(_write(tmp_path, record)) == record


@pytest.mark.parametrize("value,problem", WRONG_SHAPES)
def test_valid_json_of_the_wrong_shape_is_a_record_error(tmp_path, value,
                                                         problem):
  path = _write(tmp_path, value)
  with pytest.raises(train_state.RecordError) as info:
    train_state.read_record(path)
  assert str(info.value) == "%s is not a training record (%s)" % (path,
                                                                  problem)


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe[", b""])
def test_invalid_json_is_a_record_error(tmp_path, content):
  path = str(tmp_path / cycles.STATE_FILE)
  with open(path, "wb") as f:
    f.write(content)
  with pytest.raises(train_state.RecordError,
                     match="train_state.json is not valid JSON"):
    train_state.read_record(path)


@pytest.mark.parametrize("value", [v for v, _ in WRONG_SHAPES[:5]])
def test_training_starts_a_new_record_as_for_invalid_json(tmp_path, value):
  path = _write(tmp_path, value)
  state = cycles.TrainState.load_or_start(str(tmp_path), 7, "fp")
  assert state.cycles == [] and state.cycle_start_step() == 7
  with open(path) as f:
    assert json.load(f) == {"fingerprint": "fp", "base_step": 7,
                            "cycles": []}
  assert os.listdir(str(tmp_path)) == [cycles.STATE_FILE]


def test_roll_back_leaves_a_wrong_shaped_file_to_training(tmp_path):
  path = _write(tmp_path, [])
  assert checkpoints.roll_back_train_state(path, 3) == []
  with open(path) as f:
    assert json.load(f) == []  # untouched: training replaces it


def test_a_worker_waits_past_a_wrong_shaped_file(tmp_path):
  _write(tmp_path, [])
  reads = []

  def chief_writes(seconds):
    reads.append(seconds)
    _write(tmp_path, GOOD)

  state = cycles.TrainState.wait_for_chief(str(tmp_path), "fp",
                                           num_cycles=1, sleep=chief_writes)
  assert state.cycles == GOOD["cycles"] and len(reads) == 1


def test_plot_names_a_wrong_shaped_file(tmp_path):
  path = _write(tmp_path, [])
  with pytest.raises(plot.PlotError) as info:
    plot.plot_training([str(tmp_path)], str(tmp_path / "x.png"))
  assert str(info.value) == ("%s is not a training record (a JSON list, not "
                             "an object); is it a train_state.json?" % path)
  assert os.listdir(str(tmp_path)) == [cycles.STATE_FILE]

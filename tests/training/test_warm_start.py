"""Tests for training/warm_start.py: --warm_start_from and
--warm_start_exclude checked in flag terms.

The warm starts themselves (a source model trained for them, what is taken,
the not-applied message of a re-run, the refusals that name a variable or a
featurizer setting) are in tests/training/test_fine_tune.py, which trains
that source once for all of them.
"""

import pytest
import tensorflow as tf

from tests import conftest
from tests.helpers import train


def test_a_lone_warm_start_exclude_is_an_error(tmp_path):
  corpus = conftest.make_corpus(tmp_path / "data", num_utts=4)
  with pytest.raises(ValueError) as error:
    train.run_in_process(train.TINY + [
        "--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
        "--model_dir=" + str(tmp_path / "m"), "--warm_start_exclude=dense/"])
  assert str(error.value) == "--warm_start_exclude needs --warm_start_from"
  assert tf.train.latest_checkpoint(str(tmp_path / "m")) is None

"""Tests for data/downloading/ljspeech.py: transcript cleaning and the split."""

import collections

from data import vocabulary as vocabulary_lib
from data.downloading import ljspeech



def test_vocabulary_reduction_reports_what_it_drops():
  vocabulary = vocabulary_lib.characters(vocabulary_lib.VOCABULARY_FILE)
  assert vocabulary == set(" abcdefghijklmnopqrstuvwxyz'")
  dropped = collections.Counter()
  text = ljspeech.normalize_to_vocabulary(
      'Café, "well-known" 1864.', vocabulary, dropped)
  assert text == "cafe well known"
  assert dropped[","] == 1 and dropped['"'] == 2 and dropped["-"] == 1
  assert dropped["\u0301"] == 1  # The accent NFKD split off the é.


def test_train_dev_split_is_deterministic_and_90_10():
  ids = ["LJ%03d-%04d" % (i // 50, i) for i in range(200)]
  train, dev = ljspeech.split_train_dev(ids)
  assert (len(train), len(dev)) == (180, 20)
  assert not set(train) & set(dev)
  assert ljspeech.split_train_dev(list(reversed(ids))) == (train,
                                                           dev)


# ---------------------------------------------------------------------------
# Resumable, verified fetch.
# ---------------------------------------------------------------------------

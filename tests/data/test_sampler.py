"""Tests for data/sampler.py: shuffles, epoch orders, buckets, cycle parts."""

import random

import numpy as np
import pytest

from data import manifest
from data import sampler


def _entries(sizes):
  """Manifest entries of the given file sizes, in the given order."""
  return [manifest.ManifestEntry("/utt-%03d.wav" % i, size, "cat", i + 2)
          for i, size in enumerate(sizes)]


def check_blocks(shuffled, entries, batch_size):
  """Asserts that `shuffled` is whole sorted blocks, then the partial tail."""
  num_full = len(entries) // batch_size
  starts = []
  for b in range(num_full):
    block = shuffled[b * batch_size:(b + 1) * batch_size]
    start = entries.index(block[0])
    assert start % batch_size == 0
    assert block == entries[start:start + batch_size]
    starts.append(start)
  assert sorted(starts) == [i * batch_size for i in range(num_full)]
  assert shuffled[num_full * batch_size:] == entries[num_full * batch_size:]
  assert sorted(shuffled) == sorted(entries)


# Batch-wise shuffling and epoch orders.


def test_shuffle_first_epoch_sorted_with_sortagrad():
  entries = list(range(23))
  out = sampler.batch_wise_dataset_shuffle(entries, 0, True, 5,
                                           random.Random(0))
  assert out == entries
  assert out is not entries


@pytest.mark.parametrize("epoch,sortagrad", [(0, False), (1, True),
                                             (3, False)])
def test_shuffle_moves_whole_blocks(epoch, sortagrad):
  entries = list(range(53))
  out = sampler.batch_wise_dataset_shuffle(entries, epoch, sortagrad, 5,
                                           random.Random(epoch))
  check_blocks(out, entries, 5)
  assert out != entries  # 10 blocks: 10! orders, one of them sorted


def test_shuffle_is_deterministic_with_seeded_rng():
  entries = list(range(40))
  a = sampler.batch_wise_dataset_shuffle(entries, 1, True, 4, random.Random(9))
  b = sampler.batch_wise_dataset_shuffle(entries, 1, True, 4, random.Random(9))
  c = sampler.batch_wise_dataset_shuffle(entries, 1, True, 4, random.Random(10))
  assert a == b
  assert a != c


def test_shuffle_without_rng_uses_random_module():
  entries = list(range(40))
  state = random.getstate()
  try:
    random.seed(5)
    a = sampler.batch_wise_dataset_shuffle(entries, 2, True, 4)
    random.seed(5)
    b = sampler.batch_wise_dataset_shuffle(entries, 2, True, 4)
  finally:
    random.setstate(state)
  assert a == b
  check_blocks(a, entries, 4)


def test_shuffle_batch_larger_than_entries():
  entries = list(range(3))
  assert sampler.batch_wise_dataset_shuffle(entries, 1, True, 8,
                                            random.Random(0)) == entries


def test_shuffle_keeps_entry_objects():
  entries = _entries([100, 200, 200, 300, 400, 500, 600])
  out = sampler.batch_wise_dataset_shuffle(entries, 1, True, 2,
                                           random.Random(1))
  check_blocks(out, entries, 2)
  assert all(any(o is e for e in entries) for o in out)


def test_epoch_entries_reproducible():
  entries = list(range(60))
  for epoch in range(4):
    assert (sampler.epoch_entries(entries, epoch, True, 4, seed=7) ==
            sampler.epoch_entries(entries, epoch, True, 4, seed=7))
  assert sampler.epoch_entries(entries, 0, True, 4, seed=7) == entries
  epochs = [tuple(sampler.epoch_entries(entries, e, True, 4, seed=7))
            for e in range(1, 5)]
  assert len(set(epochs)) == 4  # different epochs, different orders
  for order in epochs:
    check_blocks(list(order), entries, 4)
  assert (sampler.epoch_entries(entries, 1, True, 4, seed=7) !=
          sampler.epoch_entries(entries, 1, True, 4, seed=8))
  # None means seed 0.
  assert (sampler.epoch_entries(entries, 2, True, 4, seed=None) ==
          sampler.epoch_entries(entries, 2, True, 4, seed=0))


def test_num_batches():
  assert sampler.num_batches(16, 5) == 4
  assert sampler.num_batches(15, 5) == 3
  assert sampler.num_batches(1, 5) == 1
  assert sampler.num_batches(0, 5) == 0
  assert sampler.num_batches(7, 1) == 7


# Length buckets.


def test_sortagrad_epoch_is_never_bucketed():
  entries = _entries(range(100, 1700, 100))
  assert not sampler.use_buckets(0, True, 4)
  assert sampler.use_buckets(0, False, 4) and sampler.use_buckets(1, True, 4)
  assert not sampler.use_buckets(3, False, 0)
  assert sampler.epoch_entries(entries, 0, True, 4, 1, 4) == entries


def test_bucketed_epoch_is_shuffled_per_utterance():
  entries = _entries(range(100, 4100, 100))
  order = sampler.epoch_entries(entries, 1, True, 4, 1, length_buckets=2)
  assert sorted(order) == sorted(entries)
  # Not whole blocks any more: some block of 4 mixes entries of two blocks.
  assert any(len({entries.index(e) // 4 for e in order[i:i + 4]}) > 1
             for i in range(0, 40, 4))
  assert order == sampler.epoch_entries(entries, 1, True, 4, 1, 2)


def test_bucket_boundaries_split_into_equal_buckets():
  entries = _entries(range(100, 1300, 100))  # 12 sizes
  assert sampler.bucket_boundaries(entries, 0).size == 0
  assert sampler.bucket_boundaries(entries, 1).size == 0
  boundaries = sampler.bucket_boundaries(entries, 3)
  assert boundaries.dtype == np.int64
  # The lower 1/3 and 2/3 quantiles; a size equal to a boundary goes up.
  assert list(boundaries) == [400, 800]
  ids = sampler.bucket_ids(entries, boundaries)
  assert list(np.bincount(ids)) == [3, 4, 5]
  assert list(ids) == sorted(ids)  # larger files, higher buckets
  # Equal sizes collapse boundaries instead of making empty buckets.
  same = _entries([500] * 6)
  assert len(sampler.bucket_boundaries(same, 3)) == 1
  assert set(sampler.bucket_ids(same, sampler.bucket_boundaries(same, 3))) == {1}


def test_epoch_num_batches_counts_partial_batches_per_bucket():
  entries = _entries(range(100, 1100, 100))  # 10 entries
  assert sampler.epoch_num_batches(entries, 4) == 3
  boundaries = np.array([550], np.int64)  # buckets of 5 and 5
  assert sampler.epoch_num_batches(entries, 4, boundaries) == 4
  assert sampler.epoch_num_batches([], 4, boundaries) == 0


# Which entries and batches a cycle holds.


@pytest.mark.parametrize("skip,first,shards,shard,want", [
    (0, 0, 1, 0, list(range(10))),
    (2, 0, 1, 0, [6, 7, 8, 9]),
    (0, 0, 2, 0, [0, 1, 2, 6, 7, 8]),
    (0, 0, 2, 1, [3, 4, 5, 9]),
    (0, 1, 2, 0, [3, 4, 5, 9]),  # the epoch starts on worker 1's batch
    # Skipped batches are those of all workers; the round-robin restarts at
    # the first batch left: [3, 4, 5] worker 0, [6, 7, 8] worker 1.
    (1, 0, 2, 1, [6, 7, 8]),
    (4, 0, 1, 0, []),
])
def test_plain_batch_indices(skip, first, shards, shard, want):
  assert sampler.plain_batch_indices(10, 3, skip, first, shards,
                                     shard) == want


def test_cycle_parts_skip_whole_epochs_then_batches():
  epochs = [_entries(range(100, 700, 100)), _entries(range(700, 1200, 100))]
  parts = sampler.cycle_parts(epochs, [False, False], 2, skip_batches=4)
  # Epoch 0 has 3 batches: all skipped, then 1 of epoch 1's 3.
  (part,) = parts
  assert part.entries == epochs[1][2:]
  assert part.positions == [8, 9, 10]  # 6 entries in epoch 0, then 2 left
  assert not part.bucketed and part.skip_batches == 0
  assert sampler.cycle_parts(epochs, [False, False], 2, skip_batches=6) == []


def test_cycle_parts_shard_batches_round_robin_across_epochs():
  epochs = [_entries(range(100, 600, 100)), _entries(range(600, 1000, 100))]
  # Batches of 2: epoch 0 -> cycle batches 0, 1, 2; epoch 1 -> 3, 4.
  shards = [sampler.cycle_parts(epochs, [False, False], 2, num_shards=2,
                                shard=k) for k in (0, 1)]
  names = [[[e.wav_filename for e in p.entries] for p in parts]
           for parts in shards]
  assert [len(p) for p in names[0]] == [3, 2]  # batches 0, 2 and 4
  assert [len(p) for p in names[1]] == [2, 2]  # batches 1 and 3
  every = sorted(n for parts in names for p in parts for n in p)
  assert every == sorted(e.wav_filename for ep in epochs for e in ep)


def test_cycle_parts_bucketed_epoch_is_batched_whole_then_skipped():
  epochs = [_entries(range(100, 500, 100)), _entries(range(500, 1300, 100))]
  boundaries = np.array([850], np.int64)
  parts = sampler.cycle_parts(epochs, [False, True], 2, boundaries,
                              skip_batches=3, num_shards=2, shard=1)
  (part,) = parts
  assert part.bucketed and part.entries == epochs[1]
  assert part.positions == list(range(4, 12))
  assert part.skip_batches == 1  # 2 batches of epoch 0, then 1 of epoch 1
  # Epoch 0 left 2 batches (after the skip: batches 0 and 1 of the
  # round-robin), so epoch 1's batches left start at round-robin index 2.
  assert part.shard_index == (1 - 2) % 2
  assert sampler.cycle_parts(epochs, [False, True], 2, None)[1].bucketed is (
      False)  # no boundaries: plain batching

"""The order and batching of manifest entries: shuffles, epochs and buckets.

Entries arrive sorted by file size (`DeepSpeechDataset.entries`). Each epoch
they are batch-wise shuffled: consecutive groups of `batch_size`
similar-length utterances are shuffled as blocks, so padding stays small.
With sortagrad the first epoch keeps the sorted order (short utterances
first). With length buckets, later epochs are shuffled utterance by utterance
and `input_fn` batches them within file-size buckets instead.

Everything here works on plain lists of entries (anything with a
`wav_filesize`), never on tensors: `data/dataset.py` turns the result into
tf.data batches. Each epoch's order derives from (seed, epoch), so a run
resumed after a crash sees exactly the batches the interrupted run would have.
"""

import collections
import math
import random

import numpy as np

# What one epoch contributes to a cycle's batches on this worker.
#   entries: the entries to featurize, in batch order.
#   positions: each entry's position in the cycle (seeds its augmentation).
#   bucketed: whether the entries are batched by length bucket.
#   skip_batches: batches to drop after bucketed batching (0 when plain: plain
#     batches were left out of `entries` already).
#   shard_index: for bucketed batching under several workers, the index this
#     worker keeps among each `num_shards` consecutive batches (else None).
EpochPart = collections.namedtuple(
    "EpochPart",
    ["entries", "positions", "bucketed", "skip_batches", "shard_index"])


def batch_wise_dataset_shuffle(entries, epoch_index, sortagrad, batch_size,
                               rng=None):
  """Shuffles size-sorted entries in blocks of `batch_size`.

  With sortagrad, epoch 0 keeps the sorted order. Otherwise the full blocks
  are shuffled and the last partial block stays at the end, so every batch
  still holds utterances of similar length.

  Args:
    entries: entries sorted by size.
    epoch_index: 0-based epoch number.
    sortagrad: whether epoch 0 stays sorted.
    batch_size: block size; must equal the batch the pipeline makes (the
      per-device batch), or blocks and batches straddle each other.
    rng: a `random.Random`; None uses the `random` module (the seed's way,
      not reproducible unless it was seeded).

  Returns:
    A new list of entries.
  """
  if epoch_index == 0 and sortagrad:
    return list(entries)
  rng = rng or random
  num_blocks = len(entries) // batch_size
  order = list(range(num_blocks))
  rng.shuffle(order)
  shuffled = []
  for block in order:
    shuffled.extend(entries[block * batch_size:(block + 1) * batch_size])
  shuffled.extend(entries[num_blocks * batch_size:])
  return shuffled


def epoch_entries(entries, epoch_index, sortagrad, batch_size, seed,
                  length_buckets=0):
  """The entry order of one epoch, reproducible from (seed, epoch_index).

  Deriving each epoch's shuffle from the seed and the epoch number, rather
  than from a generator's running state, is what lets a run resumed after a
  crash see exactly the batches the interrupted run would have seen.

  With length_buckets > 0, epochs after the sorted sortagrad epoch are
  shuffled utterance by utterance instead of in blocks; `input_fn` then
  batches them by length bucket (see `use_buckets`).

  Args:
    entries: entries sorted by size.
    epoch_index: 0-based epoch number.
    sortagrad: whether epoch 0 stays sorted.
    batch_size: the per-device batch (the shuffle's block size).
    seed: the run's seed (None means 0).
    length_buckets: number of length buckets (0: none).

  Returns:
    A new list of entries.
  """
  rng = random.Random((seed or 0) * 1000003 + epoch_index)
  if use_buckets(epoch_index, sortagrad, length_buckets):
    shuffled = list(entries)
    rng.shuffle(shuffled)
    return shuffled
  return batch_wise_dataset_shuffle(entries, epoch_index, sortagrad,
                                    batch_size, rng)


def use_buckets(epoch_index, sortagrad, length_buckets):
  """Whether an epoch is batched by length bucket (never the sortagrad one)."""
  return length_buckets > 0 and not (epoch_index == 0 and sortagrad)


def bucket_boundaries(entries, length_buckets):
  """File-size boundaries splitting `entries` into equally populated buckets.

  Returns:
    int64 array of at most `length_buckets - 1` increasing sizes, in bytes
    (empty for fewer than two buckets).
  """
  if length_buckets <= 1:
    return np.array([], np.int64)
  sizes = np.array([e.wav_filesize for e in entries], np.int64)
  return np.unique(np.quantile(
      sizes, np.arange(1, length_buckets) / float(length_buckets),
      method="lower").astype(np.int64))


def bucket_ids(entries, boundaries):
  """The length bucket of each entry, by file size: int64 array [entries]."""
  sizes = np.array([e.wav_filesize for e in entries], np.int64)
  return np.searchsorted(boundaries, sizes, side="right").astype(np.int64)


def epoch_num_batches(entries, batch_size, boundaries=None):
  """Batches one epoch makes: plain batching, or per length bucket.

  Bucketed batching emits a batch whenever a bucket fills and flushes the
  partial ones at the end, so the count is the sum over buckets.
  """
  if boundaries is None:
    return num_batches(len(entries), batch_size)
  counts = np.bincount(bucket_ids(entries, boundaries))
  return int(sum(num_batches(int(c), batch_size) for c in counts if c))


def num_batches(num_entries, batch_size):
  """Batches one epoch of `num_entries` makes (the last may be partial)."""
  return int(math.ceil(num_entries / float(batch_size)))


def plain_batch_indices(num_entries, batch_size, skip_batches=0,
                        first_batch=0, num_shards=1, shard=0):
  """Indices of the entries a worker reads from a plainly batched epoch.

  Plain batches are consecutive runs of `batch_size` entries, so batches that
  were consumed already, or that belong to other workers, are left out
  before anything is read.

  Args:
    num_entries: entries in the epoch.
    batch_size: entries per batch.
    skip_batches: batches at the epoch's start to leave out.
    first_batch: the round-robin index of the epoch's first batch not
      skipped: batches left in the cycle are dealt to the workers in turn
      (batch i to worker i modulo num_shards), counting from the first
      batch left after a resume.
    num_shards, shard: the number of workers and this worker's index.

  Returns:
    A list of entry indices, in order.
  """
  starts = range(skip_batches * batch_size, num_entries, batch_size)
  return [i for batch, start in enumerate(starts)
          if (first_batch + batch) % num_shards == shard
          for i in range(start, min(start + batch_size, num_entries))]


def cycle_parts(epochs, bucketed, batch_size, boundaries=None, skip_batches=0,
                num_shards=1, shard=0):
  """Splits a cycle's epochs into what this worker batches from each.

  Batches never straddle two epochs. Resuming part-way skips whole epochs
  first, then batches of the first epoch left (`skip_batches` counts the
  batches of all workers); the batches left are then dealt to the workers in
  turn, the first one to worker 0.

  Args:
    epochs: list of entry lists, one per epoch, already in epoch order.
    bucketed: list of bools, one per epoch: batch it by length bucket
      (ignored without `boundaries`).
    batch_size: entries per batch.
    boundaries: file-size bucket boundaries (`bucket_boundaries`), or None.
    skip_batches: batches of all workers to leave out at the cycle's start.
    num_shards, shard: the number of workers and this worker's index.

  Returns:
    A list of `EpochPart`, one per epoch that has batches left.
  """
  parts = []
  first_position = 0  # position of the epoch's first entry in the cycle
  next_batch = 0  # round-robin index of the part's first batch
  for entries, by_bucket in zip(epochs, bucketed):
    by_bucket = bool(by_bucket) and boundaries is not None
    per_epoch = epoch_num_batches(entries, batch_size,
                                  boundaries if by_bucket else None)
    epoch_start, first_position = first_position, first_position + len(entries)
    if skip_batches >= per_epoch:
      skip_batches -= per_epoch
      continue
    if by_bucket:
      # Bucketed batches form inside tf.data: batch the whole epoch, then
      # skip and shard the batches.
      keep = range(len(entries))
      part_skip, shard_index = skip_batches, (
          (shard - next_batch) % num_shards if num_shards > 1 else None)
    else:
      keep = plain_batch_indices(len(entries), batch_size, skip_batches,
                                 next_batch, num_shards, shard)
      part_skip, shard_index = 0, None
    parts.append(EpochPart([entries[i] for i in keep],
                           [epoch_start + i for i in keep], by_bucket,
                           part_skip, shard_index))
    next_batch += per_epoch - skip_batches
    skip_batches = 0
  return parts

"""The DeepSpeech2 input pipeline: manifest -> entries -> tf.data batches.

Entries are read from a manifest (see `data/manifest.py`), sorted by file size
and, each epoch, batch-wise shuffled: consecutive groups of `batch_size`
similar-length utterances are shuffled as blocks, so padding stays small. With
sortagrad the first epoch keeps the sorted order (short utterances first).

`input_fn` featurizes in a parallel `tf.data` map (soundfile and the seed's
numpy spectrogram, which release the GIL), pads each batch and prefetches, so
the model never waits on a single-threaded Python generator.
"""

import math
import random

import numpy as np
import soundfile
import tensorflow as tf

from data import feature_cache
from data import featurizer
from data import manifest

# Batches featurized ahead of the training step.
_PREFETCH = tf.data.AUTOTUNE


class AudioConfig(object):
  """Spectrogram settings.

  Attributes:
    sample_rate: expected audio rate, in Hz (16000 for LibriSpeech).
    window_ms: spectrogram window, in ms.
    stride_ms: hop between windows, in ms.
    normalize: whether each utterance's features are normalized per
      frequency bin to zero mean and unit variance.
  """

  def __init__(self, sample_rate, window_ms, stride_ms, normalize=False):
    self.sample_rate = sample_rate
    self.window_ms = window_ms
    self.stride_ms = stride_ms
    self.normalize = normalize


class DatasetConfig(object):
  """What a dataset is made of.

  Attributes:
    audio_config: an `AudioConfig`.
    data_path: the manifest file.
    vocab_file_path: the vocabulary file.
    sortagrad: whether the first epoch keeps sorted (short-first) order.
    max_audio_sec: clips longer than this many seconds are skipped (None: no
      limit).
    strict: whether a bad manifest row is an error instead of a skip.
    check_audio: whether audio headers are checked up front (rate, channels,
      length, truncation). Turn off only for manifests already validated.
  """

  def __init__(self, audio_config, data_path, vocab_file_path, sortagrad,
               max_audio_sec=None, strict=False, check_audio=True):
    for what, path in (("manifest", data_path),
                       ("vocabulary file", vocab_file_path)):
      if not tf.io.gfile.exists(path):
        raise manifest.ManifestError("%s not found: %s" % (what, path))
    self.audio_config = audio_config
    self.data_path = data_path
    self.vocab_file_path = vocab_file_path
    self.sortagrad = sortagrad
    self.max_audio_sec = max_audio_sec
    self.strict = strict
    self.check_audio = check_audio


class DataError(ValueError):
  """Manifest rows that cannot be used (with --strict_data, or none left)."""

  def __init__(self, message, skipped):
    super().__init__(message)
    self.skipped = skipped


def _normalize_audio_feature(audio_feature):
  """Per-bin normalization over time: (x - mean) / (std + 1e-6).

  Args:
    audio_feature: float array [frames, bins].

  Returns:
    An array of the same shape.
  """
  mean = np.mean(audio_feature, axis=0)
  std = np.std(audio_feature, axis=0)
  return (audio_feature - mean) / (std + 1e-6)


# Marks the in-graph check of a failed audio read, so its error is recognised.
AUDIO_ERROR_MARKER = "DEEP_SPEECH_AUDIO_READ_ERROR"


def featurize_file(path, sample_rate, window_ms, stride_ms, normalize=True):
  """Reads one audio file and computes its features, the seed's way.

  Args:
    path: the audio file.
    sample_rate: the rate it must have, in Hz.
    window_ms, stride_ms: spectrogram framing, in ms.
    normalize: per-bin normalization over time.

  Returns:
    float32 [frames, bins, 1].

  Raises:
    ValueError, OSError, RuntimeError, soundfile.LibsndfileError: for a
      file that is not mono audio at `sample_rate` or cannot be read.
  """
  samples, rate = soundfile.read(path, dtype="float64", always_2d=False)
  if rate != sample_rate:
    raise ValueError("%d Hz, expected %d Hz" % (rate, sample_rate))
  if samples.ndim != 1:
    raise ValueError("%d channels, expected mono" % samples.shape[1])
  return featurize_samples(samples, sample_rate, window_ms, stride_ms,
                           normalize)


def featurize_samples(samples, sample_rate, window_ms, stride_ms,
                      normalize=True):
  """Features of a mono waveform, the seed's way (as `featurize_file`).

  Args:
    samples: float [n] in [-1, 1], at `sample_rate` Hz.

  Returns:
    float32 [frames, bins, 1].
  """
  feature = featurizer.compute_spectrogram_feature(
      samples, sample_rate, stride_ms, window_ms)
  if normalize:
    feature = _normalize_audio_feature(feature)
  return feature[:, :, np.newaxis].astype(np.float32)


def _preprocess_audio(path, sample_rate, window_ms, stride_ms, normalize):
  """`featurize_file` inside tf.data: never raises.

  It runs in a parallel tf.data map: numpy's FFT and array arithmetic release
  the GIL, so the calls really run side by side (about twice as fast on two
  cores as one Python thread).

  A file that cannot be read (changed or deleted since the manifest was
  checked) gives no features and the reason, which `featurize_audio` turns
  into a clear error; raising here would also make TensorFlow log a Python
  traceback.

  Returns:
    (features float32 [frames, bins, 1], error message bytes or b"").
  """
  name = path.decode("utf-8")
  try:
    return featurize_file(name, int(sample_rate), window_ms, stride_ms,
                          normalize), b""
  except (RuntimeError, OSError, ValueError, soundfile.LibsndfileError) as e:
    bins = featurizer.AudioFeaturizer(int(sample_rate), window_ms,
                                      stride_ms).num_feature_bins
    return (np.zeros([0, bins, 1], np.float32),
            ("%s: %s" % (name, e)).encode("utf-8"))


def featurize_audio(path, audio_config):
  """Features of one audio file, as tensors.

  Args:
    path: scalar string tensor.
    audio_config: an `AudioConfig`.

  Returns:
    float32 tensor [frames, bins, 1] (channel axis for the convolutions).
  """
  bins = featurizer.AudioFeaturizer(
      audio_config.sample_rate, audio_config.window_ms,
      audio_config.stride_ms).num_feature_bins
  feature, error = tf.numpy_function(
      _preprocess_audio,
      [path, float(audio_config.sample_rate), float(audio_config.window_ms),
       float(audio_config.stride_ms), bool(audio_config.normalize)],
      [tf.float32, tf.string], stateful=False)
  feature.set_shape([None, bins, 1])
  readable = tf.debugging.Assert(tf.equal(error, ""),
                                 [AUDIO_ERROR_MARKER, error])
  with tf.control_dependencies([readable]):
    return tf.identity(feature)


class DeepSpeechDataset(object):
  """A checked manifest plus the featurizers that turn it into tensors.

  Attributes:
    config: the `DatasetConfig`.
    entries: `ManifestEntry` rows, sorted by file size.
    skipped: `manifest.Skipped` records for rows that cannot be used.
    speech_labels: the vocabulary as one string, in index order.
    num_feature_bins: spectrogram bins (161 at 16 kHz, 20 ms).
    time_reduction: spectrogram frames per model output frame.
  """

  def __init__(self, dataset_config, time_reduction=4):
    self.config = dataset_config
    audio = dataset_config.audio_config
    self.audio_featurizer = featurizer.AudioFeaturizer(
        sample_rate=audio.sample_rate, window_ms=audio.window_ms,
        stride_ms=audio.stride_ms)
    self.text_featurizer = featurizer.TextFeaturizer(
        vocab_file=dataset_config.vocab_file_path)
    self.speech_labels = self.text_featurizer.speech_labels
    self.time_reduction = time_reduction
    self.num_feature_bins = self.audio_featurizer.num_feature_bins

    check = None
    if dataset_config.check_audio:
      check = manifest.AudioCheck(
          sample_rate=audio.sample_rate, window_ms=audio.window_ms,
          stride_ms=audio.stride_ms,
          max_audio_sec=dataset_config.max_audio_sec,
          time_reduction=time_reduction)
    entries, self.skipped = manifest.read_manifest(
        dataset_config.data_path, self.text_featurizer.token_to_index, check)
    if self.skipped and dataset_config.strict:
      raise DataError(
          "%d bad row(s) in %s and --strict_data is set; first: %s" % (
              len(self.skipped), dataset_config.data_path,
              manifest.format_skipped(self.skipped[0])), self.skipped)
    if not entries:
      raise DataError("no usable rows in %s (%d skipped)" % (
          dataset_config.data_path, len(self.skipped)), self.skipped)
    # Sort by size so that a batch holds utterances of similar length. The
    # sort is stable: equal sizes keep manifest order, so runs are repeatable.
    self.entries = sorted(entries, key=lambda e: e.wav_filesize)


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
  """File-size boundaries splitting `entries` into equally populated buckets."""
  if length_buckets <= 1:
    return np.array([], np.int64)
  sizes = np.array([e.wav_filesize for e in entries], np.int64)
  return np.unique(np.quantile(
      sizes, np.arange(1, length_buckets) / float(length_buckets),
      method="lower").astype(np.int64))


def bucket_ids(entries, boundaries):
  """The length bucket of each entry, by file size."""
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


def _label_table(token_to_index):
  """A dense codepoint -> index array for in-graph label lookup."""
  table = np.full(max(ord(c) for c in token_to_index) + 1, -1, np.int32)
  for char, index in token_to_index.items():
    table[ord(char)] = index
  return tf.constant(table)


def input_fn(batch_size, deep_speech_dataset, repeat=1, epochs=None,
             skip_batches=0, num_parallel_calls=tf.data.AUTOTUNE,
             feature_cache_dir=None, bucket_boundaries=None,  # pylint: disable=redefined-outer-name
             bucketed=None, augment=None, input_context=None):
  """Builds the padded, prefetched batches for one training cycle or eval.

  Args:
    batch_size: utterances per batch (the per-device batch under a
      distribution strategy).
    deep_speech_dataset: a `DeepSpeechDataset`.
    repeat: how many passes over `deep_speech_dataset.entries` (used when
      `epochs` is None; each pass has the same order).
    epochs: optional list of entry lists, one per epoch, already shuffled
      (`epoch_entries`); batches never straddle two epochs.
    skip_batches: batches to leave out at the start (resuming a cycle
      part-way); plain batches are skipped before featurization.
    num_parallel_calls: parallel featurization calls (AUTOTUNE by default).
    feature_cache_dir: optional directory of cached features
      (`data/feature_cache.py`); missing entries are computed and written.
    bucket_boundaries: file-size boundaries (`bucket_boundaries()`) for the
      epochs marked in `bucketed`.
    bucketed: list of bools, one per epoch: batch that epoch by length
      bucket (tf.data group_by_window) instead of in order.
    augment: optional augmentation from `data.augment` applied to each
      utterance (training only), seeded by its position in `epochs`; it is
      told how many frames the transcript needs, so it can keep them.
    input_context: a `tf.distribute.InputContext` when the Estimator trains
      with MultiWorkerMirroredStrategy (it passes one to input functions
      that take it): this worker keeps the cycle's batches whose index is
      its input_pipeline_id modulo num_input_pipelines. Plain batches of
      other workers are never read; bucketed epochs are batched in full and
      then sharded. skip_batches counts batches of all workers.

  Returns:
    A `tf.data.Dataset` of (features, labels): features is a dict with
    "features" float32 [batch, frames, bins, 1], "input_length" int32
    [batch, 1], "label_length" int32 [batch, 1] and "wav_filename" string
    [batch]; labels is int32 [batch, max_label_length], zero-padded.
  """
  if epochs is None:
    epochs = [deep_speech_dataset.entries] * repeat
  if bucketed is None:
    bucketed = [False] * len(epochs)
  audio_config = deep_speech_dataset.config.audio_config
  num_bins = deep_speech_dataset.num_feature_bins
  table = _label_table(deep_speech_dataset.text_featurizer.token_to_index)
  cache = (feature_cache.FeatureCache(feature_cache_dir, audio_config)
           if feature_cache_dir else None)

  def _features(path, cache_path, cached):
    if cache is None:
      return featurize_audio(path, audio_config)

    def _read():
      return tf.ensure_shape(
          tf.io.parse_tensor(tf.io.read_file(cache_path), tf.float32),
          [None, num_bins, 1])

    def _compute_and_write():
      features = featurize_audio(path, audio_config)
      written = tf.numpy_function(
          feature_cache.write_entry,
          [cache_path, tf.io.serialize_tensor(features)], tf.bool)
      with tf.control_dependencies([written]):
        return tf.identity(features)

    return tf.cond(cached, _read, _compute_and_write)

  augmenting = augment is not None and augment.enabled

  def _parse(path, transcript, cache_path, cached, bucket, index, needed):
    features = _features(path, cache_path, cached)
    labels = tf.gather(table, tf.strings.unicode_decode(transcript, "UTF-8"))
    if augmenting:
      features = augment(features, index, needed)
    return ({
        "features": features,
        "input_length": tf.shape(features)[:1],
        "label_length": tf.shape(labels)[:1],
        "wav_filename": path,
    }, labels, bucket)

  padded_shapes = ({
      "features": tf.TensorShape([None, num_bins, 1]),
      "input_length": tf.TensorShape([1]),
      "label_length": tf.TensorShape([1]),
      "wav_filename": tf.TensorShape([]),
  }, tf.TensorShape([None]), tf.TensorShape([]))

  def _batch(dataset):
    return dataset.padded_batch(batch_size, padded_shapes=padded_shapes)

  def _columns(entries, by_bucket, indices):
    paths = [e.wav_filename for e in entries]
    cache_paths, cached = (cache.lookup(paths) if cache is not None
                           else ([""] * len(paths), [False] * len(paths)))
    buckets = (bucket_ids(entries, bucket_boundaries) if by_bucket
               else np.zeros(len(entries), np.int64))
    # Spectrogram frames each transcript needs, so augmentation keeps them.
    needed = [manifest.ctc_required_frames(e.transcript) *
              deep_speech_dataset.time_reduction if augmenting else 0
              for e in entries]
    # Typed explicitly: an empty list would otherwise be taken for float.
    return (tf.constant(paths, tf.string),
            tf.constant([e.transcript for e in entries], tf.string),
            tf.constant(cache_paths, tf.string), tf.constant(cached, tf.bool),
            tf.constant(buckets, tf.int64),
            tf.constant(indices, tf.int64),
            tf.constant(needed, tf.int32))

  num_shards, shard = ((input_context.num_input_pipelines,
                        input_context.input_pipeline_id)
                       if input_context is not None else (1, 0))
  dataset = None
  first_index = 0  # position of the epoch's first entry in the cycle
  next_batch = 0  # index in the cycle of the part's first batch
  for entries, by_bucket in zip(epochs, bucketed):
    by_bucket = bool(by_bucket) and bucket_boundaries is not None
    per_epoch = epoch_num_batches(entries, batch_size,
                                  bucket_boundaries if by_bucket else None)
    epoch_start, first_index = first_index, first_index + len(entries)
    if skip_batches >= per_epoch:
      skip_batches -= per_epoch
      continue
    keep = range(len(entries))
    if not by_bucket:
      # Plain batches are consecutive runs of entries: skip them, and other
      # workers' batches, unread.
      keep = [i for batch, start in enumerate(
          range(skip_batches * batch_size, len(entries), batch_size))
              if (next_batch + batch) % num_shards == shard
              for i in range(start, min(start + batch_size, len(entries)))]
      entries = [entries[i] for i in keep]
    # Each entry's position in the cycle seeds its augmentation.
    indices = [epoch_start + i for i in keep]
    part = tf.data.Dataset.from_tensor_slices(
        _columns(entries, by_bucket, indices))
    # deterministic=True keeps the order, so batches follow the shuffle.
    part = part.map(_parse, num_parallel_calls=num_parallel_calls,
                    deterministic=True)
    if by_bucket:
      part = part.group_by_window(
          key_func=lambda features, labels, bucket: bucket,
          reduce_func=lambda _, window: _batch(window),
          window_size=batch_size)
      part = part.skip(skip_batches)
      if num_shards > 1:
        part = part.shard(num_shards, (shard - next_batch) % num_shards)
    else:
      part = _batch(part)
    next_batch += per_epoch - skip_batches
    skip_batches = 0
    dataset = part if dataset is None else dataset.concatenate(part)
  if dataset is None:
    # Everything was consumed already; an empty dataset ends training at once.
    dataset = _batch(tf.data.Dataset.from_tensor_slices(
        _columns([], False, [])).map(_parse))
  # Drop the bucket id: the Estimator sees (features, labels).
  dataset = dataset.map(lambda features, labels, bucket: (features, labels))
  return dataset.prefetch(_PREFETCH)

"""The DeepSpeech2 input pipeline: manifest -> entries -> tf.data batches.

`DeepSpeechDataset` reads and checks a manifest (see `data/manifest.py`) and
sorts its entries by file size; `data/sampler.py` orders them into epochs
(batch-wise shuffles, sortagrad, length buckets). `input_fn` turns a cycle's
epochs into padded batches: it featurizes in a parallel `tf.data` map
(soundfile and the seed's numpy spectrogram, `featurizer.
compute_spectrogram_feature`, both of which release the GIL), optionally reads
and writes the feature cache and augments, pads each batch and prefetches.
"""

import functools

import numpy as np
import soundfile
import tensorflow as tf

from data import feature_cache
from data import featurizer
from data import manifest
from data import sampler
from data import text_normalization

# Batches featurized ahead of the training step.
_PREFETCH = tf.data.AUTOTUNE


class AudioConfig(featurizer.AudioFeaturizer):
  """The seed's name and spelling for the featurizer settings value.

  `normalize` is the seed's: True over the whole utterance, "running" by the
  frames so far (what a stream can do, `featurizer.RunningNormalizer`),
  False not at all; the value itself is `featurizer.AudioFeaturizer`.
  """

  def __init__(self, sample_rate, *, window_ms, stride_ms, normalize=False):
    normalization = {True: "utterance", False: "none"}.get(normalize,
                                                           normalize)
    super().__init__(sample_rate, window_ms=window_ms, stride_ms=stride_ms,
                     normalization=normalization)


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
    text_policy: the `text_normalization.TextPolicy` transcripts go through
      before they become labels (default: lower-case, NFC, the original's).
  """

  def __init__(self, audio_config, data_path, vocab_file_path, sortagrad,
               max_audio_sec=None, strict=False, check_audio=True,
               text_policy=text_normalization.DEFAULT):
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
    self.text_policy = text_policy


class DataError(ValueError):
  """Manifest rows that cannot be used (a strict dataset, or none left)."""

  def __init__(self, message, skipped):
    super().__init__(message)
    self.skipped = skipped


# Marks the in-graph check of a failed audio read, so its error is recognised.
AUDIO_ERROR_MARKER = "DEEP_SPEECH_AUDIO_READ_ERROR"


def _preprocess_audio(path, position, features, wave_augment=None):
  """`featurizer.featurize_file` inside tf.data: never raises.

  It runs in a parallel tf.data map: numpy's FFT and array arithmetic release
  the GIL, so the calls really run side by side on several cores.

  A file that cannot be read (changed or deleted since the manifest was
  checked) gives no features and the reason, which `featurize_audio` turns
  into a clear error; raising here would also make TensorFlow log a Python
  traceback.

  `features` is the `featurizer.AudioFeaturizer` settings value. With
  `wave_augment` (`data/wave_augment.py`), the waveform is
  augmented, seeded by `position`, before it is featurized.

  Returns:
    (features float32 [frames, bins, 1], error message bytes or b"").
  """
  name = path.decode("utf-8")
  try:
    if wave_augment is None:
      return features.featurize_file(name), b""
    samples = wave_augment(
        featurizer.read_audio(name, features.sample_rate), position)
    return features.featurize_samples(samples), b""
  except (RuntimeError, OSError, ValueError, soundfile.LibsndfileError) as e:
    return (np.zeros([0, features.num_feature_bins, 1], np.float32),
            ("%s: %s" % (name, e)).encode("utf-8"))


def featurize_audio(path, audio_config, wave_augment=None, position=0):
  """Features of one audio file, as tensors.

  Args:
    path: scalar string tensor.
    audio_config: an `AudioConfig`.
    wave_augment: optional `wave_augment.WaveAugment` for the waveform.
    position: int64 scalar tensor, the utterance's position (seeds it).

  Returns:
    float32 tensor [frames, bins, 1] (channel axis for the convolutions).
  """
  bins = audio_config.num_feature_bins
  feature, error = tf.numpy_function(
      functools.partial(_preprocess_audio, features=audio_config,
                        wave_augment=wave_augment),
      [path, position],
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

  def __init__(self, dataset_config, time_reduction):
    """Reads, checks and sorts the manifest's entries.

    Args:
      dataset_config: a `DatasetConfig`.
      time_reduction: spectrogram frames the model folds into one output
        frame (`deep_speech_model.TIME_REDUCTION`); with the audio settings
        it decides which transcripts fit their clip.

    Raises:
      manifest.ManifestError: the manifest cannot be read at all.
      DataError: no usable row, or a bad row in a strict dataset.
    """
    self.config = dataset_config
    audio = dataset_config.audio_config
    self.audio_featurizer = audio
    self.text_featurizer = featurizer.TextFeaturizer(
        vocab_file=dataset_config.vocab_file_path)
    self.speech_labels = self.text_featurizer.speech_labels
    self.time_reduction = time_reduction
    self.num_feature_bins = self.audio_featurizer.num_feature_bins

    check = None
    if dataset_config.check_audio:
      check = manifest.AudioCheck(
          audio, max_audio_sec=dataset_config.max_audio_sec,
          time_reduction=time_reduction)
    entries, self.skipped = manifest.read_manifest(
        dataset_config.data_path, self.text_featurizer.token_to_index, check,
        text_policy=dataset_config.text_policy)
    if self.skipped and dataset_config.strict:
      raise DataError(
          "%d bad row(s) in %s and the dataset is strict; first: %s" % (
              len(self.skipped), dataset_config.data_path,
              manifest.format_skipped(self.skipped[0])), self.skipped)
    if not entries:
      raise DataError("no usable rows in %s (%d skipped)" % (
          dataset_config.data_path, len(self.skipped)), self.skipped)
    # Sort by size so that a batch holds utterances of similar length. The
    # sort is stable: equal sizes keep manifest order, so runs are repeatable.
    self.entries = sorted(entries, key=lambda e: e.wav_filesize)


def _label_table(token_to_index):
  """A dense codepoint -> index array for in-graph label lookup."""
  table = np.full(max(ord(c) for c in token_to_index) + 1, -1, np.int32)
  for char, index in token_to_index.items():
    table[ord(char)] = index
  return tf.constant(table)




class _Utterances(object):
  """Turns entries into (features, labels, bucket) elements for tf.data.

  `columns` makes the per-entry constant tensors that `from_tensor_slices`
  slices; `parse` maps one slice to its features (computed, or read from the
  feature cache) and labels, then augments the features.
  """

  def __init__(self, deep_speech_dataset, feature_cache_dir=None,
               augment=None, wave_augment=None):
    self.audio_config = deep_speech_dataset.config.audio_config
    self.num_bins = deep_speech_dataset.num_feature_bins
    self.time_reduction = deep_speech_dataset.time_reduction
    self.table = _label_table(
        deep_speech_dataset.text_featurizer.token_to_index)
    self.cache = (feature_cache.FeatureCache(feature_cache_dir,
                                             self.audio_config)
                  if feature_cache_dir else None)
    self.augment = augment if augment is not None and augment.enabled else None
    self.wave_augment = (wave_augment if wave_augment is not None and
                         wave_augment.enabled else None)

  def columns(self, entries, positions, buckets):
    """Constant tensors, one row per entry, for `from_tensor_slices`.

    Args:
      entries: `ManifestEntry` rows.
      positions: each entry's position in the cycle (seeds augmentation).
      buckets: each entry's length bucket (zeros when not bucketed).
    """
    paths = [e.wav_filename for e in entries]
    cache_paths, cached = (self.cache.lookup(paths) if self.cache is not None
                           else ([""] * len(paths), [False] * len(paths)))
    # Spectrogram frames each transcript needs, so augmentation keeps them.
    needed = [manifest.ctc_required_frames(e.transcript) *
              self.time_reduction if self.augment else 0 for e in entries]
    # Typed explicitly: an empty list would otherwise be taken for float.
    return (tf.constant(paths, tf.string),
            tf.constant([e.transcript for e in entries], tf.string),
            tf.constant(cache_paths, tf.string), tf.constant(cached, tf.bool),
            tf.constant(buckets, tf.int64), tf.constant(positions, tf.int64),
            tf.constant(needed, tf.int32))

  def parse(self, path, transcript, cache_path, cached, bucket, position,
            needed):
    """One utterance's ({features, lengths, name}, labels, bucket)."""
    if self.wave_augment is not None:
      # Augmented waveforms differ each presentation: no cache.
      features = featurize_audio(path, self.audio_config, self.wave_augment,
                                 position)
    else:
      features = self._features(path, cache_path, cached)
    labels = tf.gather(self.table,
                       tf.strings.unicode_decode(transcript, "UTF-8"))
    if self.augment is not None:
      features = self.augment(features, position, needed)
    return ({
        "features": features,
        "input_length": tf.shape(features)[:1],
        "label_length": tf.shape(labels)[:1],
        "wav_filename": path,
    }, labels, bucket)

  def _features(self, path, cache_path, cached):
    """float32 [frames, bins, 1]: from the cache if there, else computed."""
    if self.cache is None:
      return featurize_audio(path, self.audio_config)
    return tf.cond(cached,
                   functools.partial(self._read_cached, cache_path),
                   functools.partial(self._compute_and_cache, path,
                                     cache_path))

  def _read_cached(self, cache_path):
    return tf.ensure_shape(
        tf.io.parse_tensor(tf.io.read_file(cache_path), tf.float32),
        [None, self.num_bins, 1])

  def _compute_and_cache(self, path, cache_path):
    features = featurize_audio(path, self.audio_config)
    written = tf.numpy_function(
        feature_cache.write_entry,
        [cache_path, tf.io.serialize_tensor(features)], tf.bool)
    with tf.control_dependencies([written]):
      return tf.identity(features)


def _padded_batch(dataset, batch_size, num_bins):
  """Pads (features, labels, bucket) elements into batches of `batch_size`."""
  return dataset.padded_batch(batch_size, padded_shapes=({
      "features": tf.TensorShape([None, num_bins, 1]),
      "input_length": tf.TensorShape([1]),
      "label_length": tf.TensorShape([1]),
      "wav_filename": tf.TensorShape([]),
  }, tf.TensorShape([None]), tf.TensorShape([])))


def _part_batches(part, utterances, batch_size, boundaries, num_shards,
                  num_parallel_calls):
  """The batches of one `sampler.EpochPart`, as a tf.data.Dataset."""
  buckets = (sampler.bucket_ids(part.entries, boundaries) if part.bucketed
             else np.zeros(len(part.entries), np.int64))
  dataset = tf.data.Dataset.from_tensor_slices(
      utterances.columns(part.entries, part.positions, buckets))
  # deterministic=True keeps the order, so batches follow the shuffle.
  dataset = dataset.map(utterances.parse,
                        num_parallel_calls=num_parallel_calls,
                        deterministic=True)
  batch = functools.partial(_padded_batch, batch_size=batch_size,
                            num_bins=utterances.num_bins)
  if not part.bucketed:
    return batch(dataset)
  dataset = dataset.group_by_window(
      key_func=lambda features, labels, bucket: bucket,
      reduce_func=lambda _, window: batch(window),
      window_size=batch_size)
  dataset = dataset.skip(part.skip_batches)
  if part.shard_index is not None:
    dataset = dataset.shard(num_shards, part.shard_index)
  return dataset


def input_fn(batch_size, deep_speech_dataset, repeat=1, epochs=None,
             skip_batches=0, num_parallel_calls=tf.data.AUTOTUNE,
             feature_cache_dir=None, bucket_boundaries=None,
             bucketed=None, augment=None, input_context=None,
             wave_augment=None):
  """Builds the padded, prefetched batches for one training cycle or eval.

  Args:
    batch_size: utterances per batch (the per-device batch under a
      distribution strategy).
    deep_speech_dataset: a `DeepSpeechDataset`.
    repeat: how many passes over `deep_speech_dataset.entries` (used when
      `epochs` is None; each pass has the same order).
    epochs: optional list of entry lists, one per epoch, already shuffled
      (`sampler.epoch_entries`); batches never straddle two epochs.
    skip_batches: batches to leave out at the start (resuming a cycle
      part-way); plain batches are skipped before featurization.
    num_parallel_calls: parallel featurization calls (AUTOTUNE by default).
    feature_cache_dir: optional directory of cached features
      (`data/feature_cache.py`); missing entries are computed and written.
    bucket_boundaries: file-size boundaries (`sampler.bucket_boundaries`)
      for the epochs marked in `bucketed`.
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
    wave_augment: optional `wave_augment.WaveAugment` applied to each
      utterance's waveform before featurization (training only), seeded like
      `augment`; those features bypass the feature cache.

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
  num_shards, shard = ((input_context.num_input_pipelines,
                        input_context.input_pipeline_id)
                       if input_context is not None else (1, 0))
  utterances = _Utterances(deep_speech_dataset, feature_cache_dir, augment,
                           wave_augment)
  parts = sampler.cycle_parts(epochs, bucketed, batch_size,
                              bucket_boundaries, skip_batches, num_shards,
                              shard)
  dataset = None
  for part in parts:
    batches = _part_batches(part, utterances, batch_size, bucket_boundaries,
                            num_shards, num_parallel_calls)
    dataset = batches if dataset is None else dataset.concatenate(batches)
  if dataset is None:
    # Everything was consumed already; an empty dataset ends training at once.
    empty = sampler.EpochPart([], [], False, 0, None)
    dataset = _part_batches(empty, utterances, batch_size, None, 1, 1)
  # Drop the bucket id: the Estimator sees (features, labels).
  dataset = dataset.map(lambda features, labels, bucket: (features, labels))
  return dataset.prefetch(_PREFETCH)

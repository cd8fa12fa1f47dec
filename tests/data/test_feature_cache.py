"""Tests for data/feature_cache.py, and input_fn's cached and bucketed
batches (the bucket arithmetic itself is in tests/data/test_sampler.py)."""

import collections
import os

import numpy as np
import pytest
import tensorflow as tf

from data import dataset
from data import feature_cache
from data import sampler
from tests import conftest


def _speech(manifest, window_ms=20):
  return conftest.speech_dataset(manifest, window_ms)


def _features_by_file(ds):
  """{wav_filename: features[:input_length]} over a whole dataset."""
  out = {}
  for features, _ in ds.as_numpy_iterator():
    for name, feat, length in zip(features["wav_filename"],
                                  features["features"],
                                  features["input_length"][:, 0]):
      out[name.decode()] = feat[:length]
  return out


def _cache_files(directory):
  return sorted(os.path.join(d, f) for d, _, files in os.walk(directory)
                for f in files)


def test_cache_gives_identical_features_and_is_read_back(tmp_path, corpus):
  speech = _speech(corpus)
  cache_dir = str(tmp_path / "cache")
  plain = _features_by_file(dataset.input_fn(4, speech))
  filled = _features_by_file(dataset.input_fn(
      4, speech, feature_cache_dir=cache_dir))
  files = _cache_files(cache_dir)
  assert len(files) == len(speech.entries)
  assert not any(f.endswith(".tmp") for f in files)

  # Plant a recognisable value in one entry: the next pass must return it,
  # which shows that cached features are read, not recomputed.
  victim = speech.entries[0].wav_filename
  planted_path = feature_cache.FeatureCache(
      cache_dir, speech.config.audio_config).path_for(victim)
  planted = np.full_like(plain[victim], 7.0)
  tf.io.write_file(planted_path, tf.io.serialize_tensor(planted))
  cached = _features_by_file(dataset.input_fn(
      4, speech, feature_cache_dir=cache_dir))

  for name, feat in plain.items():
    np.testing.assert_array_equal(filled[name], feat)
    if name != victim:
      np.testing.assert_array_equal(cached[name], feat)
  np.testing.assert_array_equal(cached[victim], planted)


def test_cache_misses_when_audio_or_settings_change(tmp_path, corpus):
  speech = _speech(corpus)
  cache = feature_cache.FeatureCache(str(tmp_path / "c"),
                                     speech.config.audio_config)
  path = speech.entries[0].wav_filename
  key = cache.path_for(path)
  other_settings = feature_cache.FeatureCache(
      str(tmp_path / "c"), _speech(corpus, window_ms=25).config.audio_config)
  assert other_settings.path_for(path) != key

  # Rewrite the audio (different content and size): a new key, and the
  # pipeline computes features of the new audio.
  list(dataset.input_fn(4, speech, feature_cache_dir=str(tmp_path / "c")))
  audio = conftest.synthesize("red fish blue fish", np.random.default_rng(5))
  conftest.write_wav(path, audio)
  assert cache.path_for(path) != key
  entries = [e._replace(wav_filesize=os.path.getsize(path))
             for e in speech.entries if e.wav_filename == path]
  speech.entries = entries
  (features, _), = dataset.input_fn(
      1, speech, feature_cache_dir=str(tmp_path / "c")).as_numpy_iterator()
  (fresh, _), = dataset.input_fn(1, speech).as_numpy_iterator()
  np.testing.assert_array_equal(features["features"], fresh["features"])


def test_length_buckets_batch_within_buckets(corpus):
  speech = _speech(corpus)
  boundaries = sampler.bucket_boundaries(speech.entries, 3)
  assert len(boundaries) == 2
  entries = sampler.epoch_entries(speech.entries, 1, True, 3, seed=1,
                                  length_buckets=3)
  assert sorted(entries, key=lambda e: e.line) == sorted(
      speech.entries, key=lambda e: e.line)
  bucket_of = dict(zip((e.wav_filename for e in speech.entries),
                       sampler.bucket_ids(speech.entries, boundaries)))
  batches = [f["wav_filename"] for f, _ in dataset.input_fn(
      3, speech, epochs=[entries], bucket_boundaries=boundaries,
      bucketed=[True]).as_numpy_iterator()]
  assert len(batches) == sampler.epoch_num_batches(entries, 3, boundaries)
  seen = [n.decode() for batch in batches for n in batch]
  assert sorted(seen) == sorted(bucket_of)
  for batch in batches:
    assert len({bucket_of[n.decode()] for n in batch}) == 1

  # Resuming skips exactly the first k bucketed batches.
  rest = [f["wav_filename"] for f, _ in dataset.input_fn(
      3, speech, epochs=[entries], bucket_boundaries=boundaries,
      bucketed=[True], skip_batches=2).as_numpy_iterator()]
  assert [list(b) for b in rest] == [list(b) for b in batches[2:]]


@pytest.mark.slow
def test_training_with_cache_and_buckets(tmp_path, corpus):
  from tests.helpers.train import TINY, run_in_process  # pylint: disable=g-import-not-at-top
  cycles = run_in_process(TINY + [
      "--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
      "--model_dir=" + str(tmp_path / "m"), "--train_epochs=2",
      "--feature_cache_dir=" + str(tmp_path / "cache"),
      "--length_buckets=2"])
  speech = _speech(corpus)
  boundaries = sampler.bucket_boundaries(speech.entries, 2)
  second = sampler.epoch_entries(speech.entries, 1, True, 4, 1, 2)
  expected = 4 + sampler.epoch_num_batches(second, 4, boundaries)
  assert [c["global_step"] for c in cycles] == [4, expected]
  assert len(_cache_files(str(tmp_path / "cache"))) == len(speech.entries)


def test_a_symlink_at_an_entry_is_a_miss_and_is_replaced(tmp_path):
  audio = tmp_path / "a.wav"
  audio.write_bytes(b"RIFF")
  config = collections.namedtuple("Config", "sample_rate window_ms "
                                  "stride_ms normalize")(16000, 20, 10, True)
  cache = feature_cache.FeatureCache(str(tmp_path / "cache"), config)
  entry = cache.path_for(str(audio))
  os.makedirs(os.path.dirname(entry))
  precious = tmp_path / "precious.bin"
  precious.write_bytes(b"keep me")
  os.symlink(str(precious), entry)
  assert cache.lookup([str(audio)]) == ([entry], [False])
  feature_cache.write_entry(entry.encode("utf-8"), b"features")
  assert precious.read_bytes() == b"keep me"
  assert not os.path.islink(entry)
  assert open(entry, "rb").read() == b"features"
  assert cache.lookup([str(audio)]) == ([entry], [True])

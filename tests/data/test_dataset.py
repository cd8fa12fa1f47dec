"""Tests for data/dataset.py: entries and input_fn.

The features input_fn produces are held against the seed's numpy spectrogram
(re-implemented in bench/seed_reference.py) plus the per-bin normalization.
Shuffles and epoch orders are tested in tests/data/test_sampler.py.
"""

import os

import numpy as np
import pytest
import soundfile
import tensorflow as tf

from bench import seed_reference
from data import augment
from data import dataset
from data import featurizer
from data import manifest
from data import sampler
from data import text_normalization
from data import vocabulary
import deep_speech_model
from tests import conftest
from tests.data.test_sampler import check_blocks

VOCAB_FILE = vocabulary.VOCABULARY_FILE
TIME_REDUCTION = deep_speech_model.TIME_REDUCTION
NUM_BINS = 161
NUM_UTTS = 7


def _config(manifest_path, normalize=True, sortagrad=True, **kwargs):
  audio = dataset.AudioConfig(sample_rate=16000, window_ms=20, stride_ms=10,
                              normalize=normalize)
  return dataset.DatasetConfig(audio, manifest_path, VOCAB_FILE, sortagrad,
                               **kwargs)


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
  return conftest.make_corpus(tmp_path_factory.mktemp("small"),
                              num_utts=NUM_UTTS, seed=3)


@pytest.fixture(scope="module")
def ds(small_corpus):
  return dataset.DeepSpeechDataset(_config(small_corpus), TIME_REDUCTION)


def _manifest_rows(path):
  with open(path) as f:
    lines = f.read().splitlines()[1:]
  return [line.split("\t") for line in lines]


def _batches(tf_dataset):
  return [(
      {k: v.numpy() for k, v in features.items()}, labels.numpy())
          for features, labels in tf_dataset]


def _names(batch):
  return [name.decode("utf-8") for name in batch[0]["wav_filename"]]


# DatasetConfig and DeepSpeechDataset.


def test_dataset_config_missing_manifest(tmp_path):
  with pytest.raises(manifest.ManifestError, match="manifest not found"):
    _config(str(tmp_path / "nope.csv"))


def test_dataset_config_missing_vocabulary(small_corpus, tmp_path):
  audio = dataset.AudioConfig(16000, window_ms=20, stride_ms=10)
  with pytest.raises(manifest.ManifestError, match="vocabulary"):
    dataset.DatasetConfig(audio, small_corpus, str(tmp_path / "v.txt"), True)


def test_dataset_entries_sorted_by_size(ds, small_corpus):
  rows = _manifest_rows(small_corpus)
  assert len(ds.entries) == NUM_UTTS
  sizes = [e.wav_filesize for e in ds.entries]
  assert sizes == sorted(sizes)
  assert sorted(e.wav_filename for e in ds.entries) == sorted(
      r[0] for r in rows)
  # The corpus sizes differ, so the order is the sort's, not the file's.
  assert len(set(sizes)) > 1
  assert ds.skipped == []
  assert ds.num_feature_bins == NUM_BINS
  assert ds.speech_labels == " abcdefghijklmnopqrstuvwxyz'-"


def test_dataset_sort_is_stable_for_equal_sizes(tmp_path):
  rng = np.random.default_rng(0)
  audio = conftest.synthesize("cat", rng)
  rows = []
  for i, text in enumerate(["cat", "dog", "sun"]):
    path = str(tmp_path / ("u%d.wav" % i))
    size = conftest.write_wav(path, audio)
    rows.append((path, size, text))
  path = conftest.write_manifest(tmp_path / "m.csv", rows)
  entries = dataset.DeepSpeechDataset(_config(path), TIME_REDUCTION).entries
  assert [e.transcript for e in entries] == ["cat", "dog", "sun"]


def test_no_usable_rows_is_data_error(tmp_path):
  path = conftest.write_manifest(tmp_path / "m.csv", [
      (str(tmp_path / "missing.wav"), 100, "cat")])
  with pytest.raises(dataset.DataError, match="no usable rows") as info:
    dataset.DeepSpeechDataset(_config(path), TIME_REDUCTION)
  assert [s.reason for s in info.value.skipped] == ["missing_file"]


def test_strict_raises_on_one_bad_row(small_corpus, tmp_path):
  rows = [r for r in _manifest_rows(small_corpus)]
  rows.insert(2, [str(tmp_path / "gone.wav"), "1234", "cat"])
  path = conftest.write_manifest(
      tmp_path / "m.csv", [(a, int(b), c) for a, b, c in rows])
  with pytest.raises(dataset.DataError) as info:
    dataset.DeepSpeechDataset(_config(path, strict=True), TIME_REDUCTION)
  assert "gone.wav" in str(info.value)
  assert ":4: missing_file" in str(info.value)
  assert len(info.value.skipped) == 1
  # Without strict the bad row is skipped and the rest is kept.
  lenient = dataset.DeepSpeechDataset(_config(path), TIME_REDUCTION)
  assert len(lenient.entries) == NUM_UTTS
  assert [(s.line, s.reason) for s in lenient.skipped] == [(4, "missing_file")]


def test_max_audio_sec_skips_long_clips(ds, small_corpus):
  durations = sorted(soundfile.info(e.wav_filename).duration
                     for e in ds.entries)
  limit = (durations[2] + durations[3]) / 2
  short = dataset.DeepSpeechDataset(_config(small_corpus, max_audio_sec=limit),
                                   TIME_REDUCTION)
  assert len(short.entries) == 3
  assert {s.reason for s in short.skipped} == {"too_long"}


# input_fn.


def _expected_features(path):
  samples, _ = soundfile.read(path, dtype="float64")
  spec = seed_reference.reference_spectrogram(samples, 16000)
  return seed_reference.reference_normalize(spec)


def test_input_fn_batches(ds):
  text_featurizer = featurizer.TextFeaturizer(VOCAB_FILE)
  order = sampler.epoch_entries(ds.entries, 1, True, 3, seed=1)
  batches = _batches(dataset.input_fn(3, ds, epochs=[order]))
  assert [len(_names(b)) for b in batches] == [3, 3, 1]
  assert sum((_names(b) for b in batches), []) == [
      e.wav_filename for e in order]
  by_name = {e.wav_filename: e for e in ds.entries}
  for features, labels in batches:
    b = features["features"].shape[0]
    assert features["features"].dtype == np.float32
    assert features["input_length"].dtype == np.int32
    assert features["label_length"].dtype == np.int32
    assert labels.dtype == np.int32
    assert features["input_length"].shape == (b, 1)
    assert features["label_length"].shape == (b, 1)
    assert features["wav_filename"].shape == (b,)
    assert features["features"].shape[1:] == (
        features["input_length"].max(), NUM_BINS, 1)
    assert labels.shape == (b, features["label_length"].max())
    for i, name in enumerate(
        n.decode("utf-8") for n in features["wav_filename"]):
      entry = by_name[name]
      frames = featurizer.num_frames(soundfile.info(name).frames, 16000)
      assert features["input_length"][i, 0] == frames
      want_labels = featurizer.compute_label_feature(
          entry.transcript, text_featurizer.token_to_index)
      assert features["label_length"][i, 0] == len(want_labels)
      assert labels[i, :len(want_labels)].tolist() == want_labels
      assert not labels[i, len(want_labels):].any()
      got = features["features"][i, :frames, :, 0]
      want = _expected_features(name)
      assert got.shape == want.shape
      assert np.max(np.abs(got - want)) <= 1e-4
      assert not features["features"][i, frames:].any()


def test_input_fn_without_normalization(small_corpus):
  raw = dataset.DeepSpeechDataset(_config(small_corpus, normalize=False,
                                          check_audio=False), TIME_REDUCTION)
  features, _ = _batches(dataset.input_fn(1, raw))[0]
  name = features["wav_filename"][0].decode("utf-8")
  samples, _ = soundfile.read(name, dtype="float64")
  want = seed_reference.reference_spectrogram(samples, 16000)
  # float32 log power: a few units in the last place of values near -30.
  np.testing.assert_allclose(features["features"][0, :, :, 0], want,
                             atol=1e-4, rtol=0)


def test_input_fn_batch_of_one(ds):
  batches = _batches(dataset.input_fn(1, ds))
  assert len(batches) == NUM_UTTS
  assert [_names(b)[0] for b in batches] == [e.wav_filename
                                             for e in ds.entries]
  for features, labels in batches:
    assert features["features"].shape[0] == 1
    assert features["features"].shape[1] == features["input_length"][0, 0]
    assert labels.shape == (1, features["label_length"][0, 0])


def test_input_fn_repeat(ds):
  batches = _batches(dataset.input_fn(4, ds, repeat=2))
  names = sum((_names(b) for b in batches), [])
  assert names == [e.wav_filename for e in ds.entries] * 2
  assert [len(_names(b)) for b in batches] == [4, 3, 4, 3]


def _two_epochs(ds, batch_size):
  return [sampler.epoch_entries(ds.entries, e, True, batch_size, seed=2)
          for e in (0, 1)]


def test_input_fn_epochs_never_mix(ds):
  epochs = _two_epochs(ds, 3)
  batches = _batches(dataset.input_fn(3, ds, epochs=epochs))
  want = []
  for entries in epochs:
    names = [e.wav_filename for e in entries]
    want += [names[i:i + 3] for i in range(0, len(names), 3)]
  assert [_names(b) for b in batches] == want
  assert [len(b) for b in want] == [3, 3, 1, 3, 3, 1]


@pytest.mark.parametrize("skip", [0, 1, 2, 3, 4, 5])
def test_input_fn_skip_batches(ds, skip):
  epochs = _two_epochs(ds, 3)
  want = []
  for entries in epochs:
    names = [e.wav_filename for e in entries]
    want += [names[i:i + 3] for i in range(0, len(names), 3)]
  batches = _batches(dataset.input_fn(3, ds, epochs=epochs,
                                      skip_batches=skip))
  assert [_names(b) for b in batches] == want[skip:]


@pytest.mark.parametrize("skip", [6, 10])
def test_input_fn_skip_everything_is_empty(ds, skip):
  tf_dataset = dataset.input_fn(3, ds, epochs=_two_epochs(ds, 3),
                                skip_batches=skip)
  assert _batches(tf_dataset) == []
  # The empty dataset still has the structure the model expects.
  features, labels = tf_dataset.element_spec
  assert features["features"].shape.as_list() == [None, None, NUM_BINS, 1]
  assert features["input_length"].shape.as_list() == [None, 1]
  assert labels.shape.as_list() == [None, None]


def test_input_fn_element_spec(ds):
  features, labels = dataset.input_fn(2, ds).element_spec
  assert set(features) == {"features", "input_length", "label_length",
                           "wav_filename"}
  assert features["features"].dtype.name == "float32"
  assert features["features"].shape.as_list() == [None, None, NUM_BINS, 1]
  assert features["input_length"].dtype.name == "int32"
  assert features["label_length"].dtype.name == "int32"
  assert features["wav_filename"].dtype.name == "string"
  assert labels.dtype.name == "int32"
  assert labels.shape.as_list() == [None, None]


def test_entries_are_real_files(ds):
  for e in ds.entries:
    assert os.path.getsize(e.wav_filename) == e.wav_filesize


def test_shuffled_epoch_of_the_shared_corpus(corpus):
  """One shuffled epoch of the 16-utterance conftest corpus, batches of 4."""
  full = dataset.DeepSpeechDataset(_config(corpus), TIME_REDUCTION)
  assert len(full.entries) == 16
  order = sampler.epoch_entries(full.entries, 1, True, 4, seed=3)
  check_blocks(order, full.entries, 4)
  batches = _batches(dataset.input_fn(4, full, epochs=[order]))
  assert [_names(b) for b in batches] == [
      [e.wav_filename for e in order[i:i + 4]] for i in range(0, 16, 4)]
  # Batches hold neighbours in size, so padding stays small: the longest
  # utterance of each batch is the last of its sorted block.
  for features, _ in batches:
    lengths = features["input_length"][:, 0]
    assert features["features"].shape[1] == lengths.max() == lengths[-1]


# Input sharding over the workers of a cluster (input_context).


def _named_batches(speech, epochs, **kwargs):
  """[(wav filenames, features)] of every batch input_fn yields."""
  out = []
  for features, _ in dataset.input_fn(2, speech, epochs=epochs, **kwargs):
    out.append((tuple(f.decode() for f in features["wav_filename"].numpy()),
                features["features"].numpy()))
  return out


@pytest.mark.parametrize("num_workers", [2, 3])
def test_workers_take_disjoint_batches_in_turn(corpus, num_workers):
  speech = conftest.speech_dataset(corpus)
  # 16 utterances in batches of 2: 8 plain batches, then a bucketed epoch.
  boundaries = sampler.bucket_boundaries(speech.entries, 2)
  epochs = [sampler.epoch_entries(speech.entries, e, True, 2, 1, 2)
            for e in range(2)]
  bucketed = [False, True]
  # Masks seeded by each entry's place in the cycle: a worker must draw the
  # same ones as a single machine would.
  masks = augment.SpecAugment(8, 10, seed=3)
  kwargs = dict(bucket_boundaries=boundaries, bucketed=bucketed,
                augment=masks)
  whole = _named_batches(speech, epochs, **kwargs)
  assert len(whole) == sampler.epoch_num_batches(epochs[0], 2) + (
      sampler.epoch_num_batches(epochs[1], 2, boundaries))
  for skip in (0, num_workers):
    seen = []
    for worker in range(num_workers):
      context = tf.distribute.InputContext(num_workers, worker)
      mine = _named_batches(speech, epochs, skip_batches=skip,
                            input_context=context, **kwargs)
      expected = [b for i, b in enumerate(whole)
                  if i >= skip and i % num_workers == worker]
      assert [names for names, _ in mine] == [n for n, _ in expected]
      for (_, got), (_, want) in zip(mine, expected):
        np.testing.assert_array_equal(got, want)
      seen += [names for names, _ in mine]
    # Together the workers cover every remaining batch once.
    assert sorted(seen) == sorted(names for names, _ in whole[skip:])


@pytest.mark.parametrize("policy,expected", [
    (text_normalization.DEFAULT, ["straße grüße", "ёлка"]),
    (text_normalization.TextPolicy("NFKD"),
     ["straße gru\u0308ße", "е\u0308лка"]),
])
def test_labels_of_another_alphabet_follow_the_text_policy(
    tmp_path, policy, expected):
  rows = []
  # Written decomposed and with capitals; the policy decides what is read.
  for i, text in enumerate(["Straße Gru\u0308ße",
                            "\u0401лка"]):
    wav = str(tmp_path / ("%d.wav" % i))
    size = conftest.write_wav(wav, conftest.synthesize(
        "cat dog cat dog", np.random.default_rng(i)))
    rows.append(manifest.ManifestEntry(wav, size, text, 0))
  path = str(tmp_path / "de.csv")
  manifest.write_manifest(path, rows)
  tokens = [" "] + sorted(set("".join(expected)) - {" "}) + ["-"]
  vocab = tmp_path / "v.txt"
  vocab.write_text("".join(t + "\n" for t in tokens), encoding="utf-8")
  config = dataset.DatasetConfig(
      dataset.AudioConfig(16000, window_ms=20, stride_ms=10, normalize=True),
      path, str(vocab), True, text_policy=policy)
  speech = dataset.DeepSpeechDataset(config, TIME_REDUCTION)
  assert not speech.skipped
  assert sorted(e.transcript for e in speech.entries) == sorted(expected)
  ((features, labels),) = _batches(dataset.input_fn(2, speech))
  index = {t: i for i, t in enumerate(tokens)}
  for name, row, length in zip(features["wav_filename"], labels,
                               features["label_length"][:, 0]):
    entry = next(e for e in speech.entries
                 if e.wav_filename == name.decode("utf-8"))
    assert row[:length].tolist() == [index[c] for c in entry.transcript]

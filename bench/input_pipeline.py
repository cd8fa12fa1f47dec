"""Benchmark: the input pipeline, the seed's Python generator vs ours.

Iterates one corpus, in the same process, through
  (a) the seed's pipeline, re-implemented below: a single-threaded Python
      generator (soundfile.read, numpy spectrogram, per-bin normalization,
      expand_dims, labels) wrapped in tf.data.Dataset.from_generator, then
      padded_batch and prefetch;
  (b) ours: data.dataset.input_fn (a parallel tf.data map over
      data.featurizer.featurize_file, the same numpy spectrogram), iterated
      to the end;
  (c) ours with the feature cache (input_fn(..., feature_cache_dir=...)): a
      first epoch that fills the cache and a second that reads it;
  (d) our featurizer alone, in seconds of audio featurized per CPU-second
      (time.process_time, audio already in memory): the numpy spectrogram
      (the headline figure), and the same plus per-bin normalization.
It also checks that the first batch of each, and the batch of the longest
utterances, hold the same features (within 1e-4) and labels on both sides.

Throughput counts only iteration: TensorFlow is warmed up on a tiny dataset
first, so graph building and tf.data start-up are not counted on either side.
No model runs: this is how fast each pipeline can feed one.

Run from the repository root:

  .venv/bin/python bench/input_pipeline.py                     # 200 generated utts
  .venv/bin/python bench/input_pipeline.py --manifest train.csv --batch_size 16
  .venv/bin/python bench/input_pipeline.py --utts 12 --min_sec 1 --max_sec 3

The last line printed is one JSON object with the figures.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import soundfile
import tensorflow as tf

# Runs as `python bench/input_pipeline.py`: the project root holds data/.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# pylint: disable=g-import-not-at-top,wrong-import-position
from bench import seed_reference
from bench import speech_like
from common import safe_path
from data import dataset
from data import featurizer
from data import vocabulary
import deep_speech_model
# pylint: enable=g-import-not-at-top,wrong-import-position

VOCAB_FILE = vocabulary.VOCABULARY_FILE
SAMPLE_RATE = 16000
WINDOW_MS = 20
STRIDE_MS = 10
# Words of the generated transcripts (letters only, all in the vocabulary).
WORDS = ("the", "cat", "sat", "on", "a", "red", "mat", "while", "blue", "birds",
         "sang", "over", "green", "trees", "and", "dogs", "ran", "home")
# speech_like.synthesize spends 60-100 ms per character.
_SEC_PER_CHAR = 0.08


# Corpus.


def generate_corpus(directory, num_utts, min_sec, max_sec, seed):
  """Writes speech-like 16 kHz WAVs of min_sec..max_sec and a manifest.

  Returns:
    The manifest path.
  """
  rng = np.random.default_rng(seed)
  rows = []
  for i in range(num_utts):
    target_chars = int(rng.uniform(min_sec, max_sec) / _SEC_PER_CHAR)
    words = []
    while len(" ".join(words)) < target_chars:
      words.append(str(rng.choice(WORDS)))
    text = " ".join(words)[:max(1, target_chars)].strip()
    path = os.path.join(directory, "utt-%04d.wav" % i)
    size = speech_like.write_wav(path, speech_like.synthesize(text, rng))
    rows.append((path, size, text))
  return speech_like.write_manifest(os.path.join(directory, "corpus.csv"),
                                    rows)


# The seed's pipeline, as it was: one Python generator featurizing in order.


def seed_read_entries(manifest_path):
  """The seed's _preprocess_data: (file, size, transcript) rows by size."""
  with open(manifest_path) as f:
    lines = f.read().splitlines()[1:]
  rows = [line.split("\t", 2) for line in lines]
  rows.sort(key=lambda row: int(row[1]))
  return [tuple(row) for row in rows]


def seed_input_fn(entries, batch_size, token_to_index, num_bins, repeat):
  """from_generator + padded_batch + prefetch over a Python generator."""

  def gen():
    for audio_file, _, transcript in entries:
      samples, _ = soundfile.read(safe_path.for_tools(audio_file))
      feature = seed_reference.reference_spectrogram(
          samples, SAMPLE_RATE, stride_ms=STRIDE_MS, window_ms=WINDOW_MS)
      feature = np.expand_dims(
          seed_reference.reference_normalize(feature), axis=2)
      labels = featurizer.compute_label_feature(transcript, token_to_index)
      yield ({"features": feature,
              "input_length": [feature.shape[0]],
              "label_length": [len(labels)]}, labels)

  signature = ({
      "features": tf.TensorSpec([None, num_bins, 1], tf.float32),
      "input_length": tf.TensorSpec([1], tf.int32),
      "label_length": tf.TensorSpec([1], tf.int32),
  }, tf.TensorSpec([None], tf.int32))
  ds = tf.data.Dataset.from_generator(gen, output_signature=signature)
  ds = ds.repeat(repeat)
  ds = ds.padded_batch(batch_size, padded_shapes=(
      {k: v.shape for k, v in signature[0].items()}, signature[1].shape))
  return ds.prefetch(tf.data.AUTOTUNE)


# Timing.


def _snapshot(batch):
  """(features, input_length, labels) of a batch, as numpy."""
  features, labels = batch
  return (features["features"].numpy(),
          features["input_length"].numpy().reshape(-1), labels.numpy())


def iterate(tf_dataset):
  """Iterates a dataset to its end.

  Returns:
    A dict: wall and CPU seconds, utterances, and the first batch.
  """
  utts, first = 0, None
  cpu0, wall0 = time.process_time(), time.perf_counter()
  for batch in tf_dataset:
    utts += int(batch[1].shape[0])
    if first is None:
      first = batch
  wall = time.perf_counter() - wall0
  cpu = time.process_time() - cpu0
  return {"wall_s": wall, "cpu_s": cpu, "utts": utts,
          "first": _snapshot(first)}


def max_abs_diff(batch_a, batch_b):
  """Largest feature difference between two batches, rows matched by content.

  Rows are put in the same order (by real length, then labels) first, so the
  check does not depend on how ties in file size were ordered.

  Returns:
    The largest absolute difference, or None if the shapes, lengths or labels
    differ.
  """
  def rows(batch):
    features, lengths, labels = batch
    order = sorted(range(len(lengths)),
                   key=lambda i: (lengths[i], labels[i].tolist()))
    return features[order], lengths[order], labels[order]
  fa, la, ya = rows(batch_a)
  fb, lb, yb = rows(batch_b)
  if fa.shape != fb.shape or not np.array_equal(la, lb) or not np.array_equal(
      ya, yb):
    return None
  return float(np.max(np.abs(fa - fb)))


def featurizer_throughput(entries):
  """Seconds of audio per CPU-second of the numpy spectrogram.

  Audio is read before each timed call, so only featurization counts.

  Returns:
    (spectrogram alone, spectrogram + per-bin normalization), in audio
    seconds per CPU-second.
  """
  audio_s = cpu_ref = cpu_norm = 0.0
  for entry in entries:
    samples, _ = soundfile.read(safe_path.for_tools(entry.wav_filename),
                                dtype="float64")
    audio_s += len(samples) / float(SAMPLE_RATE)
    t0 = time.process_time()
    feature = featurizer.compute_spectrogram_feature(
        samples, SAMPLE_RATE, stride_ms=STRIDE_MS, window_ms=WINDOW_MS)
    t1 = time.process_time()
    featurizer.normalize_audio_feature(feature)
    t2 = time.process_time()
    cpu_ref += t1 - t0
    cpu_norm += t2 - t0
  return audio_s / cpu_ref, audio_s / cpu_norm


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--manifest", default=None,
                      help="Corpus to read (default: generate one).")
  parser.add_argument("--batch_size", type=int, default=16)
  parser.add_argument("--epochs", type=int, default=2,
                      help="Passes over the corpus for (a) and (b).")
  parser.add_argument("--feature_cache_dir", default=None,
                      help="Where (c) writes its caches, one fresh round-N "
                      "subdirectory per round, left in place (default: a "
                      "temporary directory, removed at the end).")
  parser.add_argument("--rounds", type=int, default=3,
                      help="Timed rounds of (a)-(c), interleaved; the median "
                      "round is reported.")
  parser.add_argument("--utts", type=int, default=200,
                      help="Utterances to generate without --manifest.")
  parser.add_argument("--min_sec", type=float, default=2.0)
  parser.add_argument("--max_sec", type=float, default=15.0)
  parser.add_argument("--seed", type=int, default=0)
  return parser.parse_args(argv)


def main(argv=None):
  args = parse_args(argv)
  tmp = tempfile.mkdtemp(prefix="bench_input_")
  try:
    return run(args, tmp)
  finally:
    shutil.rmtree(tmp, ignore_errors=True)


def _median_rate(runs):
  """(utterances per second, wall s, CPU s) of the median-speed run."""
  runs = sorted(runs, key=lambda r: r["utts"] / r["wall_s"])
  mid = runs[len(runs) // 2]
  return mid["utts"] / mid["wall_s"], mid["wall_s"], mid["cpu_s"]


def run(args, tmp):
  """Generates or reads the corpus, times (a)-(d), prints the results."""
  manifest_path = args.manifest
  if manifest_path is None:
    t0 = time.perf_counter()
    manifest_path = generate_corpus(tmp, args.utts, args.min_sec, args.max_sec,
                                    args.seed)
    print("generated %d utterances in %.1f s" % (args.utts,
                                                 time.perf_counter() - t0))
  audio = dataset.AudioConfig(SAMPLE_RATE, window_ms=WINDOW_MS,
                              stride_ms=STRIDE_MS, normalize=True)
  ours = dataset.DeepSpeechDataset(dataset.DatasetConfig(
      audio, manifest_path, VOCAB_FILE, sortagrad=True),
                                   deep_speech_model.TIME_REDUCTION)
  seed_entries = seed_read_entries(manifest_path)
  if len(seed_entries) != len(ours.entries):
    print("note: %d manifest rows, %d usable; both sides read the usable "
          "ones" % (len(seed_entries), len(ours.entries)))
  kept = set(e.wav_filename for e in ours.entries)
  seed_entries = [e for e in seed_entries if e[0] in kept]

  def seed_way(entries, repeat=1):
    return seed_input_fn(entries, args.batch_size,
                         ours.text_featurizer.token_to_index,
                         ours.num_feature_bins, repeat)

  timed = _time_rounds(args, tmp, ours, seed_entries, seed_way)
  diff = _max_difference(args.batch_size, ours, seed_entries, seed_way, timed)
  result = _report(args, ours, timed, diff)
  print(json.dumps(result))
  return 0 if diff is not None and diff <= 1e-4 else 1


def _time_rounds(args, tmp, ours, seed_entries, seed_way):
  """Times the seed's generator, input_fn, and input_fn filling/reading a
  feature cache, in interleaved rounds; {variant: [iterate() results]}."""
  bs = args.batch_size
  cache_root = args.feature_cache_dir or os.path.join(tmp, "cache")
  # Warm-up: build and run each pipeline once on two utterances.
  iterate(seed_way(seed_entries[:2]))
  iterate(dataset.input_fn(bs, ours, epochs=[ours.entries[:2]]))
  iterate(dataset.input_fn(bs, ours, epochs=[ours.entries[:2]],
                           feature_cache_dir=os.path.join(tmp, "warm")))
  # Rounds interleave the variants, so a burst of load from elsewhere on a
  # shared machine hits all of them; the median round is reported.
  timed = {"seed": [], "pipe": [], "fill": [], "cached": []}
  for round_index in range(args.rounds):
    timed["seed"].append(iterate(seed_way(seed_entries, args.epochs)))
    timed["pipe"].append(iterate(dataset.input_fn(bs, ours,
                                                  repeat=args.epochs)))
    # A fresh directory per round: each first epoch really fills it.
    cache_dir = os.path.join(cache_root, "round-%d" % round_index)
    timed["fill"].append(iterate(dataset.input_fn(
        bs, ours, feature_cache_dir=cache_dir)))
    timed["cached"].append(iterate(dataset.input_fn(
        bs, ours, feature_cache_dir=cache_dir)))
  return timed


def _max_difference(bs, ours, seed_entries, seed_way, timed):
  """The largest feature difference between the seed's batches and ours.

  The seed repeats before batching, so with a partial last batch its later
  batches straddle epochs (and a corpus smaller than a batch makes its first
  batch hold repeats): this compares one-epoch runs, untimed, of the shortest
  and the longest utterances (the most padding), and the cached epochs'
  first batches. None: a batch whose lengths or labels differ.
  """
  first_seed = iterate(seed_way(seed_entries[:bs]))["first"]
  diffs = [
      max_abs_diff(first_seed, iterate(dataset.input_fn(
          bs, ours, epochs=[ours.entries[:bs]]))["first"]),
      max_abs_diff(iterate(seed_way(seed_entries[-bs:]))["first"],
                   iterate(dataset.input_fn(
                       bs, ours, epochs=[ours.entries[-bs:]]))["first"]),
  ] + [max_abs_diff(first_seed, r["first"])
       for r in timed["fill"] + timed["cached"]]
  return None if None in diffs else max(diffs)


def _report(args, ours, timed, diff):
  """Prints the figures; returns them as the result dict."""
  audio_s = sum(soundfile.info(safe_path.for_tools(e.wav_filename)).duration
                for e in ours.entries)
  rates = {name: _median_rate(runs) for name, runs in timed.items()}
  seed_rate = rates["seed"][0]
  print("corpus: %d utts, %.2f h of audio, batch %d; (a), (b): %d epoch(s); "
        "median of %d round(s); %d CPUs" % (
            len(ours.entries), audio_s / 3600, args.batch_size, args.epochs,
            args.rounds, os.cpu_count()))
  labels = {"seed": "(a) seed generator", "pipe": "(b) input_fn      ",
            "fill": "(c) cache fill    ", "cached": "    cached epoch  "}
  for name, label in labels.items():
    rate, wall, cpu = rates[name]
    print("%s: %7.1f utt/s (%.2f s wall, %.2f s CPU), %.2fx" % (
        label, rate, wall, cpu, rate / seed_rate))
  print("numbers: first and longest batch and cached epochs, seed vs ours: "
        "max |diff| = %s" % ("lengths/labels differ" if diff is None
                             else "%.2e" % diff))
  ref_rate, norm_rate = featurizer_throughput(ours.entries)
  print("(d) featurizer, s of audio per CPU-second: numpy %.0f, numpy + "
        "normalization %.0f" % (ref_rate, norm_rate))
  return {
      "utts": len(ours.entries),
      "audio_hours": round(audio_s / 3600, 4),
      "batch_size": args.batch_size,
      "epochs": args.epochs,
      "rounds": args.rounds,
      "seed_generator_utt_per_s": round(seed_rate, 2),
      "pipeline_utt_per_s": round(rates["pipe"][0], 2),
      "speedup": round(rates["pipe"][0] / seed_rate, 2),
      "seed_generator_cpu_s": round(rates["seed"][2], 3),
      "pipeline_cpu_s": round(rates["pipe"][2], 3),
      "cached_fill_epoch_utt_per_s": round(rates["fill"][0], 2),
      "cached_epoch_utt_per_s": round(rates["cached"][0], 2),
      "cached_epoch_speedup": round(rates["cached"][0] / seed_rate, 2),
      "featurizer_audio_s_per_cpu_s": round(ref_rate, 1),
      "featurizer_normalized_audio_s_per_cpu_s": round(norm_rate, 1),
      "max_abs_diff": diff,
      "cpus": os.cpu_count(),
  }


if __name__ == "__main__":
  raise SystemExit(main())

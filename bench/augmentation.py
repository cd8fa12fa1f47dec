"""Benchmark: the training input pipeline with each waveform augmentation.

Iterates one generated corpus of speech-like utterances through
data.dataset.input_fn (the parallel tf.data map, no feature cache) with no
waveform augmentation, then with each augmentation of data/wave_augment.py
alone at probability 1, then with all of them, and prints utterances per
second for each. It also times what is done once per run: simulating the
room bank (seconds per room) and reading the noise folder. Where an
augmentation belongs (on the fly in the map, or precomputed when the corpus
is made) follows from these rates against what the training step consumes.

Run from the repository root (pyroomacoustics and sox installed):

  .venv/bin/python bench/augmentation.py                       # 200 utts
  .venv/bin/python bench/augmentation.py --utts 100 --noise_dir DIR

DIR defaults to a temporary folder of sox-made noise; Debian's ufoai-sound
ambience loops are one real choice (unzip its 0snd.pk3). The last line
printed is one JSON object with the figures.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

# Runs as `python bench/augmentation.py`: the project root holds data/.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# pylint: disable=g-import-not-at-top,wrong-import-position
from bench import input_pipeline
from common import cpu
from data import dataset
from data import featurizer
from data import rooms
from data import vocabulary
from data import wave_augment
import deep_speech_model
# pylint: enable=g-import-not-at-top,wrong-import-position

SAMPLE_RATE = 16000
# The CPU flags that tell this project's machine kinds apart.


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--utts", type=int, default=200)
  parser.add_argument("--min_sec", type=float, default=2.0)
  parser.add_argument("--max_sec", type=float, default=8.0)
  parser.add_argument("--batch_size", type=int, default=16)
  parser.add_argument("--rooms", type=int, default=8,
                      help="rooms simulated for the reverberation bank")
  parser.add_argument("--rt60", type=float, nargs=2, default=(0.2, 0.8))
  parser.add_argument("--noise_dir", default=None)
  parser.add_argument("--seed", type=int, default=1)
  return parser.parse_args(argv)


def _speech_dataset(manifest_path):
  audio = dataset.AudioConfig(SAMPLE_RATE, window_ms=20, stride_ms=10,
                              normalize=True)
  config = dataset.DatasetConfig(audio, manifest_path,
                                 vocabulary.VOCABULARY_FILE, sortagrad=True)
  return dataset.DeepSpeechDataset(config, deep_speech_model.TIME_REDUCTION)


def _rate(speech_dataset, batch_size, wave):
  """Utterances per second through input_fn with `wave` (or None)."""
  start = time.perf_counter()
  count = 0
  for features, _ in dataset.input_fn(batch_size, speech_dataset,
                                      wave_augment=wave):
    count += int(features["features"].shape[0])
  return count / (time.perf_counter() - start)


def _noise_dir(args, tmp):
  if args.noise_dir:
    return args.noise_dir
  folder = os.path.join(tmp, "noise")
  os.makedirs(folder)
  for name in ("pinknoise", "brownnoise"):
    subprocess.run(["sox", "-n", "-r", "44100", "-c", "2",
                    os.path.join(folder, name + ".ogg"), "synth", "10", name,
                    "vol", "0.3"], check=True)
  return folder


def _steps(args, speech_dataset, tmp):
  """Each augmentation at probability 1, and the once-per-run costs."""
  start = time.perf_counter()
  rirs = rooms.simulate_rirs(args.rooms, tuple(args.rt60), SAMPLE_RATE,
                             args.seed)
  per_room = (time.perf_counter() - start) / args.rooms
  start = time.perf_counter()
  tracks = wave_augment.load_noise_dir(_noise_dir(args, tmp), SAMPLE_RATE)
  noise_sec = time.perf_counter() - start
  pool = wave_augment.babble_pool(
      [e.wav_filename for e in speech_dataset.entries],
      lambda path: featurizer.read_audio(path, SAMPLE_RATE), args.seed)
  snr = (5.0, 20.0)
  steps = {
      "reverb": wave_augment.Reverb(1.0, rirs),
      "babble": wave_augment.Babble(1.0, pool, snr),
      "noise": wave_augment.Noise(1.0, tracks, snr),
      "gain": wave_augment.Gain(1.0, (-10.0, 6.0)),
      "telephone": wave_augment.Telephone(1.0, SAMPLE_RATE),
      "codec_mp3": wave_augment.Codec(1.0, ["mp3"], SAMPLE_RATE),
      "codec_gsm": wave_augment.Codec(1.0, ["gsm"], SAMPLE_RATE),
  }
  once = {"sec_per_room": round(per_room, 3), "noise_files": len(tracks),
          "noise_read_sec": round(noise_sec, 2),
          "mean_rir_ms": round(1000.0 * sum(len(r) for r in rirs) /
                               len(rirs) / SAMPLE_RATE, 1)}
  return steps, once


def run(args, tmp):
  os.makedirs(os.path.join(tmp, "corpus"))
  manifest_path = input_pipeline.generate_corpus(
      os.path.join(tmp, "corpus"), args.utts, args.min_sec, args.max_sec,
      args.seed)
  speech_dataset = _speech_dataset(manifest_path)
  steps, once = _steps(args, speech_dataset, tmp)
  # Warm up TensorFlow and the page cache, so the first row is not charged.
  _rate(speech_dataset, args.batch_size, None)
  rates = {"none": _rate(speech_dataset, args.batch_size, None)}
  for name, step in steps.items():
    rates[name] = _rate(speech_dataset, args.batch_size,
                        wave_augment.WaveAugment([step], args.seed))
    print("%-10s %7.1f utt/s" % (name, rates[name]), flush=True)
  rates["all"] = _rate(speech_dataset, args.batch_size,
                       wave_augment.WaveAugment(list(steps.values()),
                                                args.seed))
  audio_sec = sum(e.wav_filesize for e in speech_dataset.entries) / (
      2.0 * SAMPLE_RATE)
  return dict(once, utts=len(speech_dataset.entries),
              mean_utt_sec=round(audio_sec / len(speech_dataset.entries), 2),
              batch_size=args.batch_size,
              utts_per_sec={k: round(v, 1) for k, v in rates.items()},
              cpu_flags=sorted(cpu.cpu_flags() & set(cpu.KIND_FLAGS)),
              cores=os.cpu_count())


def main(argv=None):
  args = parse_args(argv)
  with tempfile.TemporaryDirectory() as tmp:
    print(json.dumps(run(args, tmp)))


if __name__ == "__main__":
  main()

"""Shared test fixtures: small corpora of real 16 kHz WAV files.

The audio is speech-like rather than speech (`bench/speech_like.py`, shared
with the benchmarks): a small model can learn to map it back to characters,
so tests can check that training lowers the loss, without any network access.
"""

import os
import struct

import pytest

from bench import speech_like
from tests.helpers import shared_build

SAMPLE_RATE = speech_like.SAMPLE_RATE
WORDS = speech_like.WORDS
HEADER = speech_like.HEADER
# The writers most test modules use, under their historical names.
synthesize = speech_like.synthesize
write_wav = speech_like.write_wav
write_manifest = speech_like.write_manifest
make_corpus = speech_like.make_corpus


def write_streaming_wav(path, audio, sample_rate=SAMPLE_RATE,
                        subtype="PCM_16"):
  """A WAV as a program writing to a pipe leaves it; returns its size.

  Such a program cannot seek back to fill in the sizes, so the RIFF and the
  data chunk size stay at the placeholder 0xFFFFFFFF.
  """
  size = write_wav(path, audio, sample_rate, subtype)
  with open(path, "r+b") as f:
    head = f.read(4096)
    f.seek(4)
    f.write(struct.pack("<I", 0xFFFFFFFF))
    f.seek(head.index(b"data") + 4)
    f.write(struct.pack("<I", 0xFFFFFFFF))
  return size


@pytest.fixture
def corpus(tmp_path):
  """A 16-utterance manifest of speech-like WAV files in tmp_path."""
  return make_corpus(tmp_path / "corpus")


def speech_dataset(manifest_path, window_ms=20, sortagrad=True):
  """The training `DeepSpeechDataset` of a manifest: 16 kHz, normalized."""
  # pylint: disable=g-import-not-at-top
  # Imported here: most test modules need neither TensorFlow nor the model.
  from data import dataset
  from data import vocabulary
  import deep_speech_model
  audio = dataset.AudioConfig(sample_rate=SAMPLE_RATE, window_ms=window_ms,
                              stride_ms=10, normalize=True)
  config = dataset.DatasetConfig(audio, manifest_path,
                                 vocabulary.VOCABULARY_FILE, sortagrad)
  return dataset.DeepSpeechDataset(config, deep_speech_model.TIME_REDUCTION)


def wait_for_all(procs, timeout=600):
  """Waits for (process, log file) pairs; kills stragglers, closes the logs.

  Returns:
    The processes' exit codes, in order.
  """
  try:
    return [p.wait(timeout=timeout) for p, _ in procs]
  finally:
    for p, log in procs:
      if p.poll() is None:
        p.kill()
      log.close()


def _tiny_trained(directory):
  # pylint: disable=g-import-not-at-top
  from tests.helpers import tiny_model
  model_dir, export_dir = tiny_model.build(str(directory), steps=300,
                                           num_utts=4)
  with open(os.path.join(str(directory), "corpus", "train.csv")) as f:
    rows = [line.rstrip("\n").split("\t") for line in f][1:]
  return model_dir, export_dir, [(row[0], row[2]) for row in rows]


@pytest.fixture(scope="session")
def tiny_trained(tmp_path_factory):
  """(model_dir, export_dir, [(WAV, transcript)] of its four training
  utterances): a tiny model that transcribes them
  (tests/helpers/tiny_model.py), built once per run (shared_build)."""
  return shared_build.once(tmp_path_factory, "tiny_model", _tiny_trained)


@pytest.fixture(scope="session")
def tiny_export(tiny_trained):
  """(export dir, its four training WAVs) of `tiny_trained`."""
  _, export_dir, utterances = tiny_trained
  return export_dir, [path for path, _ in utterances]


def _tiny_streaming(directory):
  from tests.helpers import tiny_model  # pylint: disable=g-import-not-at-top
  return tiny_model.build_streaming(str(directory))


@pytest.fixture(scope="session")
def tiny_streaming_model(tmp_path_factory):
  """(model_dir, export_dir): a tiny unidirectional model with a lookahead,
  trained on running-normalized features (tiny_model.build_streaming),
  built once per run for the streaming tests."""
  return shared_build.once(tmp_path_factory, "tiny_streaming",
                           _tiny_streaming)


PHRASES = ("open the door", "turn on the light")
PHRASE_PAUSE_SEC = 1.5


class Phrases(object):
  """espeak-ng saying PHRASES with PHRASE_PAUSE_SEC of digital silence (sox)
  between them, and a tiny streaming model that says them.

  Attributes:
    model_dir, export_dir: the model.
    path: the WAV (16 kHz).
    lexicon: a words file of the phrases' words.
    first_end: where the first phrase's audio ends, in seconds.
  """

  def __init__(self, directory):
    # pylint: disable=g-import-not-at-top
    import subprocess
    import soundfile
    from tests.helpers import sox_audio
    from tests.helpers import tiny_model
    first, second = [sox_audio.say(text, directory / ("phrase%d.wav" % i),
                                   SAMPLE_RATE)
                      for i, text in enumerate(PHRASES)]

    def pause(seconds):
      path = str(directory / ("pause_%g.wav" % seconds))
      subprocess.run(["sox", "-n", "-r", str(SAMPLE_RATE), "-b", "16", "-c",
                      "1", path, "trim", "0", str(seconds)], check=True)
      return path

    def joined(name, *paths):
      path = str(directory / name)
      subprocess.run(["sox"] + list(paths) + [path], check=True)
      return path
    self.path = joined("both.wav", first, pause(PHRASE_PAUSE_SEC), second)
    self.first_end = soundfile.info(first).duration
    # The tests decode with the phrases' words as the lexicon: a model this
    # small can miss a letter, which the beam search then cannot spell.
    self.lexicon = str(directory / "words.txt")
    with open(self.lexicon, "w") as f:
      f.write("\n".join(sorted(set(" ".join(PHRASES).split()))) + "\n")
    # Each phrase alone and as an endpointed utterance holds it: the first
    # with the pause after it, the second with what is left of it before.
    self.model_dir, self.export_dir = tiny_model.build_streaming(
        str(directory / "model"), steps=400, params={"rnn_hidden_size": 64},
        batch_norm_decay=0.9, utterances=[
            (first, PHRASES[0]), (second, PHRASES[1]),
            (joined("first_pause.wav", first, pause(1.2)), PHRASES[0]),
            (joined("pause_second.wav", pause(0.4), second), PHRASES[1])])


def says_phrase(text, phrase):
  """Whether `text` is `phrase`: all its words but at most one, in order,
  and no word that only the other phrase has (what the tiny phrase model,
  trained anew each session, can be relied on for)."""
  words, wanted = text.split(), phrase.split()
  # The longest common subsequence of the two word lists.
  common = [0] * (len(wanted) + 1)
  for word in words:
    previous = 0
    for j, want in enumerate(wanted, 1):
      previous, common[j] = common[j], (
          previous + 1 if word == want else max(common[j], common[j - 1]))
  others = set(" ".join(PHRASES).split()) - set(wanted)
  return common[-1] >= len(wanted) - 1 and not set(words) & others


@pytest.fixture(scope="session")
def phrase_model(tmp_path_factory):
  """`Phrases`, built once per run (the endpointing tests)."""
  return shared_build.once(tmp_path_factory, "phrases", Phrases)


def join_utterances(paths, path, pause_sec=0.25):
  """Writes the 16 kHz utterances one after another, with quiet pauses, as
  a 16-bit WAV at `path` (a clip longer than any one of them)."""
  # pylint: disable=g-import-not-at-top
  import numpy as np
  import soundfile
  rng = np.random.default_rng(0)
  pieces = []
  for p in paths:
    samples, _ = soundfile.read(p, dtype="float32")
    pieces += [samples, 0.001 * rng.standard_normal(
        int(pause_sec * SAMPLE_RATE)).astype(np.float32)]
  soundfile.write(str(path), np.concatenate(pieces), SAMPLE_RATE,
                  subtype="PCM_16")
  return str(path)

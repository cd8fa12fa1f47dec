"""The Transcriber on a real 3-minute recording, with a model that listens.

The acoustic model is a stand-in whose outputs are known from the audio
itself: it marks the output frames whose spectrogram is loud (a voice
activity detector on the features the pipeline computed) and spells one
fixed word over each voiced stretch. Everything between the file and the
words is the real pipeline: reading, chunking at pauses, featurizing each
chunk, batching with padding, the convolutions' frame arithmetic, greedy
decoding, frame timings and the joining of chunks. So each word must land
on its utterance in the recording: a lost chunk offset, a wrong time
reduction or stride, or a cut inside a word moves or splits words.
"""

import math

import numpy as np

from data import featurizer
from data import vocabulary
import decoder
import deep_speech_model
from tests.transcription import test_chunking
from transcription import chunking
from transcription import model
from transcription import pipeline

RATE = 16000
WORD = "ok"
# One output frame: time reduction 4 x stride 10 ms.
FRAME_SEC = 0.04


class VoiceModel(object):
  """Spells WORD over every voiced stretch of its input (model.py's call).

  An output frame j stands for the spectrogram frames around 4j (as the
  convolutions of deep_speech_model do); it is voiced when their mean
  normalized log power is above `threshold`. Voiced runs closer than
  `bridge_frames` merge (the gaps between the sounds of one utterance);
  each run gets WORD's letters spread from its first to its last frame, and
  the frame after it a space.
  """

  def __init__(self, threshold=0.0, bridge_frames=6):
    labels = "".join(vocabulary.read_tokens(vocabulary.VOCABULARY_FILE))
    self.settings = model.Settings(featurizer.AudioFeaturizer(RATE), labels)
    self._blank = vocabulary.blank_index(labels)
    self._threshold = threshold
    self._bridge = bridge_frames
    self.calls = 0

  def __call__(self, features, lengths):
    self.calls += 1
    batch, frames = features.shape[:2]
    out_frames = deep_speech_model.conv_output_frames(frames)
    # As deep_speech.compute_length_after_conv.
    out_lengths = (lengths[:, 0].astype(np.int64) * out_frames) // frames
    probs = np.full((batch, out_frames, len(self.settings.labels)), 0.01,
                    np.float32)
    probs[:, :, self._blank] = 0.9
    for i in range(batch):
      loudness = features[i, :lengths[i, 0], :, 0].mean(axis=1)
      voiced = [loudness[max(0, 4 * j - 2):4 * j + 2].mean() > self._threshold
                for j in range(out_lengths[i])]
      for start, end in self._runs(voiced):
        self._spell(probs[i], start, end, out_lengths[i])
    return probs, out_lengths

  def _runs(self, voiced):
    """[start, end) frame ranges of voiced runs, short gaps bridged."""
    runs = []
    for j, v in enumerate(voiced):
      if not v:
        continue
      if runs and j - runs[-1][1] <= self._bridge:
        runs[-1][1] = j + 1
      else:
        runs.append([j, j + 1])
    return [(s, e) for s, e in runs if e - s >= len(WORD)]

  def _spell(self, probs, start, end, length):
    """WORD's letters at evenly spaced frames of [start, end), blanks
    between; the first on `start`, the last on `end - 1`."""
    places = np.linspace(start, end - 1, len(WORD)).round().astype(int)
    for place, char in zip(places, WORD):
      probs[place, :] = 0.01
      probs[place, self.settings.labels.index(char)] = 0.9
    if end < length:
      probs[end, :] = 0.01
      probs[end, self.settings.labels.index(" ")] = 0.9


def _span_of(word, spans, tolerance):
  """Index of the utterance span holding [word.start, word.end], or None."""
  for i, (start, end) in enumerate(spans):
    if start - tolerance <= word.start < word.end <= end + tolerance:
      return i
  return None


def test_words_of_a_three_minute_recording_land_on_their_utterances(
    tmp_path, monkeypatch):
  path = str(tmp_path / "long.wav")
  spans = test_chunking.long_recording(path, seconds=180.0)
  assert spans[-1][1] > 175.0
  cuts = []
  real_split = chunking.split

  def recording_split(*args, **kwargs):
    for chunk in real_split(*args, **kwargs):
      cuts.append((chunk.start, len(chunk)))
      yield chunk

  monkeypatch.setattr(chunking, "split", recording_split)
  labels = "".join(vocabulary.read_tokens(vocabulary.VOCABULARY_FILE))
  voice = VoiceModel()
  transcriber = pipeline.Transcriber(
      voice, decoder.make_decoder("greedy", labels),
      time_reduction=deep_speech_model.TIME_REDUCTION, max_chunk_sec=20,
      batch_size=3)
  (result,) = list(transcriber.transcribe([path]))

  assert result.error is None, result.error
  transcript = result.transcript
  # Chunked in pauses: at least 9 chunks of at most 20 s, decoded in
  # several padded batches, every cut between two utterances.
  assert len(cuts) >= 9 and voice.calls >= 3
  assert all(length <= 20 * RATE for _, length in cuts)
  for start, length in cuts[:-1]:
    cut_sec = (start + length) / RATE
    assert not any(s - FRAME_SEC <= cut_sec <= e + FRAME_SEC
                   for s, e in spans), cut_sec
  # One word per utterance, in order, each inside its own utterance (to
  # one output frame), so across chunk joins too.
  words = transcript.words
  assert transcript.text == " ".join([WORD] * len(spans))
  assert [w.word for w in words] == [WORD] * len(spans)
  assert len(words) == len(spans)
  places = [_span_of(w, spans, FRAME_SEC) for w in words]
  misplaced = [(w, spans[i]) for i, (w, p) in enumerate(zip(words, places))
               if p != i]
  assert not misplaced, "%d words off their utterance, first: %s" % (
      len(misplaced), misplaced[0])
  for a, b in zip(words, words[1:]):
    assert a.start < a.end < b.start < b.end
  # The voiced stretch is found, not guessed: each word covers most of its
  # utterance.
  for word, (start, end) in zip(words, spans):
    assert word.end - word.start >= 0.8 * (end - start) - 2 * FRAME_SEC
  assert math.isclose(transcript.duration, (cuts[-1][0] + cuts[-1][1]) / RATE)

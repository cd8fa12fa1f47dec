"""Files in, transcripts out: read, chunk, featurize, batch, decode, time.

Chunks of all files flow through one stream and are decoded in batches, so
many short files share model calls and one long file never sits in memory
whole: only the chunks of the batch being decoded do, and per chunk only its
text and timed words are kept. Transcripts come out in the order of the
files, each as soon as its last chunk is decoded.
"""

import numpy as np

from data import vocabulary
from transcription import audio
from transcription import chunking
from transcription import output
from transcription import timing


class Result(object):
  """The outcome for one file.

  Attributes:
    path: the file as given.
    transcript: an `output.FileTranscript`, or None when it failed.
    error: the reason it failed (names the file), or None.
    note: the conversion it needed (rate, channels), or None.
  """

  def __init__(self, path):
    self.path = path
    self.transcript = None
    self.error = None
    self.note = None
    self.samples = 0
    self.pieces = {}  # chunk number -> (text, words)
    self.chunks = 0
    self.finished = False


class Transcriber(object):
  """Transcribes audio files with a model and a decoder."""

  def __init__(self, model, decoder, *, time_reduction, max_chunk_sec=20.0,
               batch_size=16, block_frames=audio.BLOCK_FRAMES, progress=None):
    """Args:

      model: a `model.ExportedModel` or `model.CheckpointModel` (anything
        with `settings` and `__call__(features, lengths)`).
      decoder: an object with `decode_batch(probabilities, lengths) -> texts`
        (decoder.make_decoder).
      max_chunk_sec: the longest piece decoded at once, in seconds.
      batch_size: chunks per model call.
      time_reduction: the model's input frames per output frame
        (`deep_speech_model.TIME_REDUCTION`, its one home; required, so
        that this module needs no TensorFlow).
      block_frames: samples read from a file at a time.
      progress: None, or a callable(files_done, audio_seconds) called
        after every model call and file.
    """
    self._model = model
    self._decoder = decoder
    self._settings = model.settings
    self._max_chunk_sec = max_chunk_sec
    self._batch_size = batch_size
    self._block_frames = block_frames
    self._progress = progress
    self._audio_sec = 0.0
    self._files_done = 0
    self._labels = self._settings.labels
    self._blank = vocabulary.blank_index(self._labels)
    self._clock = timing.FrameClock(self._settings.stride_ms,
                                    self._settings.window_ms, time_reduction)
    self._min_samples = int(0.001 * self._settings.sample_rate *
                            self._settings.window_ms)

  def transcribe(self, paths):
    """Yields a `Result` per path, in order (failed files included)."""
    results = [Result(p) for p in paths]
    head = 0
    batch = []
    for event in self._chunk_events(results):
      if event is not None:
        batch.append(event)
      if len(batch) >= self._batch_size:
        self._decode_batch(batch)
        batch = []
      # A file is complete once it is finished and none of its chunks wait
      # in the batch.
      waiting = {r for r, _, _ in batch}
      while head < len(results) and results[head].finished and (
          results[head] not in waiting):
        yield self._complete(results[head])
        head += 1
      if self._progress is not None:
        self._progress(self._files_done, self._audio_sec)
    if batch:
      self._decode_batch(batch)
    while head < len(results):
      yield self._complete(results[head])
      head += 1

  def _chunk_events(self, results):
    """Yields (result, chunk number, Chunk) and None after each file."""
    rate = self._settings.sample_rate
    for result in results:
      try:
        info = audio.probe(result.path)
        result.note = info.conversion_note(rate)
        blocks = audio.read_blocks(info, rate, self._block_frames)
        for chunk in chunking.split(blocks, rate, self._max_chunk_sec):
          result.samples = chunk.start + len(chunk)
          if len(chunk) < self._min_samples:
            continue
          result.chunks += 1
          yield result, result.chunks - 1, chunk
      except audio.AudioError as e:
        result.error = str(e)
      except ImportError as e:  # soxr missing: the message names pip
        result.error = "%s: %s" % (result.path, e)
      if result.error is None and result.chunks == 0:
        result.error = "%s: shorter than one %g ms window" % (
            result.path, self._settings.window_ms)
      result.finished = True
      yield None

  def _decode_batch(self, batch):
    """Runs the model and the decoder on (result, number, chunk) triples."""
    s = self._settings
    probabilities, out_lengths = model_outputs(
        self._model, [chunk.samples for _, _, chunk in batch])
    texts = self._decoder.decode_batch(probabilities, out_lengths)
    for i, (result, number, chunk) in enumerate(batch):
      start = chunk.start / float(s.sample_rate)
      end = (chunk.start + len(chunk)) / float(s.sample_rate)
      greedy, words = timing.greedy_words(
          probabilities[i], out_lengths[i], self._labels, self._blank,
          self._clock, offset_sec=start, end_sec=end)
      if texts[i] != greedy:
        words = timing.align_words(texts[i], words)
      result.pieces[number] = (texts[i].strip(), words)
      self._audio_sec += end - start

  def _complete(self, result):
    """Joins the chunks of a finished file into its transcript."""
    if result.error is None:
      pieces = [result.pieces[n] for n in range(result.chunks)]
      result.transcript = output.FileTranscript(
          result.path, " ".join(t for t, _ in pieces if t),
          result.samples / float(self._settings.sample_rate),
          [w for _, words in pieces for w in words])
    result.pieces = {}
    self._files_done += 1
    return result


def model_outputs(model, waveforms):
  """Featurizes waveforms as the model's settings say and runs it on them.

  The one place that pads a batch for the model: transcription runs it on
  chunks, the LM tuning on whole utterances.

  Args:
    model: a `model.ExportedModel` or `model.CheckpointModel`.
    waveforms: mono float arrays at the model's sample rate, each at least
      one window long.

  Returns:
    (probabilities float32 [batch, time, classes], lengths [batch]): the
    model's softmax outputs and the real output frames of each.
  """
  feats = [model.settings.features.featurize_samples(w) for w in waveforms]
  frames = max(f.shape[0] for f in feats)
  features = np.zeros((len(feats), frames) + feats[0].shape[1:], np.float32)
  for i, f in enumerate(feats):
    features[i, :f.shape[0]] = f
  lengths = np.array([[f.shape[0]] for f in feats], np.int32)
  return model(features, lengths)

"""Transcription as audio arrives, from a unidirectional model.

    transcriber = StreamingTranscriber("/tmp/deep_speech_model")
    stream = transcriber.start()            # or start(sample_rate=44100)
    for samples in source:                  # chunks of any size, 0 too
      partial = stream.feed(samples)        # the greedy text so far
    transcript = stream.finish()            # output.FileTranscript, words
                                            # timed; the stream is spent

`feed` takes mono samples (float in [-1, 1], or int16) at the stream's
rate; another rate than the model's goes through soxr's streaming
resampler. The stream keeps the spectrogram's overlap (the samples of the
next window), normalizes each frame by the running statistics of the frames
before it (`featurizer.RunningNormalizer`: a stream cannot see the
utterance's end), and feeds `stream_model.StreamingNetwork`, which keeps
the convolutions' context, the RNN states and the lookahead's buffer (or
a .tflite's `tflite_model.TFLiteNetwork`, which keeps them alike).

Each output frame waits for the future the network sees:
`deep_speech_model.input_context()` gives 40 spectrogram frames (400 ms at
a 10 ms stride) from the two convolutions, plus 4 x --lookahead_context
from the lookahead; `StreamingTranscriber.latency_sec` says how long in
all. A unidirectional model's streamed transcript is the offline one of
the same audio when its settings record "feature_normalization":
"running" (transcribe.py then normalizes whole files that way too).

Decoding is greedy (best class per frame, repeats merged, blanks dropped),
words timed as transcription/timing.py times them. A `StreamingTranscriber`
serves many streams at once (one per connection); a `Stream` is used from
one thread at a time.
"""

import numpy as np

from data import featurizer
from data import vocabulary
import deep_speech_model
from transcription import audio
from transcription import model as model_lib
from transcription import output
from transcription import stream_model
from transcription import tflite_model
from transcription import timing


def pcm_blocks(read, block_bytes=3200):
  """Yields int16 [n] blocks of s16le PCM from `read(n) -> bytes`.

  `read` may return fewer bytes than asked (a pipe gives what it has, so a
  live source is transcribed as it speaks); an odd byte waits for its other
  half. Ends when `read` returns b"".
  """
  rest = b""
  while True:
    data = read(block_bytes)
    if not data:
      return
    data = rest + data
    even = len(data) // 2 * 2
    rest = data[even:]
    if even:
      yield np.frombuffer(data[:even], dtype="<i2")


class StreamingTranscriber(object):
  """A unidirectional model, ready to open streams.

  Attributes:
    path: the checkpoint whose variables are used (or the .tflite).
    settings: the model's featurizer `model_lib.Settings`.
    latency_sec: how far the network sees ahead of an output frame's
      centre: audio this much later must arrive before that frame is out.
    warning: None, or why streamed transcripts may differ from transcribe.py's
      (a model whose features were normalized per utterance).
  """

  def __init__(self, model_path, fallback_settings=None, num_threads=1):
    """Loads a training directory's latest checkpoint, an export or a
    .tflite file (transcription/tflite_model.py).

    Args:
      model_path: a --model_dir, an export (or its --export_dir), or a
        .tflite file of export_tflite.py.
      fallback_settings: `model_lib.Settings` for a model that records
        none.
      num_threads: a .tflite's interpreter threads (None: all CPUs).

    Raises:
      model_lib.ModelError: no model there, a bidirectional one, or
        settings that do not fit it.
    """
    if tflite_model.is_tflite_path(model_path):
      model = tflite_model.TFLiteModel(model_path, num_threads)
      self.path, self.settings = model.path, model.settings
      self._network = model.network
    else:
      checkpoint, settings_dir = stream_model.find_variables(model_path)
      self.path = checkpoint
      params, self.settings, _, _ = model_lib.describe_checkpoint(
          checkpoint, settings_dir, fallback_settings)
      self._network = stream_model.StreamingNetwork(
          checkpoint, params, self.settings.num_feature_bins)
    future = (deep_speech_model.input_context()[1] +
              deep_speech_model.TIME_REDUCTION *
              self._network.lookahead_context)
    self.latency_sec = (future * self.settings.stride_ms +
                        self.settings.window_ms / 2.0) / 1000.0
    self.warning = None
    if self.settings.normalization != "running":
      self.warning = (
          "%s normalizes features per utterance; a stream normalizes them "
          "by the frames so far, so its transcripts can differ from "
          "transcribe.py's on whole files" % model_path)

  def start(self, sample_rate=None, name="<stream>"):
    """A new `Stream` (an utterance), its audio at `sample_rate` Hz.

    Args:
      sample_rate: the rate of the samples fed (default: the model's).
      name: what the final transcript's `path` says.
    """
    return Stream(self._network, self.settings, sample_rate, name)


class Stream(object):
  """One utterance being transcribed: `feed` pieces, then `finish`.

  Attributes:
    text: the greedy transcript so far.
    duration: seconds of audio fed (at the model's rate).
  """

  def __init__(self, network, settings, sample_rate, name):
    self._network = network
    self._settings = settings
    self._name = name
    self._state = network.start()
    self._resampler = None
    if sample_rate is not None and sample_rate != settings.sample_rate:
      self._resampler = audio.stream_resampler(sample_rate,
                                               settings.sample_rate)
    self._window = int(0.001 * settings.sample_rate * settings.window_ms)
    self._stride = int(0.001 * settings.sample_rate * settings.stride_ms)
    self._pending = np.zeros(0, np.float32)  # samples of the next windows
    self._normalizer = featurizer.RunningNormalizer(settings.num_feature_bins)
    self._blank = vocabulary.blank_index(settings.labels)
    self._probabilities = []
    self._last_class = None
    self._chars = []
    self._samples = 0
    self._finished = False

  @property
  def text(self):
    return "".join(self._chars).strip()

  @property
  def duration(self):
    return self._samples / float(self._settings.sample_rate)

  def probabilities(self):
    """The softmax outputs so far, float32 [output frames, classes]."""
    if not self._probabilities:
      return np.zeros((0, len(self._settings.labels)), np.float32)
    return np.concatenate(self._probabilities)

  def feed(self, samples):
    """Transcribes the next samples; returns the greedy text so far.

    Args:
      samples: 1-D mono samples: float (in [-1, 1]) or int16, any number.

    Raises:
      ValueError: samples that are not 1-D, or a finished stream.
    """
    samples = self._as_float32(samples)
    if self._resampler is not None and samples.size:
      samples = self._resampler.resample_chunk(samples, last=False)
    self._take(samples)
    return self.text

  def finish(self):
    """Ends the utterance: the final `output.FileTranscript`, words timed.

    The network gets the closing padding of its convolutions and lookahead,
    exactly as at the end of a whole file; the stream is spent afterwards.
    """
    self._check_open()
    if self._resampler is not None:
      self._take(self._resampler.resample_chunk(np.zeros(0, np.float32),
                                                last=True))
    self._finished = True
    if self._samples >= self._window:
      self._add(self._network.finish(self._state))
    probabilities = self.probabilities()
    clock = timing.FrameClock(self._settings.stride_ms,
                              self._settings.window_ms,
                              deep_speech_model.TIME_REDUCTION)
    text, words = timing.greedy_words(
        probabilities, probabilities.shape[0], self._settings.labels,
        self._blank, clock, end_sec=self.duration)
    return output.FileTranscript(self._name, text.strip(), self.duration,
                                 words)

  def _check_open(self):
    if self._finished:
      raise ValueError("%s: the stream is finished; start another"
                       % self._name)

  def _as_float32(self, samples):
    """Samples as float32 [n], as soundfile reads a file's."""
    self._check_open()
    samples = np.asarray(samples)
    if samples.ndim != 1:
      raise ValueError("%s: samples must be 1-D (mono), got shape %s"
                       % (self._name, samples.shape))
    if samples.dtype == np.int16:
      return samples.astype(np.float32) / 32768.0
    return samples.astype(np.float32)

  def _take(self, samples):
    """Spectrogram frames of the complete windows, through the network."""
    self._samples += samples.shape[0]
    pending = np.concatenate([self._pending, samples])
    count = self._settings.features.num_frames(pending.shape[0])
    if not count:
      self._pending = pending
      return
    used = pending[:(count - 1) * self._stride + self._window]
    self._pending = pending[count * self._stride:]
    feature = featurizer.compute_spectrogram_feature(
        used, self._settings.sample_rate, stride_ms=self._settings.stride_ms,
        window_ms=self._settings.window_ms)
    frames = self._normalizer(feature)[:, :, np.newaxis].astype(np.float32)
    self._add(self._network.step(self._state, frames))

  def _add(self, probabilities):
    """Keeps the new output frames and extends the greedy text."""
    if not probabilities.shape[0]:
      return
    self._probabilities.append(probabilities)
    for cls in np.argmax(probabilities, axis=1):
      cls = int(cls)
      if cls != self._last_class and cls != self._blank:
        self._chars.append(self._settings.labels[cls])
      self._last_class = cls

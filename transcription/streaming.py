"""Transcription as audio arrives, from a unidirectional model.

    transcriber = StreamingTranscriber("/tmp/deep_speech_model")
    stream = transcriber.start()            # or start(sample_rate=44100,
                                            #   endpoint_silence_sec=0.8)
    for samples in source:                  # chunks of any size, 0 too
      partial = stream.feed(samples)        # the text so far
      finals = stream.pop_finals()          # utterances ended by pauses
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

Decoding is greedy (best class per frame, repeats merged, blanks dropped)
unless the transcriber is given another decoder: the beam search (with an
LM) continues across pieces through `decoder.begin()`, so the final text is
its offline text of the same frames. Words are timed at the end as the
offline pipeline times them (transcription/timing.py: the greedy path,
aligned to the beam search's words). A `StreamingTranscriber` serves many
streams at once (one per connection); a `Stream` is used from one thread
at a time.

Endpointing (`start(endpoint_silence_sec=s)`, off by default) splits a
stream into utterances at pauses: once the output frames since the last
spoken one reach `s` seconds, the utterance ends where the network has
read to, as a file ending there would (the closing padding brings out the
letters the lookahead still held back), and its transcript is kept for
`pop_finals()`, words timed from the stream's start. The next utterance
starts at the next sample as a new file would: the network's state, the
running normalization, the decoder and the text afresh (models are trained
on utterances, each from zero). Each utterance's transcript is so the
offline one of its stretch of the stream; where the cut falls within the
pause depends on the pieces' sizes. A pause without speech before it ends
an utterance that is dropped.

What a pause is: transcription/endpoint.py.
"""

import numpy as np

from data import featurizer
from data import vocabulary
import decoder as decoder_lib
import deep_speech_model
from transcription import audio
from transcription import endpoint
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


def is_streamable(model_path):
  """Whether the model at `model_path` (as for `StreamingTranscriber`) is
  unidirectional, so that it can stream.

  Raises:
    model_lib.ModelError: no model there.
  """
  if tflite_model.is_tflite_path(model_path):
    return True  # export_tflite.py writes only streaming networks
  checkpoint, _ = stream_model.find_variables(model_path)
  return not model_lib.infer_params(checkpoint)["is_bidirectional"]


class StreamingTranscriber(object):
  """A unidirectional model, ready to open streams.

  Attributes:
    path: the checkpoint whose variables are used (or the .tflite).
    settings: the model's featurizer `model_lib.Settings`.
    latency_sec: how far the network sees ahead of an output frame's
      centre: audio this much later must arrive before that frame is out.
    warning: None, or why streamed transcripts may differ from transcribe.py's
      (a model whose features were normalized per utterance).
    settings_file, recorded_decoder: the settings file read (or None) and
      the decoder it records (export.recorded_decoder), for choosing one.
    decoder: how streams started from now decode: a `decoder.Decoder`
      (its `begin()`); the greedy decoder unless given.
  """

  def __init__(self, model_path, fallback_settings=None, num_threads=1,
               decoder=None, tf_threads=None):
    """Loads a training directory's latest checkpoint, an export or a
    .tflite file (transcription/tflite_model.py).

    Args:
      model_path: a --model_dir, an export (or its --export_dir), or a
        .tflite file of export_tflite.py.
      fallback_settings: `model_lib.Settings` for a model that records
        none.
      num_threads: a .tflite's interpreter threads (None: all CPUs).
      decoder: a `decoder.Decoder` of the model's labels (e.g. the beam
        search of decoder.make_decoder), or None for greedy decoding.
      tf_threads: TensorFlow's threads for a checkpoint's or an export's
        network (None: every core).

    Raises:
      model_lib.ModelError: no model there, a bidirectional one, or
        settings that do not fit it.
    """
    if tflite_model.is_tflite_path(model_path):
      model = tflite_model.TFLiteModel(model_path, num_threads)
      self.path, self.settings = model.path, model.settings
      self.settings_file, self.recorded_decoder = (model.settings_file,
                                                   model.decoder)
      self._network = model.network
    else:
      checkpoint, settings_dir = stream_model.find_variables(model_path)
      self.path = checkpoint
      (params, self.settings, self.settings_file,
       self.recorded_decoder) = model_lib.describe_checkpoint(
           checkpoint, settings_dir, fallback_settings)
      self._network = stream_model.StreamingNetwork(
          checkpoint, params, self.settings.num_feature_bins, tf_threads)
    self.decoder = decoder or decoder_lib.DeepSpeechDecoder(
        self.settings.labels, vocabulary.blank_index(self.settings.labels))
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

  def start(self, sample_rate=None, name="<stream>",
            endpoint_silence_sec=None):
    """A new `Stream` (an utterance), its audio at `sample_rate` Hz.

    Args:
      sample_rate: the rate of the samples fed (default: the model's).
      name: what the final transcript's `path` says.
      endpoint_silence_sec: None (one utterance), or the pause, in seconds,
        that ends an utterance (see the module docstring).

    Raises:
      ValueError: an `endpoint_silence_sec` that is not > 0.
    """
    if endpoint_silence_sec is not None and not endpoint_silence_sec > 0:
      raise ValueError("the endpoint silence must be > 0 s, got %r"
                       % (endpoint_silence_sec,))
    return Stream(self._network, self.settings, sample_rate, name,
                  self.decoder, endpoint_silence_sec)


class Stream(object):
  """A recording being transcribed: `feed` pieces, then `finish`.

  Attributes:
    text: the transcript so far (of the utterance under way).
    duration: seconds of audio fed (at the model's rate).
  """

  def __init__(self, network, settings, sample_rate, name, decoder,
               endpoint_silence_sec=None):
    self._network = network
    self._settings = settings
    self._name = name
    self._decoder = decoder
    self._resampler = None
    if sample_rate is not None and sample_rate != settings.sample_rate:
      self._resampler = audio.stream_resampler(sample_rate,
                                               settings.sample_rate)
    self._window = int(0.001 * settings.sample_rate * settings.window_ms)
    self._stride = int(0.001 * settings.sample_rate * settings.stride_ms)
    self._blank = vocabulary.blank_index(settings.labels)
    self._clock = timing.FrameClock(settings.stride_ms, settings.window_ms,
                                    deep_speech_model.TIME_REDUCTION)
    self._pauses = None
    if endpoint_silence_sec is not None:
      self._pauses = endpoint.PauseCounter(
          endpoint_silence_sec, settings.labels, settings.stride_ms,
          self._clock.frame_sec)
    self._finals = []
    self._samples = 0  # of the stream, at the model's rate
    self._finished = False
    # The samples from the next window on, not yet read by the network.
    self._pending = np.zeros(0, np.float32)
    self._begin_utterance(0)

  def _begin_utterance(self, start):
    """Everything afresh for an utterance from sample `start` on, as for a
    file starting there: the network's state, the normalization, the
    decoder and the text."""
    self._start = start
    self._state = self._network.start()
    self._normalizer = featurizer.RunningNormalizer(
        self._settings.num_feature_bins)
    self._decode = self._decoder.begin()
    self._probabilities = []
    self._windows = 0  # spectrogram frames of the utterance so far
    self._frames = 0  # output frames of the utterance so far
    if self._pauses is not None:
      self._pauses.reset()

  @property
  def text(self):
    return self._decode.partial().strip()

  @property
  def duration(self):
    return self._samples / float(self._settings.sample_rate)

  def probabilities(self):
    """The softmax outputs of the utterance so far, float32 [output frames,
    classes] (with endpointing, since the last endpoint)."""
    if not self._probabilities:
      return np.zeros((0, len(self._settings.labels)), np.float32)
    return np.concatenate(self._probabilities)

  def pop_finals(self):
    """The utterances ended by endpoints since the last call, in order.

    `output.FileTranscript`s: each is the transcript of its stretch of the
    stream transcribed as a file, words timed from the stream's start, and
    its duration the stream's time at its end."""
    finals, self._finals = self._finals, []
    return finals

  def feed(self, samples):
    """Transcribes the next samples; returns the text so far.

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
    """Ends the stream: the final `output.FileTranscript`, words timed.

    The network gets the closing padding of its convolutions and lookahead,
    exactly as at the end of a whole file; the stream is spent afterwards.
    With endpointing, the transcript is the last utterance's.
    """
    self._check_open()
    last = np.zeros(0, np.float32)
    if self._resampler is not None:
      last = self._resampler.resample_chunk(last, last=True)
    self._finished = True  # the windows short of a whole step go in too
    self._take(last)
    if self._samples - self._start >= self._window:
      self._extend(self._network.finish(self._state))
    return self._transcript(self.duration, self.duration)

  def _transcript(self, end_sec, duration):
    """The utterance's transcript, timed as the offline pipeline times a
    chunk: the greedy path, aligned to another decoder's words."""
    probabilities = self.probabilities()
    text = self._decode.finish()
    greedy, words = timing.greedy_words(
        probabilities, probabilities.shape[0], self._settings.labels,
        self._blank, self._clock,
        offset_sec=self._start / float(self._settings.sample_rate),
        end_sec=end_sec)
    if text != greedy:
      words = timing.align_words(text, words)
    return output.FileTranscript(self._name, text.strip(), duration, words)

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
    """Feeds the network the spectrogram frames of the complete windows:
    all at once, or with endpointing one output frame's worth at a time,
    so that a pause ends an utterance at the same sample whatever the
    pieces' sizes."""
    self._samples += samples.shape[0]
    self._pending = np.concatenate([self._pending, samples])
    while True:
      count = self._settings.features.num_frames(self._pending.shape[0])
      if self._pauses is not None:
        count = min(count, deep_speech_model.TIME_REDUCTION)
        if count < deep_speech_model.TIME_REDUCTION and not self._finished:
          return
      if not count:
        return
      self._step(count)

  def _step(self, count):
    """The network over the next `count` windows of `self._pending`."""
    used = self._pending[:(count - 1) * self._stride + self._window]
    self._pending = self._pending[count * self._stride:]
    feature = featurizer.compute_spectrogram_feature(
        used, self._settings.sample_rate, stride_ms=self._settings.stride_ms,
        window_ms=self._settings.window_ms)
    frames = self._normalizer(feature)[:, :, np.newaxis].astype(np.float32)
    self._windows += count
    probabilities = self._network.step(self._state, frames)
    if self._pauses is None:
      self._extend(probabilities)
      return
    self._pauses.add_windows(used, count, self._window, self._stride)
    ended = self._pauses.ended(probabilities)
    self._extend(probabilities)
    if ended:
      self._end_utterance()

  def _extend(self, probabilities):
    """Decodes the utterance's next output frames."""
    if not probabilities.shape[0]:
      return
    self._probabilities.append(probabilities)
    self._decode.step(probabilities)
    self._frames += probabilities.shape[0]

  def _end_utterance(self):
    """Ends the utterance where the network has read to, as a file ending
    there ends (its closing padding), kept if it has speech; the next
    starts at the first sample not yet read."""
    next_start = self._start + self._windows * self._stride
    end = next_start - self._stride + self._window
    self._extend(self._network.finish(self._state))
    if self._pauses.spoke:
      end_sec = end / float(self._settings.sample_rate)
      self._finals.append(self._transcript(end_sec, end_sec))
    self._begin_utterance(next_start)

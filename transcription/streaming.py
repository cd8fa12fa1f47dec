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
the convolutions' context, the RNN states and the lookahead's buffer.

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
spoken one reach `s` seconds, the utterance ends there: its transcript is
kept for `pop_finals()` (words timed from the stream's start) and the
decoder and the text start afresh, while the network, its normalization
and the clock run on. A pause without speech before it ends no utterance.

An output frame is a pause when the model's best class is the blank (or
the space), or when its audio (the spectrogram windows it stands for and
those of the `SILENCE_LOOKBACK_SEC` before, so that a unidirectional
model's late letters still count) is below `SILENCE_FLOOR_DBFS`. The model
decides in the pauses of real rooms, whose noise it was trained to ignore,
with no level to calibrate; the floor catches near-digital silence (a
muted microphone, a generated pause), which no training recording has and
on which a model's output is arbitrary. Endpointing only cuts: every frame
is decoded as it came, so an utterance's text is what the offline decoder
makes of its frames.
"""

import math

import numpy as np

from data import featurizer
from data import vocabulary
import decoder as decoder_lib
import deep_speech_model
from transcription import audio
from transcription import model as model_lib
from transcription import output
from transcription import stream_model
from transcription import timing

# Audio below this RMS level (dB relative to full scale) is a pause for
# endpointing, whatever the model makes of it (see the module docstring).
SILENCE_FLOOR_DBFS = -60.0
SILENCE_LOOKBACK_SEC = 0.3


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
  checkpoint, _ = stream_model.find_variables(model_path)
  return not model_lib.infer_params(checkpoint)["is_bidirectional"]


class StreamingTranscriber(object):
  """A unidirectional model, ready to open streams.

  Attributes:
    path: the checkpoint whose variables are used.
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

  def __init__(self, model_path, fallback_settings=None, decoder=None,
               threads=None):
    """Loads a training directory's latest checkpoint or an export.

    Args:
      model_path: a --model_dir or an export (or its --export_dir).
      fallback_settings: `model_lib.Settings` for a model that records
        none.
      decoder: a `decoder.Decoder` of the model's labels (e.g. the beam
        search of decoder.make_decoder), or None for greedy decoding.
      threads: TensorFlow threads of the network (None: every core).

    Raises:
      model_lib.ModelError: no model there, a bidirectional one, or
        settings that do not fit it.
    """
    checkpoint, settings_dir = stream_model.find_variables(model_path)
    self.path = checkpoint
    (params, self.settings, self.settings_file,
     self.recorded_decoder) = model_lib.describe_checkpoint(
         checkpoint, settings_dir, fallback_settings)
    self.decoder = decoder or decoder_lib.DeepSpeechDecoder(
        self.settings.labels, vocabulary.blank_index(self.settings.labels))
    self._network = stream_model.StreamingNetwork(
        checkpoint, params, self.settings.num_feature_bins, threads)
    future = (deep_speech_model.input_context()[1] +
              deep_speech_model.TIME_REDUCTION * params["lookahead_context"])
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
    self._clock = timing.FrameClock(settings.stride_ms, settings.window_ms,
                                    deep_speech_model.TIME_REDUCTION)
    self._silent = {self._blank}
    if " " in settings.labels:
      self._silent.add(settings.labels.index(" "))
    self._endpoint_frames = None
    self._levels = None  # with endpointing: dBFS per spectrogram frame
    self._levels_from = 0  # the spectrogram frame of self._levels[0]
    if endpoint_silence_sec is not None:
      self._levels = np.zeros(0)
      self._endpoint_frames = max(1, int(math.ceil(
          endpoint_silence_sec / self._clock.frame_sec - 1e-9)))
    self._frames = 0  # output frames so far, of all utterances
    self._finals = []
    self._samples = 0
    self._finished = False
    self._begin_utterance()

  def _begin_utterance(self):
    """Per-utterance state afresh, from the current output frame on."""
    self._decode = self._decoder.begin()
    self._probabilities = []
    self._first_frame = self._frames
    self._silent_run = 0  # output frames since the last spoken one
    self._spoke = False

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
    """The utterances ended by endpoints since the last call, in order:
    `output.FileTranscript`s whose words are timed from the stream's start
    and whose duration is the stream's time at the utterance's end."""
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
    With endpointing, the transcript is the last utterance's (endpoints
    the closing frames reach are in `pop_finals()` first).
    """
    self._check_open()
    if self._resampler is not None:
      self._take(self._resampler.resample_chunk(np.zeros(0, np.float32),
                                                last=True))
    self._finished = True
    if self._samples >= self._window:
      self._add(self._network.finish(self._state))
    return self._transcript(self.duration, self.duration)

  def _transcript(self, end_sec, duration):
    """The utterance's transcript, timed as the offline pipeline times a
    chunk: the greedy path, aligned to another decoder's words."""
    probabilities = self.probabilities()
    text = self._decode.finish()
    greedy, words = timing.greedy_words(
        probabilities, probabilities.shape[0], self._settings.labels,
        self._blank, self._clock, end_sec=end_sec,
        first_frame=self._first_frame)
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
    """Spectrogram frames of the complete windows, through the network."""
    self._samples += samples.shape[0]
    pending = np.concatenate([self._pending, samples])
    count = featurizer.num_frames(pending.shape[0], self._settings.sample_rate,
                                  stride_ms=self._settings.stride_ms,
                                  window_ms=self._settings.window_ms)
    if not count:
      self._pending = pending
      return
    used = pending[:(count - 1) * self._stride + self._window]
    self._pending = pending[count * self._stride:]
    feature = featurizer.compute_spectrogram_feature(
        used, self._settings.sample_rate, stride_ms=self._settings.stride_ms,
        window_ms=self._settings.window_ms)
    frames = self._normalizer(feature)[:, :, np.newaxis].astype(np.float32)
    if self._levels is not None:
      self._levels = np.concatenate([self._levels, _window_levels(
          used, count, self._window, self._stride)])
    self._add(self._network.step(self._state, frames))

  def _add(self, probabilities):
    """Decodes the new output frames, ending utterances at endpoints."""
    start = 0
    if self._endpoint_frames is not None:
      best = np.argmax(probabilities, axis=1).tolist()
      quiet = self._quiet(len(best))
      for i, cls in enumerate(best):
        if cls not in self._silent and not quiet[i]:
          self._silent_run, self._spoke = 0, True
          continue
        self._silent_run += 1
        if self._silent_run >= self._endpoint_frames:
          self._extend(probabilities[start:i + 1])
          start = i + 1
          self._endpoint()
    self._extend(probabilities[start:])

  def _quiet(self, count):
    """Whether each of the next `count` output frames' audio is silent."""
    reduction = deep_speech_model.TIME_REDUCTION
    back = int(round(1000.0 * SILENCE_LOOKBACK_SEC / self._settings.stride_ms))
    quiet = []
    for i in range(count):
      first = (self._frames + i) * reduction - self._levels_from
      levels = self._levels[max(0, first - back):max(0, first + reduction)]
      # The closing frames stand for the padding after the audio: silent.
      quiet.append(not levels.size or levels.max() < SILENCE_FLOOR_DBFS)
    # The next output frame looks back to here; older windows are done.
    done = (self._frames + count) * reduction - back
    drop = min(max(0, done - self._levels_from), self._levels.shape[0])
    self._levels = self._levels[drop:]
    self._levels_from += drop
    return quiet

  def _extend(self, probabilities):
    if not probabilities.shape[0]:
      return
    self._probabilities.append(probabilities)
    self._decode.step(probabilities)
    self._frames += probabilities.shape[0]

  def _endpoint(self):
    """Ends the utterance at the current frame (kept if it has speech)."""
    if self._spoke:
      end = min(self.duration, self._clock.end(self._frames - 1))
      self._finals.append(self._transcript(end, end))
    self._begin_utterance()


def _window_levels(samples, count, window, stride):
  """RMS levels in dBFS of the `count` windows of `samples` [n]."""
  starts = np.arange(count) * stride
  squares = np.concatenate([[0.0], np.cumsum(
      samples.astype(np.float64) ** 2)])
  mean = (squares[starts + window] - squares[starts]) / window
  return 10.0 * np.log10(np.maximum(mean, 1e-20))

"""The streaming transcriber against the offline path, on synthesized speech.

A tiny unidirectional model with a lookahead is trained in the test (on
running-normalized features, as a streaming model records); espeak-ng says
real sentences, converted by sox to 16 kHz and 44.1 kHz. Streamed in chunks
from 10 ms to longer than the file, the probabilities must match the offline
graph's (CheckpointModel, the Estimator's PREDICT graph) to a tight
tolerance, and the transcript and word timings must be transcribe.py's
pipeline's exactly.
"""

import os
import shutil

import numpy as np
import pytest
import soundfile

import decoder
from data import featurizer
from training import export
from transcription import model as model_lib
from transcription import pipeline
from transcription import streaming
from tests.helpers import sox_audio
from tests.helpers import tiny_model

pytestmark = pytest.mark.slow

SENTENCES = ("the quick brown fox jumps over the lazy dog",
             "a streaming model hears the words as they are spoken")
# 10 ms, an odd size, 0.25 s, 1 s, 3 s, and more than the whole file.
CHUNKS = (160, 777, 4000, 16000, 48000, 10 ** 6)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
  directory = tmp_path_factory.mktemp("stream_model")
  model_dir, export_dir = tiny_model.build_streaming(str(directory))
  files = [sox_audio.say(text, directory / ("s%d.wav" % i), 16000)
           for i, text in enumerate(SENTENCES)]
  return model_dir, export_dir, files, directory


def _offline(model_dir, path):
  """transcribe.py's pipeline (greedy) on one file: its FileTranscript."""
  checkpoint_model = model_lib.CheckpointModel(model_dir, None)
  transcriber = pipeline.Transcriber(
      checkpoint_model, decoder.make_decoder(
          "greedy", checkpoint_model.settings.labels), time_reduction=4)
  (result,) = list(transcriber.transcribe([path]))
  assert result.error is None
  return checkpoint_model, result.transcript


def _stream(stream, samples, chunk):
  """Feeds `samples` in pieces of `chunk` (a 0-sample piece first and
  midway); returns (partials, final transcript)."""
  partials = [stream.feed(samples[:0])]
  for start in range(0, samples.shape[0], chunk):
    partials.append(stream.feed(samples[start:start + chunk]))
    if start == chunk:
      partials.append(stream.feed(np.zeros(0, np.float32)))
  return partials, stream.finish()


def _words(transcript):
  return [w.to_dict() for w in transcript.words]


@pytest.mark.parametrize("chunk", CHUNKS)
def test_streamed_transcripts_are_the_offline_ones(model, chunk):
  model_dir, _, files, _ = model
  transcriber = streaming.StreamingTranscriber(model_dir)
  assert transcriber.warning is None
  for path in files:
    checkpoint_model, offline = _offline(model_dir, path)
    samples, _ = soundfile.read(path, dtype="float32")
    stream = transcriber.start(name=path)
    partials, final = _stream(stream, samples, chunk)
    # The offline graph on the same (running-normalized) features.
    features = featurizer.featurize_samples(
        samples, 16000, window_ms=20, stride_ms=10,
        normalize="running")[np.newaxis]
    probabilities, _ = checkpoint_model(features,
                                        np.array([[features.shape[1]]]))
    np.testing.assert_allclose(stream.probabilities(), probabilities[0],
                               rtol=0, atol=1e-5)
    assert offline.text  # the model says something, so identity can fail
    assert (final.text, _words(final), final.duration) == (
        offline.text, _words(offline), offline.duration)
    assert final.path == path
    # Greedy decoding is causal: every partial begins the final text.
    assert all(final.text.startswith(p) for p in partials)
    if chunk <= 16000:  # text shows before the audio ends
      assert any(partials[:-1])


def test_an_export_streams_as_its_checkpoint_and_streams_are_independent(
    model):
  model_dir, export_dir, files, _ = model
  from_checkpoint = streaming.StreamingTranscriber(model_dir)
  from_export = streaming.StreamingTranscriber(export_dir)
  audio = [soundfile.read(p, dtype="float32")[0] for p in files]
  alone = [_stream(from_checkpoint.start(), a, 1600)[1] for a in audio]
  # Two streams of one transcriber, fed alternately, then one after the
  # other on the export: each gives what it gives alone.
  first, second = from_checkpoint.start(), from_checkpoint.start()
  for start in range(0, max(map(len, audio)), 3200):
    first.feed(audio[0][start:start + 3200])
    second.feed(audio[1][start:start + 3200])
  interleaved = [first.finish(), second.finish()]
  one_after_another = [_stream(from_export.start(), a, 8000)[1]
                       for a in audio]
  for got in (interleaved, one_after_another):
    assert [(t.text, _words(t)) for t in got] == [
        (t.text, _words(t)) for t in alone]
  # int16 samples are the same audio as their float32 reading.
  pcm, _ = soundfile.read(files[0], dtype="int16")
  assert _stream(from_checkpoint.start(), pcm, 4000)[1].text == alone[0].text


def test_another_rate_goes_through_the_resampler(model):
  model_dir, _, _, directory = model
  path = sox_audio.say(SENTENCES[1], directory / "cd_rate.wav", 44100)
  _, offline = _offline(model_dir, path)
  samples, rate = soundfile.read(path, dtype="float32")
  assert rate == 44100
  transcriber = streaming.StreamingTranscriber(model_dir)
  for chunk in (441, 44100):
    _, final = _stream(transcriber.start(sample_rate=44100), samples, chunk)
    assert final.text == offline.text and offline.text
    assert abs(final.duration - offline.duration) < 1e-3


def test_a_finished_stream_and_bad_samples_are_clear_errors(model):
  model_dir, _, _, _ = model
  stream = streaming.StreamingTranscriber(model_dir).start(name="mic")
  with pytest.raises(ValueError, match="^mic: samples must be 1-D"):
    stream.feed(np.zeros((4, 2), np.float32))
  short = stream.finish()  # no audio at all: no text, no words
  assert (short.text, short.words, short.duration) == ("", [], 0.0)
  with pytest.raises(ValueError, match="^mic: the stream is finished"):
    stream.feed(np.zeros(10, np.float32))


def test_a_bidirectional_model_cannot_stream(tmp_path):
  model_dir, _ = tiny_model.build(str(tmp_path), steps=1, num_utts=1)
  shutil.copy(str(tmp_path / export.EXPORT_SETTINGS_FILE), model_dir)
  with pytest.raises(model_lib.ModelError, match="is bidirectional"):
    streaming.StreamingTranscriber(model_dir)


@pytest.mark.slow
def test_a_model_the_cli_trains_with_running_normalization_streams_exactly(
    tmp_path):
  # deep_speech.py --feature_normalization=running records it, so the
  # stream and the offline pipeline normalize alike and agree exactly.
  from tests import conftest  # pylint: disable=g-import-not-at-top
  from tests.helpers.train import TINY, run_in_process  # pylint: disable=g-import-not-at-top
  corpus = conftest.make_corpus(tmp_path / "corpus", num_utts=8)
  model_dir, export_dir = str(tmp_path / "m"), str(tmp_path / "e")
  run_in_process([f for f in TINY if not f.startswith("--export_dir")] + [
      "--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
      "--model_dir=" + model_dir, "--export_dir=" + export_dir,
      "--train_epochs=2", "--is_bidirectional=false",
      "--lookahead_context=2", "--feature_normalization=running"])
  (stamp,) = os.listdir(export_dir)
  settings = export.load_settings(os.path.join(
      export_dir, stamp, "assets.extra", export.EXPORT_SETTINGS_FILE))
  assert settings["feature_normalization"] == "running"
  transcriber = streaming.StreamingTranscriber(model_dir)
  assert transcriber.warning is None
  path = sorted(os.path.join(str(tmp_path / "corpus"), n) for n in
                os.listdir(str(tmp_path / "corpus")) if n.endswith(".wav"))[0]
  _, offline = _offline(model_dir, path)
  samples, _ = soundfile.read(path, dtype="float32")
  _, streamed = _stream(transcriber.start(), samples, 1600)
  assert streamed.text == offline.text
  assert _words(streamed) == _words(offline)

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

import numpy as np
import pytest
import soundfile

import decoder
from data import featurizer
from decoding import lm
from training import export
from transcription import model as model_lib
from transcription import pipeline
from transcription import streaming
from tests import conftest
from tests.helpers import sox_audio

pytestmark = pytest.mark.slow

SENTENCES = ("the quick brown fox jumps over the lazy dog",
             "a streaming model hears the words as they are spoken")
# 10 ms, an odd size, 0.25 s, 1 s, 3 s, and more than the whole file.
CHUNKS = (160, 777, 4000, 16000, 48000, 10 ** 6)


@pytest.fixture(scope="module")
def model(tiny_streaming_model, tmp_path_factory):
  directory = tmp_path_factory.mktemp("stream_audio")
  model_dir, export_dir = tiny_streaming_model
  files = [sox_audio.say(text, directory / ("s%d.wav" % i), 16000)
           for i, text in enumerate(SENTENCES)]
  return model_dir, export_dir, files, directory


def _offline(model_dir, path, search=None):
  """transcribe.py's pipeline (greedy, or `search`) on one file: its
  FileTranscript."""
  checkpoint_model = model_lib.CheckpointModel(model_dir, None)
  transcriber = pipeline.Transcriber(
      checkpoint_model, search or decoder.make_decoder(
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


def test_with_an_lm_the_beam_search_runs_on_and_ends_as_offline(model):
  model_dir, _, files, directory = model
  arpa = str(directory / "sentences.arpa")
  lm.build_arpa(list(SENTENCES) + ["the fox hears a dog"], 3, arpa)
  transcriber = streaming.StreamingTranscriber(model_dir)
  search = decoder.make_decoder("beam", transcriber.settings.labels,
                                beam_width=16, lm_path=arpa, alpha=0.5,
                                beta=1.0)
  transcriber.decoder = search
  vocabulary = set(" ".join(SENTENCES).split()) | {"hears"}
  for path in files:
    _, offline = _offline(model_dir, path, search)
    # Words the LM knows: the beam search, not greedy decoding, spoke.
    assert offline.text and set(offline.text.split()) <= vocabulary
    samples, _ = soundfile.read(path, dtype="float32")
    for chunk in (160, 4000, 10 ** 6):
      partials, final = _stream(transcriber.start(name=path), samples, chunk)
      assert (final.text, _words(final)) == (offline.text, _words(offline))
      assert all(set(p.split()) <= vocabulary for p in partials)


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


def _endpointed(transcriber, samples, chunk, silence_sec):
  """Streams `samples` in pieces of `chunk` with endpointing; returns every
  final (popped after each piece, then the last one)."""
  stream = transcriber.start(endpoint_silence_sec=silence_sec)
  finals = []
  for start in range(0, samples.shape[0], chunk):
    stream.feed(samples[start:start + chunk])
    finals += stream.pop_finals()
  last = stream.finish()
  return finals + stream.pop_finals() + [last]


def test_a_pause_ends_an_utterance_and_the_next_one_starts_afresh(
    phrase_model, tmp_path):
  samples, _ = soundfile.read(phrase_model.path, dtype="float32")
  transcriber = streaming.StreamingTranscriber(phrase_model.model_dir)
  search = decoder.make_decoder("beam", transcriber.settings.labels,
                                beam_width=16, lexicon=phrase_model.lexicon)
  transcriber.decoder = search
  got = [_endpointed(transcriber, samples, chunk, 1.0)
         for chunk in (320, 4000, 10 ** 6)]
  # The cut falls where the network had read to: the same for any pieces.
  assert all([(f.text, _words(f), f.duration) for f in finals] == [
      (f.text, _words(f), f.duration) for f in got[0]] for finals in got)
  first, second = got[0]
  assert all(conftest.says_phrase(final.text, phrase)
             for final, phrase in zip((first, second), conftest.PHRASES))
  assert second.duration == samples.shape[0] / 16000.0
  # Timed from the stream's start, each phrase's words on its side of the
  # pause.
  assert first.words and second.words
  assert all(w.start < phrase_model.first_end for w in first.words)
  assert all(w.end <= first.duration for w in first.words)
  assert all(w.start >= phrase_model.first_end for w in second.words)
  # Each utterance is its stretch of the stream transcribed as a file.
  cut = int(round(first.duration * 16000)) - 160  # the last window's end
  for part, stretch, offset in ((first, samples[:cut + 160], 0.0),
                                (second, samples[cut:], cut / 16000.0)):
    path = str(tmp_path / ("part%g.wav" % offset))
    soundfile.write(path, stretch, 16000, subtype="FLOAT")
    _, offline = _offline(phrase_model.model_dir, path, search)
    assert part.text == offline.text
    assert [(w.word, round(w.start - offset, 3)) for w in part.words] == [
        (w.word, round(w.start, 3)) for w in offline.words]
  # Off by default: one utterance.
  stream = transcriber.start()
  stream.feed(samples)
  whole = stream.finish()
  assert stream.pop_finals() == [] and whole.duration == second.duration
  with pytest.raises(ValueError, match="endpoint silence must be > 0"):
    transcriber.start(endpoint_silence_sec=0)


def test_a_finished_stream_and_bad_samples_are_clear_errors(model):
  model_dir, _, _, _ = model
  stream = streaming.StreamingTranscriber(model_dir).start(name="mic")
  with pytest.raises(ValueError, match="^mic: samples must be 1-D"):
    stream.feed(np.zeros((4, 2), np.float32))
  short = stream.finish()  # no audio at all: no text, no words
  assert (short.text, short.words, short.duration) == ("", [], 0.0)
  with pytest.raises(ValueError, match="^mic: the stream is finished"):
    stream.feed(np.zeros(10, np.float32))


@pytest.mark.slow
def test_a_model_the_cli_trains_with_running_normalization_streams_exactly(
    tmp_path):
  # deep_speech.py --feature_normalization=running records it, so the
  # stream and the offline pipeline normalize alike and agree exactly.
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

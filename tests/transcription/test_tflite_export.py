"""TFLite exports of a unidirectional model against its TensorFlow graphs.

A tiny unidirectional model with a lookahead is trained in the test
(tiny_model.build_streaming) and exported once per quantization;
espeak-ng says real sentences. The float32 file must transcribe as the
SavedModel does (offline, a file at a time) and stream as the TensorFlow
streaming network does, probabilities within 1e-5; float16 and int8 must
use builtin ops only and stay within the bounds below of float32.
"""

import glob
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile
import tensorflow as tf

import decoder
from decoding import scoring
from data import featurizer
from tests.helpers import sox_audio
from tests.helpers import tiny_model
from training import export
from transcription import model as model_lib
from transcription import pipeline
from transcription import streaming
from transcription import tflite_export
from transcription import tflite_model

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SENTENCES = ("the quick brown fox jumps over the lazy dog",
             "a streaming model hears the words as they are spoken",
             "seven silver swans swam silently seaward")
# How far the quantized files may be from float32 on the tiny model: the
# largest probability difference, and the corpus CER of their greedy
# transcripts against float32's. A barely trained model's classes are near
# ties, so int8's rounding flips some frames' best class.
BOUNDS = {"float16": (2e-3, 0.05), "int8": (0.05, 0.25)}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
  directory = tmp_path_factory.mktemp("tflite_model")
  model_dir, export_dir = tiny_model.build_streaming(str(directory))
  files = [sox_audio.say(text, directory / ("s%d.wav" % i), 16000)
           for i, text in enumerate(SENTENCES)]
  tflite = {}
  for quantize in tflite_export.QUANTIZATIONS:
    tflite[quantize] = str(directory / ("model_%s.tflite" % quantize))
    tflite_export.export_tflite(model_dir, tflite[quantize], quantize)
  return {"model_dir": model_dir, "export_dir": export_dir, "files": files,
          "tflite": tflite, "directory": directory}


def _transcripts(loaded, files):
  """transcribe.py's pipeline, greedy, a chunk per model call."""
  transcriber = pipeline.Transcriber(
      loaded, decoder.make_decoder("greedy", loaded.settings.labels),
      time_reduction=4, batch_size=1)
  results = list(transcriber.transcribe(files))
  assert [r.error for r in results] == [None] * len(files)
  return [r.transcript for r in results]


def _features(path):
  samples, _ = soundfile.read(path, dtype="float32")
  features = featurizer.featurize_samples(
      samples, 16000, window_ms=20, stride_ms=10, normalize="running")
  return features[np.newaxis], np.array([[features.shape[0]]], np.int32)


def _summary(transcript):
  return (transcript.text, [w.to_dict() for w in transcript.words],
          transcript.duration)


def test_float32_transcribes_files_as_the_export(model):
  exported = model_lib.ExportedModel(model["export_dir"], None)
  lite = tflite_model.TFLiteModel(model["tflite"]["float32"])
  assert lite.settings.labels == exported.settings.labels
  assert lite.settings.normalization == "running"
  assert lite.description["lookahead_context"] == 2
  offline = _transcripts(exported, model["files"])
  assert all(t.text for t in offline)  # it says something: equality can fail
  assert [_summary(t) for t in _transcripts(lite, model["files"])] == [
      _summary(t) for t in offline]
  for path in model["files"]:
    features, lengths = _features(path)
    want, want_lengths = exported(features, lengths)
    got, got_lengths = lite(features, lengths)
    assert list(got_lengths) == list(want_lengths)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


@pytest.mark.parametrize("chunk", (160, 16000, 10 ** 6))
def test_float32_streams_as_the_tensorflow_network(model, chunk):
  # 10 ms pieces run "rnn_step" only; 1 s pieces and the whole file give
  # "rnn_block" its RNN_BLOCK frames and "rnn_step" the rest.
  tensorflow = streaming.StreamingTranscriber(model["model_dir"])
  lite = streaming.StreamingTranscriber(model["tflite"]["float32"],
                                        num_threads=1)
  assert lite.latency_sec == tensorflow.latency_sec
  assert lite.warning is None
  for path in model["files"]:
    samples, _ = soundfile.read(path, dtype="float32")
    streams = (tensorflow.start(name=path), lite.start(name=path))
    partials = [[], []]
    for start in range(0, samples.shape[0], chunk):
      for stream, texts in zip(streams, partials):
        texts.append(stream.feed(samples[start:start + chunk]))
    want, got = [stream.finish() for stream in streams]
    assert want.text and partials[0] == partials[1]
    assert _summary(got) == _summary(want)
    np.testing.assert_allclose(streams[1].probabilities(),
                               streams[0].probabilities(), rtol=0, atol=1e-5)


def test_float16_and_int8_are_builtins_and_near_float32(model):
  sizes = {q: os.path.getsize(p) for q, p in model["tflite"].items()}
  assert sizes["float16"] < 0.75 * sizes["float32"]
  assert sizes["int8"] < 0.5 * sizes["float32"]
  loaded = {q: tflite_model.TFLiteModel(p)
            for q, p in model["tflite"].items()}
  reference = [t.text for t in _transcripts(loaded["float32"],
                                            model["files"])]
  for quantize, (max_difference, max_cer) in BOUNDS.items():
    with open(model["tflite"][quantize], "rb") as f:
      assert tflite_model.custom_ops(f.read()) == []
    assert loaded[quantize].description["quantize"] == quantize
    for path in model["files"]:
      features, lengths = _features(path)
      got = loaded[quantize](features, lengths)[0]
      want = loaded["float32"](features, lengths)[0]
      assert np.abs(got - want).max() <= max_difference, quantize
    texts = [t.text for t in _transcripts(loaded[quantize], model["files"])]
    rates = scoring.compute_error_rates(texts, reference)
    assert rates["corpus_CER"] <= max_cer, (quantize, texts, reference)


def _flex_model(export_dir, path):
  """The export converted as it must be without these pieces: Flex ops."""
  converter = tf.lite.TFLiteConverter.from_saved_model(
      export.find_saved_model(export_dir))
  converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS,
                                         tf.lite.OpsSet.SELECT_TF_OPS]
  with open(path, "wb") as f:
    f.write(converter.convert())
  return path


def test_the_exports_loop_needs_flex_ops_which_are_refused(model, tmp_path):
  # Builtins alone cannot convert a loop like the export's GRU (a list
  # of tensors whose shape is not static) ...
  class Loop(tf.Module):

    def signatures(self):
      return {"loop": tf.function(
          lambda x: {"y": tf.scan(lambda a, b: a + b, x)},
          input_signature=[tf.TensorSpec([None, None], tf.float32)],
      ).get_concrete_function()}

  with pytest.raises(model_lib.ModelError,
                     match="^TFLite's builtin ops cannot express"):
    tflite_export.convert(Loop(), "float32")
  # ... and with TensorFlow's ops allowed, the file is refused when read.
  path = _flex_model(model["export_dir"], str(tmp_path / "flex.tflite"))
  with open(path, "rb") as f:
    data = f.read()
  assert "FlexTensorListReserve" in tflite_model.custom_ops(data)
  with pytest.raises(model_lib.ModelError, match=(
      "flex.tflite uses ops outside TFLite's builtins .*Flex.*: it needs "
      "the Flex delegate; export the model with export_tflite.py")):
    tflite_model.check_builtins(data, path)
  with pytest.raises(model_lib.ModelError, match="needs the Flex delegate"):
    tflite_model.TFLiteModel(path)


def test_a_bidirectional_model_is_refused(tmp_path):
  _, export_dir = tiny_model.build(str(tmp_path), steps=1, num_utts=1)
  output = str(tmp_path / "bi.tflite")
  with pytest.raises(model_lib.ModelError, match=(
      "is bidirectional: a TFLite export runs the streaming network, which "
      "needs a model trained with --is_bidirectional=false")):
    tflite_export.export_tflite(export_dir, output)
  assert not os.path.exists(output)


def test_bad_model_files_are_errors_naming_them(model, tmp_path):
  (tmp_path / "dir.tflite").mkdir()
  (tmp_path / "text.tflite").write_text("not a model")

  class Double(tf.Module):

    def signatures(self):
      return {"double": tf.function(
          lambda x: {"y": 2 * x},
          input_signature=[tf.TensorSpec([1], tf.float32)],
      ).get_concrete_function()}

  (tmp_path / "other.tflite").write_bytes(
      tflite_export.convert(Double(), "float32"))
  for name, message in (
      ("missing.tflite", "cannot read .*missing.tflite: No such file"),
      ("dir.tflite", "dir.tflite is a directory, not a .tflite file"),
      ("text.tflite", "text.tflite is not a TFLite model"),
      ("other.tflite", "other.tflite is a TFLite model but not one of "
                       "export_tflite.py")):
    with pytest.raises(model_lib.ModelError, match=message):
      tflite_model.TFLiteModel(str(tmp_path / name))
  # Metadata that is not the exporter's, or on another network, names the
  # file.
  with open(model["tflite"]["int8"], "rb") as f:
    data = f.read()
  metadata = tflite_model.read_metadata(data)
  description = json.loads(metadata[tflite_model.NETWORK_METADATA])
  del description["rnn_block"]
  for name, network, entries, message in (
      ("settings.tflite", data, {tflite_model.SETTINGS_METADATA:
                                 b'{"sample_rate": "fast"}'},
       r"settings.tflite \(deep_speech_features.json\): missing keys"),
      ("network.tflite", data, {tflite_model.NETWORK_METADATA:
                                json.dumps(description).encode()},
       "network.tflite: its deep_speech_network.json lacks a valid "
       "'rnn_block'"),
      ("double.tflite", (tmp_path / "other.tflite").read_bytes(), {},
       "double.tflite lacks the signature conv_1 of conv_1, conv_2")):
    (tmp_path / name).write_bytes(tflite_export.add_metadata(
        _without_metadata(network), dict(metadata, **entries)))
    with pytest.raises(model_lib.ModelError, match=message):
      tflite_model.TFLiteModel(str(tmp_path / name))


def _without_metadata(data):
  """`data` with its metadata entries dropped."""
  schema = tflite_model._schema()  # pylint: disable=protected-access
  import flatbuffers  # pylint: disable=g-import-not-at-top
  flat = schema.ModelT.InitFromObj(schema.Model.GetRootAs(data, 0))
  flat.metadata = []
  builder = flatbuffers.Builder(len(data))
  builder.Finish(flat.Pack(builder), file_identifier=b"TFL3")
  return bytes(builder.Output())


def test_an_lm_the_settings_name_sits_beside_the_file(model, tmp_path):
  source = export.find_saved_model(model["export_dir"])
  copy = str(tmp_path / "export")
  shutil.copytree(source, copy)
  extra = os.path.join(copy, "assets.extra")
  with open(os.path.join(extra, "lm-4gram.arpa"), "w") as f:
    f.write("an ARPA file's stand-in\n")
  path = os.path.join(extra, export.EXPORT_SETTINGS_FILE)
  with open(path) as f:
    recorded = json.load(f)
  recorded.update(decoder="beam", beam_width=16, alpha=0.5, beta=1.0,
                  lm_path="lm-4gram.arpa", lexicon=None)
  with open(path, "w") as f:
    json.dump(recorded, f)
  output = tmp_path / "out" / "small.tflite"
  output.parent.mkdir()
  tflite_export.export_tflite(copy, str(output), "int8")
  beside = output.parent / "small.lm-4gram.arpa"
  assert beside.read_text() == "an ARPA file's stand-in\n"
  loaded = tflite_model.TFLiteModel(str(output))
  assert loaded.decoder["kind"] == "beam"
  assert loaded.decoder["lm_path"] == str(beside)
  assert (loaded.decoder["beam_width"], loaded.decoder["alpha"]) == (16, 0.5)


def _run(script, *args, stdin=None):
  result = subprocess.run([sys.executable, os.path.join(ROOT, script)] +
                          list(args), cwd=ROOT, capture_output=True,
                          text=True, stdin=stdin, check=False)
  assert "Traceback" not in result.stderr, result.stderr
  # The script's own lines (TensorFlow's C++ start-up notes aside).
  own = [l for l in result.stderr.splitlines()
         if l.startswith(os.path.basename(script) + ":")]
  return result, own


@pytest.mark.slow
def test_the_clis_export_transcribe_and_stream_a_tflite_file(model,
                                                             tmp_path):
  output = str(tmp_path / "cli.tflite")
  result, own = _run("export_tflite.py",
                     "--saved_model=" + model["export_dir"],
                     "--output=" + output, "--quantize=int8")
  assert result.returncode == 0 and own == [], result.stderr
  assert result.stdout.startswith("export_tflite.py: wrote %s (int8, "
                                  % output)
  path = model["files"][0]
  (want,) = _transcripts(tflite_model.TFLiteModel(output), [path])
  result, own = _run("transcribe.py", "--saved_model=" + output, path)
  assert result.returncode == 0 and own == [], result.stderr
  assert result.stdout == "%s\t%s\n" % (path, want.text)
  with open(path, "rb") as audio:
    result, own = _run("transcribe.py", "--stream", "--stream_type=wav",
                       "--saved_model=" + output, "--tflite_threads=1",
                       stdin=audio)
  assert result.returncode == 0 and own == [], result.stderr
  assert result.stdout.splitlines()[-1] == "-\t" + want.text
  for script, args, message in (
      ("transcribe.py", ["--saved_model=" + str(tmp_path / "no.tflite"),
                         path], "cannot read %s" % (tmp_path / "no.tflite")),
      ("transcribe.py", ["--model_dir=" + output, path],
       "is a .tflite file, not a training directory"),
      ("export_tflite.py", ["--model_dir=" + str(tmp_path / "none"),
                            "--output=" + output],
       "%s does not exist" % (tmp_path / "none"))):
    result, own = _run(script, *args)
    assert result.returncode == 1 and len(own) == 1, result.stderr
    assert message in own[0] and "error:" in own[0], own


@pytest.mark.slow
@pytest.mark.parametrize("rnn_type,context", (("lstm", 0), ("rnn", 3)))
def test_two_layers_of_lstm_and_simple_rnn_match_the_export(
    tmp_path, rnn_type, context):
  # The fixture's model has one GRU layer: here the other cells, the batch
  # norm before a second layer, and no lookahead or a longer one.
  _, export_dir = tiny_model.build(str(tmp_path), steps=1, num_utts=1, params={
      "is_bidirectional": False, "rnn_type": rnn_type,
      "rnn_hidden_layers": 2, "lookahead_context": context})
  output = str(tmp_path / "two.tflite")
  description = tflite_export.export_tflite(export_dir, output)
  assert description["states"] == (4 if rnn_type == "lstm" else 2)
  features = np.random.default_rng(0).standard_normal(
      (1, 300, 161, 1)).astype(np.float32)
  lengths = np.array([[300]], np.int32)
  want, _ = model_lib.ExportedModel(export_dir, None)(features, lengths)
  got, _ = tflite_model.TFLiteModel(output)(features, lengths)
  np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def test_no_files_are_left_but_the_models(model):
  names = sorted(os.path.basename(p) for p in glob.glob(
      str(model["directory"] / "*.tflite*")))
  assert names == ["model_float16.tflite", "model_float32.tflite",
                   "model_int8.tflite"]

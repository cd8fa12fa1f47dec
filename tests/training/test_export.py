"""Tests for training/export.py: the export contract, written and read."""

import json
import os

import hypothesis
from hypothesis import strategies as st
import numpy as np
import pytest
import tensorflow as tf

from data import text_normalization
import decoder
import deep_speech
from training import export

PARAMS = dict(num_classes=29, rnn_hidden_layers=1, rnn_type="gru",
              is_bidirectional=True, rnn_hidden_size=8, use_bias=True,
              learning_rate=1e-3, conv_filters=4)
SETTINGS = {"sample_rate": 8000, "window_ms": 10, "stride_ms": 10,
            "speech_labels": " abcdefghijklmnopqrstuvwxyz'-"}


def _train_one_step(model_dir, bins):
  def input_fn():
    features = {"features": tf.random.normal([2, 40, bins, 1], seed=1),
                "input_length": tf.constant([[40], [30]]),
                "label_length": tf.constant([[2], [3]])}
    labels = tf.constant([[1, 2, 0], [3, 4, 5]])
    return tf.data.Dataset.from_tensors((features, labels)).repeat()
  estimator = tf.estimator.Estimator(deep_speech.model_fn,
                                     model_dir=model_dir, params=PARAMS)
  estimator.train(input_fn, max_steps=1)
  return estimator


def test_export_carries_its_settings_and_serves(tmp_path):
  model_dir, export_dir = str(tmp_path / "model"), str(tmp_path / "export")
  estimator = _train_one_step(model_dir, 81)
  path = export.export_model(deep_speech.model_fn, model_dir,
                             estimator.config, PARAMS, export_dir, SETTINGS,
                             81)
  assert os.path.dirname(path) == export_dir
  assert export.find_saved_model(export_dir) == path
  assert export.find_saved_model(path) == path
  assert export.read_export_settings(path) == SETTINGS
  serve = tf.saved_model.load(path).signatures["serving_default"]
  out = serve(features=tf.zeros([1, 40, 81, 1]),
              input_length=tf.constant([[40]]))
  assert out["probabilities"].shape == (1, 10, 29)
  np.testing.assert_array_equal(out["ctc_input_length"].numpy(), [10])
  # The settings file beside the checkpoints was written whole.
  with open(os.path.join(model_dir, export.EXPORT_SETTINGS_FILE)) as f:
    assert json.load(f) == SETTINGS


def test_an_export_without_settings_reads_as_none(tmp_path):
  (tmp_path / "saved_model.pb").write_bytes(b"")
  assert export.read_export_settings(str(tmp_path)) is None


def test_a_directory_without_an_export_is_a_clear_error(tmp_path):
  (tmp_path / "123").mkdir()
  with pytest.raises(ValueError, match="no SavedModel in"):
    export.find_saved_model(str(tmp_path))


def test_export_packages_its_lm_and_lexicon(tmp_path):
  from decoding import lm  # pylint: disable=g-import-not-at-top
  model_dir, export_dir = str(tmp_path / "model"), str(tmp_path / "export")
  estimator = _train_one_step(model_dir, 81)
  arpa, words = str(tmp_path / "my.arpa"), str(tmp_path / "words.txt")
  lm.build_arpa(["the cat sat", "the dog ran"], 2, arpa)
  with open(words, "w") as f:
    f.write("the\ncat\nsat\ndog\nran\n")
  args = {"kind": "beam", "beam_width": 8, "lm_path": arpa, "alpha": 0.5,
          "beta": 1.0, "lexicon": words}
  path = export.export_run(deep_speech.model_fn, model_dir, estimator.config,
                           PARAMS, export_dir, SETTINGS, 81,
                           export_best=False, decoder_arguments=args)
  extra = os.path.join(path, "assets.extra")
  with open(os.path.join(extra, export.EXPORT_SETTINGS_FILE)) as f:
    raw = json.load(f)
  # Names relative to assets.extra/: the export is self-contained.
  assert raw == dict(SETTINGS, decoder="beam", beam_width=8, alpha=0.5,
                     beta=1.0, lm_path="lm-my.arpa",
                     lexicon="lexicon-words.txt")
  settings = export.read_export_settings(path)
  assert settings["lm_path"] == os.path.join(extra, "lm-my.arpa")
  with open(settings["lm_path"], "rb") as a, open(arpa, "rb") as b:
    assert a.read() == b.read()
  os.remove(arpa)  # the export no longer needs the original
  assert export.recorded_decoder(settings) == dict(
      args, lm_path=settings["lm_path"], lexicon=settings["lexicon"])
  beam = decoder.make_decoder(**dict(export.recorded_decoder(settings),
                                     labels=SETTINGS["speech_labels"]))
  assert beam.lm_path == settings["lm_path"]


def test_older_exports_record_no_decoder():
  # Exports older than the decoder keys record none (the CLIs then decode
  # greedily); a recorded greedy decoder takes the beam defaults.
  assert export.recorded_decoder(dict(SETTINGS)) is None
  assert export.recorded_decoder(None) is None
  assert export.recorded_decoder(dict(SETTINGS, decoder="greedy")) == {
      "kind": "greedy", "beam_width": 100, "lm_path": None, "alpha": 0.0,
      "beta": 0.0, "lexicon": None}


def _write_settings(folder, settings):
  path = os.path.join(str(folder), export.EXPORT_SETTINGS_FILE)
  with open(path, "w") as f:
    f.write(settings if isinstance(settings, str) else json.dumps(settings))
  return path


def test_the_recorded_decoder_resolves_paths_next_to_the_settings(
    tmp_path, monkeypatch):
  recorded = dict(SETTINGS, decoder="beam", beam_width=64, alpha=0.5,
                  beta=1.0, lm_path="lm-4gram.arpa", lexicon=None)
  path = _write_settings(tmp_path, recorded)
  assert export.recorded_decoder(export.load_settings(path)) == {
      "kind": "beam", "beam_width": 64, "alpha": 0.5, "beta": 1.0,
      "lm_path": str(tmp_path / "lm-4gram.arpa"), "lexicon": None}
  # A relative settings path still gives the LM's path once: joining the
  # folder twice named assets.extra/.../assets.extra/lm-4gram.arpa.
  monkeypatch.chdir(tmp_path.parent)
  relative = os.path.join(tmp_path.name, export.EXPORT_SETTINGS_FILE)
  assert export.load_settings(relative)["lm_path"] == str(
      tmp_path / "lm-4gram.arpa")
  # Absolute names stay.
  path = _write_settings(tmp_path, dict(recorded, lm_path="/abs/lm.arpa"))
  assert export.recorded_decoder(export.load_settings(path))["lm_path"] == (
      "/abs/lm.arpa")
  assert export.recorded_decoder(export.load_settings(_write_settings(
      tmp_path, dict(recorded, decoder="greedy"))))["kind"] == "greedy"


@pytest.mark.parametrize("text,message", [
    ("[1, 2]", "must be a JSON object, not list"),
    ('"labels"', "must be a JSON object, not str"),
    ("{", "is not valid JSON"),
    ("\xff\xfe{", "is not valid JSON"),
    (json.dumps({"window_ms": 20, "stride_ms": 10, "speech_labels": " a-"}),
     "missing key sample_rate"),
    (json.dumps({"sample_rate": 16000}),
     "missing keys window_ms, stride_ms, speech_labels"),
    (json.dumps(dict(SETTINGS, sample_rate="16000")),
     "sample_rate must be int, not '16000'"),
    (json.dumps(dict(SETTINGS, window_ms=True)), "window_ms must be int or"),
    (json.dumps(dict(SETTINGS, stride_ms=0)), "stride_ms must be positive"),
    (json.dumps(dict(SETTINGS, speech_labels=list("ab-"))),
     "speech_labels must be str"),
    (json.dumps(dict(SETTINGS, speech_labels="aa-")), "distinct characters"),
    (json.dumps(dict(SETTINGS, decoder="viterbi")), "unknown decoder"),
    (json.dumps(dict(SETTINGS, feature_normalization="global")),
     "unknown feature_normalization 'global' \\(expected utterance, "
     "running\\)"),
    (json.dumps(dict(SETTINGS, feature_normalization=1)),
     "feature_normalization must be str"),
    (json.dumps(dict(SETTINGS, lm_path=3)), "lm_path must be str or null"),
    (json.dumps(dict(SETTINGS, beam_width=0)), "beam_width must be positive"),
    (json.dumps(dict(SETTINGS, alpha=float("nan"))), "alpha must be a finite"),
    (json.dumps(dict(SETTINGS, text_policy="NFC")),
     "text_policy must be dict, not 'NFC'"),
    (json.dumps(dict(SETTINGS, text_policy={"unicode_form": "NFX"})),
     "text_policy: unknown Unicode form 'NFX'"),
    (json.dumps(dict(SETTINGS, text_policy={"lowercase": 1})),
     "text_policy: lowercase must be true or false, not 1"),
    (json.dumps(dict(SETTINGS, text_policy={"casefold": True})),
     "text_policy: unknown text policy key casefold"),
])
def test_bad_settings_files_are_errors_naming_the_file(tmp_path, text,
                                                       message):
  path = tmp_path / export.EXPORT_SETTINGS_FILE
  path.write_bytes(text.encode("latin-1"))
  with pytest.raises(export.SettingsError, match=message) as raised:
    export.load_settings(str(path))
  assert str(raised.value).startswith(str(path)), raised.value


def test_the_labels_must_match_the_models_classes(tmp_path):
  path = _write_settings(tmp_path, SETTINGS)
  assert export.load_settings(path, num_classes=29) == SETTINGS
  for num_classes in (28, 30):
    with pytest.raises(export.SettingsError, match="%s: 29 speech labels, "
                       "but the model has %d output classes"
                       % (path, num_classes)):
      export.load_settings(path, num_classes=num_classes)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(),
                                                          children),
    max_leaves=20)
_VALUES = st.none() | st.booleans() | st.integers(-5, 10 ** 6) | st.floats() \
    | st.text(max_size=40) | st.lists(st.integers(), max_size=3)
# Settings that are mostly right: each key of a good file kept, dropped or
# given a value of any type.
_NEAR_SETTINGS = st.fixed_dictionaries({}, optional={
    key: _VALUES | st.just(value) for key, value in dict(
        SETTINGS, decoder="beam", beam_width=8, alpha=0.5, beta=1.0,
        lm_path="lm-x.arpa", lexicon=None, best_step=3, best_WER=0.5,
        best_decoder="beam+LM",
        text_policy={"unicode_form": "NFKD", "lowercase": False}).items()})
FUZZ = hypothesis.settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 200)), deadline=5000,
    derandomize=not os.environ.get("FUZZ_EXAMPLES"),
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])


@FUZZ
@hypothesis.given(st.one_of(
    st.binary(max_size=400), _JSON.map(lambda v: json.dumps(v).encode()),
    _NEAR_SETTINGS.map(lambda v: json.dumps(v).encode())),
                  st.sampled_from([None, 4, 29]))
def test_the_settings_loader_gives_settings_or_its_error(tmp_path, data,
                                                          num_classes):
  path = tmp_path / export.EXPORT_SETTINGS_FILE
  path.write_bytes(data)
  try:
    settings = export.load_settings(str(path), num_classes)
  except export.SettingsError as e:
    assert str(path) in str(e)
    return
  # What loads is usable: featurizer settings, labels the model can use and
  # a decoder make_decoder takes.
  assert settings["sample_rate"] > 0 and settings["stride_ms"] > 0
  labels = settings["speech_labels"]
  assert len(set(labels)) == len(labels) >= 2
  assert num_classes in (None, len(labels))
  recorded = export.recorded_decoder(settings)
  assert recorded is None or recorded["kind"] in decoder.DECODERS
  assert isinstance(export.recorded_text_policy(settings),
                    text_normalization.TextPolicy)


def test_the_text_policy_is_read_and_an_old_export_has_the_default(
    tmp_path):
  assert export.recorded_text_policy(export.load_settings(
      _write_settings(tmp_path, SETTINGS))) == text_normalization.DEFAULT
  assert export.recorded_text_policy(None) == text_normalization.DEFAULT
  policy = text_normalization.TextPolicy("NFKD", True, False)
  path = _write_settings(tmp_path, dict(
      SETTINGS, speech_labels=" a\u0308\u044f-",
      text_policy=policy.to_dict()))
  settings = export.load_settings(path, num_classes=5)
  assert export.recorded_text_policy(settings) == policy
  assert settings["speech_labels"] == " a\u0308\u044f-"

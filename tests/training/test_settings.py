"""Tests for training/settings.py: flag values -> plain arguments, and the
checks whose errors name flags."""

import pytest
import tensorflow as tf

from tests import conftest
from tests.helpers import train
from training import inputs
from training import settings


def test_model_params_convert_dtype_and_loss_scale():
  flag_values = type("Flags", (), dict(
      rnn_hidden_layers=2, rnn_type="gru", is_bidirectional=True,
      rnn_hidden_size=8, conv_filters=4, use_bias=True, learning_rate=1e-3,
      lookahead_context=2, learning_rate_decay_steps=0,
      learning_rate_decay_rate=0.5, dtype="bf16", loss_scale="64",
      trainable_scopes=None))()
  params = settings.model_params(flag_values, 29)
  assert params["dtype"] == "bfloat16" and params["loss_scale"] == 64.0
  assert params["num_classes"] == 29 and params["rnn_hidden_size"] == 8
  assert params["lookahead_context"] == 2
  flag_values.loss_scale = "-3"
  with pytest.raises(ValueError, match="^--loss_scale: "):
    settings.model_params(flag_values, 29)


def test_lm_settings_file_is_read_and_flags_given_override_it(tmp_path):
  from decoding import lm  # pylint: disable=g-import-not-at-top
  from decoding import lm_settings  # pylint: disable=g-import-not-at-top
  arpa = str(tmp_path / "words.arpa")
  lm.build_arpa(["the cat sat", "the dog ran"], 2, arpa)
  (tmp_path / "words.txt").write_text("the\ncat\n")
  tuned = str(tmp_path / "tuned.json")
  lm_settings.write(tuned, "words.arpa", 0.7, 1.5, beam_width=32,
                            lexicon="words.txt")
  args = settings.decoder_args(train.parse(["--decoder=beam",
                                         "--lm_settings=" + tuned]))
  assert args == {"kind": "beam", "beam_width": 32, "lm_path": arpa,
                  "alpha": 0.7, "beta": 1.5,
                  "lexicon": str(tmp_path / "words.txt")}
  # Given flags win, even when they equal the defaults.
  args = settings.decoder_args(train.parse([
      "--decoder=beam", "--lm_settings=" + tuned, "--lm_alpha=0",
      "--beam_width=100"]))
  assert args["alpha"] == 0.0 and args["beam_width"] == 100
  assert args["beta"] == 1.5
  # Without --decoder, an LM selects the beam search (one rule for the three
  # CLIs, decoding/flags.py); --decoder=greedy with one is an error in flag
  # terms.
  args = settings.decoder_args(train.parse(["--lm_settings=" + tuned]))
  assert args["kind"] == "beam" and args["lm_path"] == arpa
  assert settings.decoder_args(train.parse(["--lm_path=" + arpa]))["kind"] == (
      "beam")
  with pytest.raises(ValueError, match="--decoder=greedy takes no LM"):
    settings.decoder_args(train.parse(["--decoder=greedy",
                                  "--lm_settings=" + tuned]))
  with pytest.raises(ValueError, match="--decoder=greedy takes no LM .*"
                     "--lm_path"):
    settings.decoder_args(train.parse(["--decoder=greedy", "--lm_path=" + arpa]))
  with pytest.raises(ValueError, match=r"^--lm_settings: "):
    settings.decoder_args(train.parse(["--decoder=beam",
                                    "--lm_settings=" + arpa]))
  with pytest.raises(ValueError, match="--lm_path=.*missing.arpa: no such"):
    settings.decoder_args(train.parse([
        "--decoder=beam", "--lm_path=" + str(tmp_path / "missing.arpa")]))
  assert settings.decoder_args(train.parse([]))["kind"] == "greedy"


def test_extra_eval_sets_errors_are_in_flag_terms(tmp_path):
  dev = conftest.make_corpus(tmp_path / "dev", num_utts=2, name="dev")
  flags_obj = train.parse(["--eval_data_dir=" + dev,
                      "--extra_eval_data_dir=" + dev,
                      "--extra_eval_data_dir=real=" + dev])
  dev_set = inputs.generate_dataset(dev, **settings.data_args(flags_obj))
  sets = settings.extra_eval_datasets(flags_obj, dev_set)
  assert [(n, s is dev_set) for n, s in sets] == [("dev", True),
                                                  ("real", True)]
  # The decoders' names prefix their summaries: not a set's name.
  flags_obj = train.parse(["--extra_eval_data_dir=greedy=" + dev])
  with pytest.raises(ValueError) as info:
    settings.extra_eval_datasets(flags_obj)
  assert str(info.value) == (
      "--extra_eval_data_dir=greedy=%s: the set name 'greedy' is taken "
      "(beam, greedy); give another as NAME=%s" % (dev, dev))
  assert settings.extra_eval_datasets(train.parse([])) == []


def test_trainable_scopes_matching_nothing_is_an_error(tmp_path):
  corpus = conftest.make_corpus(tmp_path / "data", num_utts=4)
  with pytest.raises(ValueError) as error:
    train.run_in_process(train.TINY + [
        "--train_data_dir=" + corpus, "--eval_data_dir=" + corpus,
        "--model_dir=" + str(tmp_path / "m"),
        "--trainable_scopes=dense/,rnn_9/"])
  assert str(error.value) == (
      "--trainable_scopes: 'rnn_9/' matches no variable of this model "
      "(its layers: batch_normalization, batch_normalization_1, "
      "batch_normalization_2, bidirectional_rnn_1, cnn_1, cnn_2, dense)")
  assert tf.train.latest_checkpoint(str(tmp_path / "m")) is None

"""Tests for transcription/model_flags.py: the flags of the CLIs that take a
model, parsed by absl in a FlagValues of their own (not the global one)."""

from absl import flags
import pytest

from transcription import model_flags


def test_exactly_one_of_saved_model_and_model_dir_is_required():
  flag_values = flags.FlagValues()
  flags.DEFINE_string("saved_model", None, "An export.",
                      flag_values=flag_values)
  flags.DEFINE_string("model_dir", None, "A training directory.",
                      flag_values=flag_values)
  model_flags.register_one_model_validator(flag_values)
  for argv in ([], ["--saved_model=/e", "--model_dir=/m"]):
    with pytest.raises(flags.IllegalFlagValueError) as error:
      flag_values(["prog"] + argv)
    assert str(error.value).endswith(
        "give the model with --saved_model or --model_dir (one of them)")
    flag_values.unparse_flags()
  for argv, given in ((["--saved_model=/e"], ("/e", None)),
                      (["--model_dir=/m"], (None, "/m"))):
    flag_values(["prog"] + argv)
    assert (flag_values.saved_model, flag_values.model_dir) == given
    flag_values.unparse_flags()

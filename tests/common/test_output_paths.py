"""Tests for common/output_paths.py: outputs that are inputs, by file identity."""

import os

import pytest

from common import output_paths


def test_new_and_distinct_outputs_pass(tmp_path):
  source = tmp_path / "in.txt"
  source.write_text("x")
  output_paths.check_outputs(
      [("--out", str(tmp_path / "new.txt")), ("--other", None)],
      [("--in", str(source)), ("--missing", None)])
  assert os.listdir(str(tmp_path)) == ["in.txt"]


def test_a_relative_spelling_or_a_link_is_the_same_file(tmp_path,
                                                       monkeypatch):
  monkeypatch.chdir(str(tmp_path))
  (tmp_path / "in.txt").write_text("x")
  os.symlink("in.txt", str(tmp_path / "link.txt"))
  for spelling in ("./in.txt", str(tmp_path / "link.txt")):
    with pytest.raises(output_paths.OutputIsInputError) as info:
      output_paths.check_outputs([("--out", spelling)], [("--in", "in.txt")])
    assert str(info.value) == (
        "--out %s is the same file as --in in.txt; writing it would destroy "
        "that input. Choose another --out." % spelling)


def test_two_outputs_that_are_one_new_file_are_refused(tmp_path):
  out = str(tmp_path / "lm.arpa")
  with pytest.raises(output_paths.OutputIsInputError) as info:
    output_paths.check_outputs(
        [("--lm_out", out),
         ("--vocab_out", os.path.join(str(tmp_path), ".", "lm.arpa"))],
        [])
  assert str(info.value) == (
      "--vocab_out %s/./lm.arpa is the same file as --lm_out %s; writing it "
      "would destroy the other output. Choose another --vocab_out."
      % (tmp_path, out))

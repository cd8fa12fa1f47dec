"""Tests for common/safe_path.py: names sox would read as commands or options."""

import os
import subprocess

import pytest

from common import safe_path


@pytest.mark.parametrize("name", ["|touch PWNED", "-", "-x.wav",
                                  "http:a.wav", "a.wav"])
def test_relative_names_become_absolute(tmp_path, monkeypatch, name):
  monkeypatch.chdir(tmp_path)
  path = safe_path.for_tools(name)
  assert os.path.isabs(path)
  assert path == os.path.join(str(tmp_path), name)


def test_absolute_and_path_like_names_are_kept(tmp_path):
  absolute = str(tmp_path / "link" / ".." / "a.wav")
  assert safe_path.for_tools(absolute) == absolute
  assert safe_path.for_tools(tmp_path / "a.wav") == str(tmp_path / "a.wav")


def test_sox_reads_the_name_as_a_file_and_runs_nothing(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  name = "|touch PWNED; echo"
  result = subprocess.run(["sox", safe_path.for_tools(name), "-n", "stat"],
                          capture_output=True, text=True)
  assert result.returncode != 0
  assert not (tmp_path / "PWNED").exists()

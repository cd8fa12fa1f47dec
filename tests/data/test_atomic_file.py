"""Tests for data/atomic_file.py, with a real file size limit for a full disk."""

import os
import subprocess
import sys
import textwrap

import pytest

from data import atomic_file


def test_writes_replace_the_whole_file(tmp_path):
  path = str(tmp_path / "sub" / "f.json")
  atomic_file.write_json(path, {"a": 1})
  atomic_file.write_json(path, {"a": 2})
  assert open(path).read().replace(" ", "").replace("\n", "") == '{"a":2}'
  atomic_file.write_bytes(path, b"\x00\x01")
  assert open(path, "rb").read() == b"\x00\x01"
  assert os.listdir(os.path.dirname(path)) == ["f.json"]


def test_an_error_inside_keeps_the_old_file(tmp_path):
  path = str(tmp_path / "f.txt")
  atomic_file.write_text(path, "old")
  with pytest.raises(RuntimeError):
    with atomic_file.atomic_write(path) as f:
      f.write("half")
      raise RuntimeError("killed")
  assert open(path).read() == "old"
  assert os.listdir(str(tmp_path)) == ["f.txt"]


def test_a_full_disk_names_the_path_and_leaves_nothing(tmp_path):
  # RLIMIT_FSIZE makes a write past 64 KiB fail with EFBIG, as a full disk
  # fails with ENOSPC; the child ignores SIGXFSZ to see the error.
  path = str(tmp_path / "big.bin")
  atomic_file.write_text(path, "old")
  code = textwrap.dedent("""
      import resource, signal, sys
      from data import atomic_file
      signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
      resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))
      try:
        atomic_file.write_bytes(sys.argv[1], b"x" * 1000000)
      except atomic_file.WriteError as e:
        print(e)
        sys.exit(3)
  """)
  result = subprocess.run([sys.executable, "-c", code, path],
                          capture_output=True, text=True, timeout=60,
                          cwd=os.path.dirname(os.path.dirname(
                              os.path.dirname(os.path.abspath(__file__)))))
  assert result.returncode == 3, result.stderr
  assert result.stdout.strip() == "cannot write %s: the disk is full" % path
  assert open(path).read() == "old"
  assert os.listdir(str(tmp_path)) == ["big.bin"]

"""Tests for common/atomic_file.py, with a real file size limit for a full disk."""

import os
import secrets
import subprocess
import sys
import textwrap
import threading

import pytest

from common import atomic_file
from tests.helpers import durability


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
      from common import atomic_file
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


def test_the_file_then_its_folder_are_fsynced(tmp_path, monkeypatch):
  synced = durability.record_fsyncs(monkeypatch)
  path = str(tmp_path / "f.bin")
  atomic_file.write_bytes(path, b"data")
  assert synced == [(os.stat(path).st_ino, False),
                    (os.stat(str(tmp_path)).st_ino, True)]


def test_concurrent_writers_get_unique_temporaries(tmp_path):
  path = str(tmp_path / "shared.txt")
  barrier = threading.Barrier(6)
  names = []

  def write(index):
    with atomic_file.atomic_write(path) as f:
      names.append(f.name)
      f.write("writer %d\n" % index * 1000)
      barrier.wait(timeout=30)  # all six temporaries exist at once

  threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
  for thread in threads:
    thread.start()
  for thread in threads:
    thread.join()
  assert len(set(names)) == 6
  assert all(os.path.dirname(n) == str(tmp_path) and n.endswith(".tmp")
             for n in names)
  text = open(path).read()
  assert text in ["writer %d\n" % i * 1000 for i in range(6)]
  assert os.listdir(str(tmp_path)) == ["shared.txt"]


def test_a_symlink_planted_at_the_temporary_name_is_not_followed(
    tmp_path, monkeypatch):
  target = tmp_path / "precious.txt"
  target.write_bytes(b"keep me")
  path = str(tmp_path / "out.txt")
  tokens = iter(["deadbeef", "0badf00d"])
  monkeypatch.setattr(secrets, "token_hex", lambda _: next(tokens))
  planted = "%s.%d.deadbeef.tmp" % (path, os.getpid())
  os.symlink(str(target), planted)
  atomic_file.write_text(path, "new")
  assert target.read_bytes() == b"keep me"
  assert open(path).read() == "new"
  assert os.readlink(planted) == str(target)
  assert sorted(os.listdir(str(tmp_path))) == sorted(
      ["precious.txt", "out.txt", os.path.basename(planted)])


def test_open_nofollow_refuses_a_link_with_a_clear_message(tmp_path):
  target = tmp_path / "precious.txt"
  target.write_bytes(b"keep me")
  link = str(tmp_path / "cache.npz")
  os.symlink(str(target), link)
  with pytest.raises(atomic_file.LinkError) as info:
    atomic_file.open_nofollow(link, os.O_WRONLY | os.O_TRUNC)
  assert str(info.value) == ("%s is a symbolic link (to %s); refusing to "
                             "follow it. Remove the link and re-run."
                             % (link, target))
  assert target.read_bytes() == b"keep me"


def test_atomic_path_renames_what_a_program_wrote(tmp_path, monkeypatch):
  synced = durability.record_fsyncs(monkeypatch)
  path = str(tmp_path / "copy.txt")
  with atomic_file.atomic_path(path) as tmp:
    assert os.path.getsize(tmp) == 0  # reserved, empty
    subprocess.run(["sh", "-c", 'printf made > "$1"', "sh", tmp], check=True)
    assert not os.path.exists(path)
  assert open(path).read() == "made"
  assert synced == [(os.stat(path).st_ino, False),
                    (os.stat(str(tmp_path)).st_ino, True)]
  assert os.listdir(str(tmp_path)) == ["copy.txt"]


def test_atomic_path_leaves_nothing_when_the_program_fails(tmp_path):
  path = str(tmp_path / "copy.txt")
  with pytest.raises(subprocess.CalledProcessError):
    with atomic_file.atomic_path(path) as tmp:
      subprocess.run(["sh", "-c", 'printf half > "$1"; exit 1', "sh", tmp],
                     check=True)
  assert os.listdir(str(tmp_path)) == []


def test_move_fsyncs_both_folders(tmp_path, monkeypatch):
  (tmp_path / "a").mkdir()
  (tmp_path / "b").mkdir()
  source = tmp_path / "a" / "f"
  source.write_bytes(b"x")
  synced = durability.record_fsyncs(monkeypatch)
  atomic_file.move(str(source), str(tmp_path / "b" / "f"))
  assert sorted(synced) == sorted([(os.stat(str(tmp_path / d)).st_ino, True)
                                   for d in ("a", "b")])
  assert (tmp_path / "b" / "f").read_bytes() == b"x"

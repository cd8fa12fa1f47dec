"""Tests for data/downloading/archive.py: safe extraction."""

import io
import os
import tarfile

import pytest

from data.downloading import archive as archive_lib
from data.downloading import common
from data.downloading import steps


def _add(tar, name, data=b"x", kind=tarfile.REGTYPE, linkname=""):
  info = tarfile.TarInfo(name)
  info.type = kind
  info.linkname = linkname
  info.size = len(data) if kind == tarfile.REGTYPE else 0
  tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


@pytest.mark.parametrize("case", ["dotdot", "absolute", "symlink", "ladder",
                                  "hardlink"])
def test_extraction_refuses_members_that_escape(tmp_path, case):
  target = tmp_path / "data" / "dev-clean"
  outside = tmp_path / "evil.txt"
  archive = str(tmp_path / "bad.tar.gz")
  with tarfile.open(archive, "w:gz") as tar:
    _add(tar, "LibriSpeech/ok.txt")
    if case == "dotdot":
      _add(tar, "LibriSpeech/../../../evil.txt")
    elif case == "absolute":
      _add(tar, str(outside))
    elif case == "symlink":
      _add(tar, "LibriSpeech/link", kind=tarfile.SYMTYPE,
           linkname="../../../evil.txt")
    elif case == "ladder":
      # Each step stays inside on its own; only the realpath of the second
      # member, through the first one's symlink, leaves the directory.
      _add(tar, "d/up", kind=tarfile.SYMTYPE, linkname="..")
      _add(tar, "d/up/../../evil.txt")
    else:
      _add(tar, "LibriSpeech/hard", kind=tarfile.LNKTYPE,
           linkname="../../evil.txt")
  with pytest.raises(archive_lib.UnsafeArchiveError,
                     match="refusing to extract member"):
    archive_lib.extract_archive(archive, str(target),
                                show_progress=False)
  assert not outside.exists()
  assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tar.gz", "data"]
  assert not archive_lib.is_extracted(archive, str(target))


# ---------------------------------------------------------------------------
# Conversion and manifests.
# ---------------------------------------------------------------------------


def _ensure_twice(archive_dir, name, extracted_dir):
  """Runs the real download -> extract step twice on a kept archive."""
  config = steps.DownloadConfig(
      base_url="file:///nonexistent", checksums={}, skip_checksum=True,
      keep_archives=True, num_workers=1, show_progress=False)
  errors = []
  for _ in range(2):
    with pytest.raises(common.DownloadError) as e:
      steps.ensure_extracted(name, str(archive_dir), str(extracted_dir),
                             config)
    errors.append(str(e.value))
  return errors


@pytest.mark.parametrize("case", ["marker", "marker_through_a_link",
                                  "archive", "link_to_archive"])
def test_names_kept_for_the_archive_and_its_marker_are_refused_every_run(
    tmp_path, case):
  target = tmp_path / "dev-clean"
  target.mkdir()
  archive = target / "dev-clean.tar.gz"
  marker = ".dev-clean.tar.gz.extracted"
  with tarfile.open(str(archive), "w:gz") as tar:
    _add(tar, "LibriSpeech/dev-clean/a.txt")
    if case == "marker":
      _add(tar, marker)
      _add(tar, "LibriSpeech/../../evil.txt")
    elif case == "marker_through_a_link":
      _add(tar, "LibriSpeech/up", kind=tarfile.SYMTYPE, linkname="..")
      _add(tar, "LibriSpeech/up/" + marker)
    elif case == "archive":
      _add(tar, "dev-clean.tar.gz", b"")
    else:
      _add(tar, "LibriSpeech/link", kind=tarfile.SYMTYPE,
           linkname="../dev-clean.tar.gz")
  original = archive.read_bytes()
  errors = _ensure_twice(target, archive.name, target / "LibriSpeech" /
                         "dev-clean")
  assert errors[0] == errors[1]
  assert errors[0].startswith("%s is unsafe, refusing to extract member "
                              % archive)
  assert archive.read_bytes() == original
  assert sorted(os.listdir(str(target))) == ["dev-clean.tar.gz"]
  assert sorted(os.listdir(str(tmp_path))) == ["dev-clean"]


@pytest.mark.parametrize("limit", ["bytes", "members"])
def test_an_archive_past_a_limit_is_refused_and_nothing_is_kept(
    tmp_path, limit):
  target = tmp_path / "data"
  archive = str(tmp_path / "bomb.tar.gz")
  with tarfile.open(archive, "w:gz") as tar:
    if limit == "bytes":  # 4 MB of zeros: a few kB compressed.
      _add(tar, "a/zeros", bytes(2 << 20))
      _add(tar, "a/more", bytes(2 << 20))
    else:
      for number in range(20):
        _add(tar, "a/%02d" % number)
  assert os.path.getsize(archive) < 20000
  limits = {"max_bytes": 3 << 20} if limit == "bytes" else {"max_members": 8}
  for _ in range(2):
    with pytest.raises(archive_lib.ExtractionLimitError) as e:
      archive_lib.extract_archive(archive, str(target), show_progress=False,
                                  **limits)
    expected = ("more than 3145728 bytes (0.00315 GB)" if limit == "bytes"
                else "holds more than 8 members")
    assert str(e.value).startswith(archive + " ") and expected in str(e.value)
    assert os.listdir(str(target)) == []
  archive_lib.extract_archive(archive, str(target), show_progress=False,
                              max_bytes=4 << 20, max_members=20)
  assert archive_lib.is_extracted(archive, str(target))
  assert sorted(os.listdir(str(target))) == [".bomb.tar.gz.extracted", "a"]

"""Tests for data/downloading/archive.py: safe extraction."""

import io
import tarfile

import pytest

from data.downloading import archive as archive_lib



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

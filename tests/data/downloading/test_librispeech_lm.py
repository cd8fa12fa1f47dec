"""Tests for data/downloading/librispeech_lm.py: the OpenSLR 11 LM files.

Served by a real HTTP server on 127.0.0.1 (tests/data/conftest.py) from
files written here: a gzipped ARPA and a vocabulary.
"""

import gzip
import os

import pytest

from data.downloading import common
from data.downloading import fetch
from data.downloading import librispeech_lm
from tests.data.downloading import fakes
from tests.helpers import durability

ARPA = ("\\data\\\nngram 1=3\n\n\\1-grams:\n-1.0\t<s>\n-0.5\tthe\n"
        "-0.5\t</s>\n\n\\end\\\n") * 2000  # ~100 kB: several read blocks.
NAMES = ["3-gram.pruned.1e-7.arpa.gz", "librispeech-vocab.txt"]


def _serve_lm_files(root):
  with gzip.open(os.path.join(root, NAMES[0]), "wt") as f:
    f.write(ARPA)
  with open(os.path.join(root, NAMES[1]), "w") as f:
    f.write("THE\nCAT\n")
  return {n: fakes.md5(os.path.join(root, n)) for n in NAMES}


def test_fetches_verifies_and_gunzips_then_reruns_for_free(mirror, tmp_path):
  checksums = _serve_lm_files(mirror.root)
  lm_dir = str(tmp_path / "lm")
  mirror.drop_once[NAMES[0]] = True  # Cut off half-way once: resumed.
  paths = librispeech_lm.prepare_lm_files(lm_dir, NAMES, mirror.url,
                                          checksums, False,
                                          show_progress=False)
  assert paths == [os.path.join(lm_dir, "3-gram.pruned.1e-7.arpa"),
                   os.path.join(lm_dir, "librispeech-vocab.txt")]
  with open(paths[0]) as f:
    assert f.read() == ARPA
  with open(paths[1]) as f:
    assert f.read() == "THE\nCAT\n"
  assert sorted(os.listdir(lm_dir)) == sorted(os.path.basename(p)
                                              for p in paths)
  assert any(r and r.startswith("bytes=") for _, r in mirror.requests)
  requests = len(mirror.requests)
  assert librispeech_lm.prepare_lm_files(lm_dir, NAMES, mirror.url, {},
                                         False, show_progress=False) == paths
  assert len(mirror.requests) == requests  # Nothing fetched, nothing checked.


def test_a_wrong_checksum_is_refused_and_nothing_is_left(mirror, tmp_path):
  checksums = _serve_lm_files(mirror.root)
  checksums[NAMES[0]] = "0" * 32
  lm_dir = str(tmp_path / "lm")
  with pytest.raises(fetch.ChecksumError, match="checksum mismatch for "
                     "3-gram.pruned.1e-7.arpa.gz"):
    librispeech_lm.prepare_lm_files(lm_dir, NAMES, mirror.url, checksums,
                                    False, show_progress=False)
  assert os.listdir(lm_dir) == []


def test_a_missing_checksum_stops_before_any_transfer(mirror, tmp_path):
  checksums = _serve_lm_files(mirror.root)
  del checksums[NAMES[1]]
  with pytest.raises(fetch.MissingChecksumError, match="librispeech-vocab"):
    librispeech_lm.prepare_lm_files(str(tmp_path / "lm"), NAMES, mirror.url,
                                    checksums, False, show_progress=False)
  assert mirror.requests == []


def test_a_corrupt_gzip_is_an_error_naming_it(tmp_path):
  bad = tmp_path / "x.arpa.gz"
  whole = gzip.compress(ARPA.encode())
  bad.write_bytes(whole[:len(whole) // 2])  # Truncated.
  with pytest.raises(common.DownloadError, match="x.arpa.gz is not a "
                     "complete gzip file"):
    librispeech_lm.gunzip(str(bad), str(tmp_path / "x.arpa"), False)
  assert sorted(os.listdir(tmp_path)) == ["x.arpa.gz"]


def test_select_files():
  assert librispeech_lm.select_files(["all"]) == list(librispeech_lm.FILES)
  assert librispeech_lm.select_files(
      ["librispeech-vocab.txt", "4-gram.arpa.gz"]) == [
          "4-gram.arpa.gz", "librispeech-vocab.txt"]
  with pytest.raises(librispeech_lm.UnknownLmFileError, match="'5-gram'"):
    librispeech_lm.select_files(["5-gram"])


def test_the_arpa_is_fsynced_before_it_takes_its_name(tmp_path,
                                                      monkeypatch):
  source = str(tmp_path / "lm.arpa.gz")
  with gzip.open(source, "wt") as f:
    f.write(ARPA)
  synced = durability.record_fsyncs(monkeypatch)
  librispeech_lm.gunzip(source, str(tmp_path / "lm.arpa"), show_progress=False)
  assert durability.durably_renamed(synced, str(tmp_path / "lm.arpa"))
  assert open(str(tmp_path / "lm.arpa")).read() == ARPA
  assert sorted(os.listdir(str(tmp_path))) == ["lm.arpa", "lm.arpa.gz"]

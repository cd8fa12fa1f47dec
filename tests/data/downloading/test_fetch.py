"""Tests for data/downloading/fetch.py: checksums and resumable fetches.

The fetches run against a real HTTP server on 127.0.0.1 (the `mirror`
fixture) or file:// URLs.
"""

import hashlib
import os
import re
import threading
import time

import numpy as np
import pytest

from data import download
from data.downloading import common
from data.downloading import fetch
from data.downloading import librispeech



def test_builtin_checksums_cover_every_official_archive():
  for subset in librispeech.SUBSETS:
    digest = fetch.KNOWN_CHECKSUMS[subset + ".tar.gz"]
    assert re.fullmatch(r"[0-9a-f]{32}", digest)
  assert fetch.hash_algorithm(
      fetch.KNOWN_CHECKSUMS["LJSpeech-1.1.tar.bz2"]) == "sha256"


def test_parse_checksum_text_reads_md5sum_and_sha256sum_lines():
  text = ("# comment\n\n"
          "42E2234BA48799C1F50F24A7926300A1  dev-clean.tar.gz\n"
          "%s *./sub/x.tar.bz2\n" % ("ab" * 32))
  assert fetch.parse_checksum_text(text, "t") == {
      "dev-clean.tar.gz": "42e2234ba48799c1f50f24a7926300a1",
      "x.tar.bz2": "ab" * 32}
  with pytest.raises(fetch.ChecksumError, match="line 1"):
    fetch.parse_checksum_text("not a checksum line\n", "t")


def test_checksum_file_can_be_a_url(mirror):
  with open(os.path.join(mirror.root, "md5sum.txt"), "w") as f:
    f.write("%s  dev-other.tar.gz\n" % ("c" * 32))
  assert fetch.read_checksum_file(mirror.url + "/md5sum.txt") == {
      "dev-other.tar.gz": "c" * 32}
  with pytest.raises(fetch.checksums.ChecksumFileError, match="checksum file .*nothing.txt"):
    fetch.read_checksum_file(mirror.url + "/nothing.txt")


def test_an_archive_without_checksum_needs_a_file_or_an_opt_out():
  with pytest.raises(fetch.MissingChecksumError,
                     match="no checksum is known for other.tar.gz") as info:
    fetch.expected_checksum("other.tar.gz", {}, skip_checksum=False)
  # The library names no flag; the command line says which to pass.
  assert "--" not in str(info.value)
  assert re.search("--checksum_file.*--skip_checksum",
                   download._in_flag_terms(info.value))
  assert fetch.expected_checksum("other.tar.gz", {}, True) is None


def _payload(mirror_server, name="blob.bin", size=300000):
  data = np.random.RandomState(0).bytes(size)
  with open(os.path.join(mirror_server.root, name), "wb") as f:
    f.write(data)
  return data, hashlib.md5(data).hexdigest()


def test_fetch_resumes_after_the_connection_drops(mirror, tmp_path):
  data, md5 = _payload(mirror)
  mirror.drop_once["blob.bin"] = True
  dest = str(tmp_path / "blob.bin")
  fetch.fetch(mirror.url + "/blob.bin", dest, md5, backoff_s=0,
              show_progress=False)
  assert open(dest, "rb").read() == data
  assert not os.path.exists(dest + ".part")
  assert mirror.requests == [("/blob.bin", None),
                             ("/blob.bin", "bytes=%d-" % (len(data) // 2))]


def test_fetch_resumes_a_part_file_left_by_an_earlier_run(mirror, tmp_path):
  data, md5 = _payload(mirror)
  dest = str(tmp_path / "blob.bin")
  with open(dest + ".part", "wb") as f:
    f.write(data[:1000])
  fetch.fetch(mirror.url + "/blob.bin", dest, md5,
              show_progress=False)
  assert open(dest, "rb").read() == data
  assert mirror.requests == [("/blob.bin", "bytes=1000-")]


def test_fetch_restarts_when_the_server_ignores_range(mirror, tmp_path):
  data, md5 = _payload(mirror)
  mirror.ignore_range = True
  dest = str(tmp_path / "blob.bin")
  with open(dest + ".part", "wb") as f:
    f.write(b"stale bytes from another file")
  fetch.fetch(mirror.url + "/blob.bin", dest, md5,
              show_progress=False)
  assert open(dest, "rb").read() == data


def test_fetch_accepts_a_complete_part_file_after_416(mirror, tmp_path):
  data, md5 = _payload(mirror)
  dest = str(tmp_path / "blob.bin")
  with open(dest + ".part", "wb") as f:
    f.write(data)
  fetch.fetch(mirror.url + "/blob.bin", dest, md5,
              show_progress=False)
  assert open(dest, "rb").read() == data


def test_fetch_checksum_mismatch_deletes_the_download(mirror, tmp_path):
  _, md5 = _payload(mirror)
  dest = str(tmp_path / "blob.bin")
  wrong = "0" * 32
  with pytest.raises(fetch.ChecksumError) as info:
    fetch.fetch(mirror.url + "/blob.bin", dest, wrong,
                show_progress=False)
  assert wrong in str(info.value) and md5 in str(info.value)
  assert not os.path.exists(dest) and not os.path.exists(dest + ".part")


def test_fetch_file_url_resumes_and_verifies_sha256(tmp_path):
  data = np.random.RandomState(1).bytes(50000)
  source = tmp_path / "src.bin"
  source.write_bytes(data)
  dest = str(tmp_path / "out.bin")
  with open(dest + ".part", "wb") as f:
    f.write(data[:123])
  fetch.fetch(source.as_uri(), dest,
              hashlib.sha256(data).hexdigest(), show_progress=False)
  assert open(dest, "rb").read() == data


def test_fetch_fails_early_when_the_disk_is_too_small(mirror, tmp_path,
                                                      monkeypatch):
  _, md5 = _payload(mirror)
  monkeypatch.setattr(fetch, "_free_bytes", lambda _: 1000)
  with pytest.raises(common.DownloadError,
                     match="not enough disk space for blob.bin"):
    fetch.fetch(mirror.url + "/blob.bin",
                str(tmp_path / "blob.bin"), md5, show_progress=False)


def test_fetch_reports_http_errors(mirror, tmp_path):
  with pytest.raises(fetch.NetworkError, match="HTTP 404"):
    fetch.fetch(mirror.url + "/missing.tar.gz",
                str(tmp_path / "m"), show_progress=False)


# ---------------------------------------------------------------------------
# Safe extraction.
# ---------------------------------------------------------------------------


def test_the_file_on_disk_is_verified_not_the_bytes_streamed(mirror,
                                                             tmp_path):
  # A writer that takes no lock (an older copy of this program) appends to
  # the part file mid-transfer: the stream's digest alone would not see it.
  data = np.random.default_rng(1).bytes(4000)
  (tmp_path / "mirror" / "a.bin").write_bytes(data)
  mirror.chunk_bytes, mirror.chunk_delay_s = 500, 0.2
  dest = str(tmp_path / "out" / "a.bin")
  os.makedirs(os.path.dirname(dest))

  def intrude():
    while not os.path.exists(dest + ".part"):
      time.sleep(0.01)
    with open(dest + ".part", "ab") as f:
      f.write(b"x" * 100)

  thread = threading.Thread(target=intrude, daemon=True)
  thread.start()
  with pytest.raises(fetch.ChecksumError) as info:
    fetch.fetch(mirror.url + "/a.bin", dest, None, show_progress=False)
  thread.join(timeout=10)
  assert str(info.value) == (
      "%s.part on disk is not what was downloaded (4100 bytes on disk, 4000 "
      "received); another process wrote to it; deleted the download, re-run "
      "to fetch it again." % dest)
  assert os.listdir(os.path.dirname(dest)) == []


def test_a_trickle_is_stopped_naming_the_url(mirror, tmp_path):
  (tmp_path / "mirror" / "a.bin").write_bytes(b"y" * 5000)
  mirror.chunk_bytes, mirror.chunk_delay_s = 1, 0.05
  dest = str(tmp_path / "a.bin")
  with pytest.raises(fetch.TooSlowError,
                     match=r"^%s/a\.bin: only \d+ bytes arrived in \d+ s" %
                     re.escape(mirror.url)):
    fetch.fetch(mirror.url + "/a.bin", dest, None, show_progress=False,
                stall_bytes=1000, stall_window_s=0.5)
  assert not os.path.exists(dest)
  assert 0 < os.path.getsize(dest + ".part") < 1000


def test_an_oversized_checksum_body_is_refused(mirror, tmp_path):
  (tmp_path / "mirror" / "md5sum.txt").write_bytes(b"#" * 10000)
  with pytest.raises(fetch.checksums.ChecksumFileTooLargeError) as info:
    fetch.read_checksum_file(mirror.url + "/md5sum.txt", max_bytes=4096)
  assert str(info.value) == ("checksum file %s/md5sum.txt is larger than "
                             "4096 bytes; refusing to read it." % mirror.url)

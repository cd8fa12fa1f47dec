"""Tests for data/download.py and its helper modules.

Everything is real and local: small LibriSpeech- and LJSpeech-layout archives
are built here from FLAC/wav files written with soundfile, served by an
`http.server` on 127.0.0.1 (with Range support, and able to drop a connection
half-way) or read through file:// URLs, and converted by the real sox. No
network beyond loopback.
"""

import collections
import errno
import hashlib
import http.server
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading

import numpy as np
import pytest
import soundfile

from data import download
from data import download_archive
from data import download_common
from data import download_convert
from data import download_fetch

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO_ROOT, "data", "download.py")

# Two speakers in dev-clean (one with two utterances), one in dev-other.
LIBRISPEECH_TEXTS = {
    "dev-clean": {
        ("84", "121123"): ["GO DO YOU HEAR", "BUT IN LESS THAN FIVE MINUTES"],
        ("174", "50561"): ["FORGOTTEN TOO THE NAME OF GILLIAN'S LOVER"],
    },
    "dev-other": {
        ("116", "288045"): ["AS I APPROACHED THE CITY", "NOTHING ELSE"],
    },
}


# ---------------------------------------------------------------------------
# Local mirror: an HTTP server with Range support that can drop a transfer.
# ---------------------------------------------------------------------------


class _MirrorHandler(http.server.BaseHTTPRequestHandler):
  """Serves files under `server.root`; honours `Range: bytes=N-`."""

  def do_GET(self):  # pylint: disable=invalid-name
    server = self.server
    server.requests.append((self.path, self.headers.get("Range")))
    path = os.path.join(server.root, self.path.lstrip("/"))
    if not os.path.isfile(path):
      self.send_error(404)
      return
    with open(path, "rb") as f:
      data = f.read()
    start = 0
    match = re.match(r"bytes=(\d+)-$", self.headers.get("Range") or "")
    if match and not server.ignore_range:
      start = int(match.group(1))
      if start >= len(data):
        self.send_response(416)
        self.send_header("Content-Range", "bytes */%d" % len(data))
        self.send_header("Content-Length", "0")
        self.end_headers()
        return
      self.send_response(206)
      self.send_header("Content-Range",
                       "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
    else:
      self.send_response(200)
    body = data[start:]
    self.send_header("Content-Length", str(len(body)))
    self.end_headers()
    if server.drop_once.pop(self.path.lstrip("/"), False):
      # Promise the whole body, send half, hang up: a dropped connection.
      self.wfile.write(body[:len(body) // 2])
      self.wfile.flush()
      self.close_connection = True
      return
    self.wfile.write(body)

  def log_message(self, *args):  # Keep pytest output clean.
    pass


@pytest.fixture
def mirror(tmp_path):
  """A threaded HTTP server on 127.0.0.1 serving tmp_path/mirror."""
  root = tmp_path / "mirror"
  root.mkdir()
  server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _MirrorHandler)
  server.root = str(root)
  server.requests = []
  server.drop_once = {}
  server.ignore_range = False
  server.url = "http://127.0.0.1:%d" % server.server_address[1]
  # A short poll interval keeps shutdown (and so each test) fast.
  thread = threading.Thread(target=server.serve_forever, args=(0.05,),
                            daemon=True)
  thread.start()
  yield server
  server.shutdown()
  server.server_close()


def _closed_port_url():
  """An http URL on 127.0.0.1 where nothing listens."""
  server = http.server.HTTPServer(("127.0.0.1", 0),
                                  http.server.BaseHTTPRequestHandler)
  port = server.server_address[1]
  server.server_close()
  return "http://127.0.0.1:%d" % port


# ---------------------------------------------------------------------------
# Corpus builders.
# ---------------------------------------------------------------------------


def _tone(seconds, rate, freq=440.0):
  t = np.arange(int(seconds * rate)) / float(rate)
  return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _md5(path):
  return hashlib.md5(open(path, "rb").read()).hexdigest()


def _make_librispeech_archive(mirror_dir, work_dir, subset):
  """Writes `<mirror_dir>/<subset>.tar.gz` in the real LibriSpeech layout.

  Returns:
    dict utterance id -> upper-case transcript.
  """
  top = os.path.join(work_dir, subset, "LibriSpeech")
  utterances = {}
  for (speaker, chapter), texts in LIBRISPEECH_TEXTS[subset].items():
    chapter_dir = os.path.join(top, subset, speaker, chapter)
    os.makedirs(chapter_dir)
    lines = []
    for number, text in enumerate(texts):
      utt = "%s-%s-%04d" % (speaker, chapter, number)
      soundfile.write(os.path.join(chapter_dir, utt + ".flac"),
                      _tone(0.3, 16000, 300 + 50 * number), 16000,
                      format="FLAC", subtype="PCM_16")
      lines.append("%s %s\n" % (utt, text))
      utterances[utt] = text
    with open(os.path.join(chapter_dir, "%s-%s.trans.txt" % (speaker, chapter)),
              "w") as f:
      f.writelines(lines)
  with tarfile.open(os.path.join(mirror_dir, subset + ".tar.gz"),
                    "w:gz") as tar:
    tar.add(top, arcname="LibriSpeech")
  return utterances


def _write_md5sum(mirror_dir, names):
  path = os.path.join(mirror_dir, "md5sum.txt")
  with open(path, "w") as f:
    for name in names:
      f.write("%s  %s\n" % (_md5(os.path.join(mirror_dir, name)), name))
  return path


def _read_manifest(path):
  with open(path) as f:
    lines = f.read().splitlines()
  return lines[0], [line.split("\t") for line in lines[1:]]


def _run_cli(*args, env=None):
  return subprocess.run([sys.executable, SCRIPT] + list(args), cwd=REPO_ROOT,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True, env=env, timeout=120, check=False)


# ---------------------------------------------------------------------------
# Subset selection, checksums, transcripts, split.
# ---------------------------------------------------------------------------


def test_select_subsets_follows_the_original_priority():
  assert download.select_subsets() == list(download.LIBRISPEECH_SUBSETS)
  assert download.select_subsets(train_only=True, dev_only=True) == [
      "train-clean-100", "train-clean-360", "train-other-500"]
  assert download.select_subsets(dev_only=True, test_only=True) == [
      "dev-clean", "dev-other"]
  assert download.select_subsets(test_only=True) == ["test-clean",
                                                     "test-other"]
  # --subsets wins and comes back in the canonical order.
  assert download.select_subsets(["test-clean", "dev-clean"],
                                 train_only=True) == ["dev-clean",
                                                      "test-clean"]
  with pytest.raises(download_common.DownloadError, match="'dev-cleen'"):
    download.select_subsets(["dev-cleen"])


def test_builtin_checksums_cover_every_official_archive():
  for subset in download.LIBRISPEECH_SUBSETS:
    digest = download_fetch.KNOWN_CHECKSUMS[subset + ".tar.gz"]
    assert re.fullmatch(r"[0-9a-f]{32}", digest)
  assert download_fetch.hash_algorithm(
      download_fetch.KNOWN_CHECKSUMS["LJSpeech-1.1.tar.bz2"]) == "sha256"


def test_parse_checksum_text_reads_md5sum_and_sha256sum_lines():
  text = ("# comment\n\n"
          "42E2234BA48799C1F50F24A7926300A1  dev-clean.tar.gz\n"
          "%s *./sub/x.tar.bz2\n" % ("ab" * 32))
  assert download_fetch.parse_checksum_text(text, "t") == {
      "dev-clean.tar.gz": "42e2234ba48799c1f50f24a7926300a1",
      "x.tar.bz2": "ab" * 32}
  with pytest.raises(download_fetch.ChecksumError, match="line 1"):
    download_fetch.parse_checksum_text("not a checksum line\n", "t")


def test_checksum_file_can_be_a_url(mirror):
  with open(os.path.join(mirror.root, "md5sum.txt"), "w") as f:
    f.write("%s  dev-other.tar.gz\n" % ("c" * 32))
  assert download_fetch.read_checksum_file(mirror.url + "/md5sum.txt") == {
      "dev-other.tar.gz": "c" * 32}
  with pytest.raises(download_fetch.NetworkError, match="--checksum_file"):
    download_fetch.read_checksum_file(mirror.url + "/nothing.txt")


def test_an_archive_without_checksum_needs_a_file_or_an_opt_out():
  with pytest.raises(download_fetch.ChecksumError,
                     match="--checksum_file.*--skip_checksum"):
    download_fetch.expected_checksum("other.tar.gz", {}, skip_checksum=False)
  assert download_fetch.expected_checksum("other.tar.gz", {}, True) is None


def test_librispeech_transcripts_are_normalized_like_the_original():
  assert download_convert.normalize_librispeech_transcript(
      " HELLO  Wörld\tIT'S ") == "hello world it's"


def test_vocabulary_reduction_reports_what_it_drops():
  vocabulary = download_convert.load_vocabulary(download.VOCABULARY_FILE)
  assert vocabulary == set(" abcdefghijklmnopqrstuvwxyz'")
  dropped = collections.Counter()
  text = download_convert.normalize_to_vocabulary(
      'Café, "well-known" 1864.', vocabulary, dropped)
  assert text == "cafe well known"
  assert dropped[","] == 1 and dropped['"'] == 2 and dropped["-"] == 1
  assert dropped["\u0301"] == 1  # The accent NFKD split off the é.


def test_train_dev_split_is_deterministic_and_90_10():
  ids = ["LJ%03d-%04d" % (i // 50, i) for i in range(200)]
  train, dev = download_convert.split_train_dev(ids)
  assert (len(train), len(dev)) == (180, 20)
  assert not set(train) & set(dev)
  assert download_convert.split_train_dev(list(reversed(ids))) == (train,
                                                                    dev)


# ---------------------------------------------------------------------------
# Resumable, verified fetch.
# ---------------------------------------------------------------------------


def _payload(mirror_server, name="blob.bin", size=300000):
  data = np.random.RandomState(0).bytes(size)
  with open(os.path.join(mirror_server.root, name), "wb") as f:
    f.write(data)
  return data, hashlib.md5(data).hexdigest()


def test_fetch_resumes_after_the_connection_drops(mirror, tmp_path):
  data, md5 = _payload(mirror)
  mirror.drop_once["blob.bin"] = True
  dest = str(tmp_path / "blob.bin")
  download_fetch.fetch(mirror.url + "/blob.bin", dest, md5, backoff_s=0,
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
  download_fetch.fetch(mirror.url + "/blob.bin", dest, md5,
                       show_progress=False)
  assert open(dest, "rb").read() == data
  assert mirror.requests == [("/blob.bin", "bytes=1000-")]


def test_fetch_restarts_when_the_server_ignores_range(mirror, tmp_path):
  data, md5 = _payload(mirror)
  mirror.ignore_range = True
  dest = str(tmp_path / "blob.bin")
  with open(dest + ".part", "wb") as f:
    f.write(b"stale bytes from another file")
  download_fetch.fetch(mirror.url + "/blob.bin", dest, md5,
                       show_progress=False)
  assert open(dest, "rb").read() == data


def test_fetch_accepts_a_complete_part_file_after_416(mirror, tmp_path):
  data, md5 = _payload(mirror)
  dest = str(tmp_path / "blob.bin")
  with open(dest + ".part", "wb") as f:
    f.write(data)
  download_fetch.fetch(mirror.url + "/blob.bin", dest, md5,
                       show_progress=False)
  assert open(dest, "rb").read() == data


def test_fetch_checksum_mismatch_deletes_the_download(mirror, tmp_path):
  _, md5 = _payload(mirror)
  dest = str(tmp_path / "blob.bin")
  wrong = "0" * 32
  with pytest.raises(download_fetch.ChecksumError) as info:
    download_fetch.fetch(mirror.url + "/blob.bin", dest, wrong,
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
  download_fetch.fetch(source.as_uri(), dest,
                       hashlib.sha256(data).hexdigest(), show_progress=False)
  assert open(dest, "rb").read() == data


def test_fetch_fails_early_when_the_disk_is_too_small(mirror, tmp_path,
                                                      monkeypatch):
  _, md5 = _payload(mirror)
  monkeypatch.setattr(download_fetch, "_free_bytes", lambda _: 1000)
  with pytest.raises(download_common.DownloadError,
                     match="not enough disk space for blob.bin"):
    download_fetch.fetch(mirror.url + "/blob.bin",
                         str(tmp_path / "blob.bin"), md5, show_progress=False)


def test_fetch_reports_http_errors(mirror, tmp_path):
  with pytest.raises(download_fetch.NetworkError, match="HTTP 404"):
    download_fetch.fetch(mirror.url + "/missing.tar.gz",
                         str(tmp_path / "m"), show_progress=False)


# ---------------------------------------------------------------------------
# Safe extraction.
# ---------------------------------------------------------------------------


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
  with pytest.raises(download_archive.UnsafeArchiveError,
                     match="refusing to extract member"):
    download_archive.extract_archive(archive, str(target),
                                     show_progress=False)
  assert not outside.exists()
  assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tar.gz", "data"]
  assert not download_archive.is_extracted(archive, str(target))


# ---------------------------------------------------------------------------
# Conversion and manifests.
# ---------------------------------------------------------------------------


def test_conversion_skips_finished_wavs_and_never_leaves_a_broken_one(
    tmp_path):
  good = str(tmp_path / "good.flac")
  soundfile.write(good, _tone(0.2, 16000), 16000, format="FLAC")
  bad = tmp_path / "bad.flac"
  bad.write_bytes(b"fLaC not really")
  out = tmp_path / "wav"
  jobs = [(good, str(out / "good.wav"))]
  assert download_convert.convert_audio(jobs, 16000, 2, "t", False) == 1
  assert download_convert.convert_audio(jobs, 16000, 2, "t", False) == 0
  with pytest.raises(download_convert.ConversionError, match="bad.flac"):
    download_convert.convert_audio([(str(bad), str(out / "bad.wav"))],
                                   16000, 1, "t", False)
  assert sorted(os.listdir(out)) == ["good.wav"]


def test_manifest_is_written_only_with_the_expected_row_count(tmp_path):
  wav = tmp_path / "a.wav"
  soundfile.write(str(wav), _tone(0.1, 16000), 16000)
  manifest = str(tmp_path / "m.csv")
  with pytest.raises(download_convert.ConversionError, match="2 utterances"):
    download_convert.write_manifest(manifest, [(str(wav), "a")], 2)
  assert not os.path.exists(manifest)
  download_convert.write_manifest(manifest, [(str(wav), "a")], 1)
  assert download_convert.manifest_is_complete(manifest)
  wav.unlink()
  assert not download_convert.manifest_is_complete(manifest)


# ---------------------------------------------------------------------------
# The command line, end to end.
# ---------------------------------------------------------------------------


def test_cli_dev_only_from_a_local_mirror_then_reruns_for_free(mirror,
                                                               tmp_path):
  texts = {}
  for subset in ("dev-clean", "dev-other"):
    texts.update(_make_librispeech_archive(mirror.root, str(tmp_path / "src"),
                                           subset))
  md5sum = _write_md5sum(mirror.root, ["dev-clean.tar.gz",
                                       "dev-other.tar.gz"])
  data_dir = str(tmp_path / "data")
  mirror.drop_once["dev-clean.tar.gz"] = True
  args = ["--data_dir=" + data_dir, "--base_url=" + mirror.url,
          "--checksum_file=" + md5sum, "--dev_only", "--num_workers=2"]

  result = _run_cli(*args)
  assert result.returncode == 0, result.stderr
  # dev-clean was cut off half-way once and resumed with a Range request.
  assert ("/dev-clean.tar.gz", None) in mirror.requests
  assert any(path == "/dev-clean.tar.gz" and rng and rng.startswith("bytes=")
             for path, rng in mirror.requests)
  for subset in ("dev-clean", "dev-other"):
    manifest = os.path.join(data_dir, subset, "LibriSpeech", subset + ".csv")
    header, rows = _read_manifest(manifest)
    assert header == "wav_filename\twav_filesize\ttranscript"
    assert len(rows) == sum(len(t) for t in LIBRISPEECH_TEXTS[subset].values())
    for wav, size, transcript in rows:
      utt = os.path.basename(wav)[:-len(".wav")]
      assert wav == os.path.join(data_dir, subset, "LibriSpeech",
                                 subset + "-wav", utt + ".wav")
      assert int(size) == os.path.getsize(wav)
      assert transcript == texts[utt].lower()
      audio, rate = soundfile.read(wav)
      assert rate == 16000 and len(audio) == 4800
    # The archive is gone after a verified extraction, as in the original.
    assert not os.path.exists(os.path.join(data_dir, subset,
                                           subset + ".tar.gz"))
  manifests = [open(os.path.join(data_dir, s, "LibriSpeech", s + ".csv")
                    ).read() for s in ("dev-clean", "dev-other")]

  # A second run fetches nothing and changes nothing.
  requests_before = len(mirror.requests)
  again = _run_cli(*args)
  assert again.returncode == 0, again.stderr
  assert len(mirror.requests) == requests_before
  assert again.stderr.count("is complete, skipped") == 2
  # A lost wav is rebuilt from the extracted FLAC, without any network.
  lost = os.path.join(data_dir, "dev-other", "LibriSpeech", "dev-other-wav",
                      "116-288045-0001.wav")
  os.remove(lost)
  offline = _run_cli("--data_dir=" + data_dir,
                     "--base_url=" + _closed_port_url(), "--dev_only")
  assert offline.returncode == 0, offline.stderr
  assert os.path.exists(lost)
  assert manifests == [
      open(os.path.join(data_dir, s, "LibriSpeech", s + ".csv")).read()
      for s in ("dev-clean", "dev-other")]


def test_kept_archive_is_extracted_again_when_the_tree_was_deleted(
    tmp_path):
  mirror_dir = tmp_path / "mirror"
  mirror_dir.mkdir()
  _make_librispeech_archive(str(mirror_dir), str(tmp_path / "src"),
                            "dev-other")
  config = download.DownloadConfig(
      base_url=mirror_dir.as_uri(), checksums={}, skip_checksum=True,
      keep_archives=True, num_workers=1, show_progress=False)
  data_dir = str(tmp_path / "data")
  manifest = download.prepare_librispeech_subset(data_dir, "dev-other",
                                                 config)
  archive = os.path.join(data_dir, "dev-other", "dev-other.tar.gz")
  assert os.path.exists(archive)  # --keep_archives
  (mirror_dir / "dev-other.tar.gz").unlink()  # Nothing to download now.
  shutil.rmtree(os.path.join(data_dir, "dev-other", "LibriSpeech"))
  assert download.prepare_librispeech_subset(data_dir, "dev-other",
                                             config) == manifest
  assert download_convert.manifest_is_complete(manifest)


def test_cli_bad_checksum_fails_with_both_sums(mirror, tmp_path):
  # No --checksum_file: the built-in md5 of the official dev-clean archive
  # cannot match this home-made one.
  _make_librispeech_archive(mirror.root, str(tmp_path / "src"), "dev-clean")
  data_dir = tmp_path / "data"
  result = _run_cli("--data_dir=%s" % data_dir, "--base_url=" + mirror.url,
                    "--subsets=dev-clean")
  assert result.returncode == 1
  assert "Traceback" not in result.stderr
  error = result.stderr.strip().splitlines()[-1]
  assert download_fetch.LIBRISPEECH_MD5["dev-clean.tar.gz"] in error
  assert _md5(os.path.join(mirror.root, "dev-clean.tar.gz")) in error
  assert os.listdir(data_dir / "dev-clean") == []


@pytest.mark.parametrize("case", ["unknown_subset", "no_network",
                                  "sox_missing"])
def test_cli_user_errors_are_one_clear_line(tmp_path, case):
  env = None
  args = ["--data_dir=%s" % (tmp_path / "data")]
  if case == "unknown_subset":
    args.append("--subsets=dev-clean,dev-dirty")
    expected = "unknown LibriSpeech subset 'dev-dirty'"
  elif case == "no_network":
    args += ["--base_url=" + _closed_port_url(), "--subsets=dev-clean"]
    expected = "cannot reach"
  else:
    env = dict(os.environ, PATH=str(tmp_path))  # A PATH without sox.
    expected = "sox is not installed"
  result = _run_cli(*args, env=env)
  assert result.returncode == 1
  assert "Traceback" not in result.stderr
  lines = result.stderr.strip().splitlines()
  assert lines[-1].startswith("download.py: error: ") and expected in lines[-1]


def test_main_turns_a_full_disk_into_one_line(monkeypatch, capsys):
  def full(_):
    raise OSError(errno.ENOSPC, "No space left on device", "/d/x.wav")
  monkeypatch.setattr(download, "run_download", full)
  with pytest.raises(SystemExit) as info:
    download.main([])
  assert info.value.code == 1
  assert "disk full while writing /d/x.wav" in capsys.readouterr().err


def _make_ljspeech_archive(mirror_dir, work_dir):
  """LJSpeech-1.1.tar.bz2 with 11 clips at 22,050 Hz, one without text."""
  top = os.path.join(work_dir, "LJSpeech-1.1")
  os.makedirs(os.path.join(top, "wavs"))
  normalized = ['Printing, in the only sense with which we are concerned,',
                'twenty-five "quoted" words', "Cafe au lait", "it's fine",
                "---"] + ["clip number %s" % w for w in
                          ("one two three four five six".split())]
  lines = []
  for number, text in enumerate(normalized, 1):
    utt = "LJ001-%04d" % number
    soundfile.write(os.path.join(top, "wavs", utt + ".wav"),
                    _tone(0.3, 22050), 22050, subtype="PCM_16")
    lines.append("%s|%s|%s\n" % (utt, text.upper(), text))
  with open(os.path.join(top, "metadata.csv"), "w") as f:
    f.writelines(lines)
  with tarfile.open(os.path.join(mirror_dir, "LJSpeech-1.1.tar.bz2"),
                    "w:bz2") as tar:
    tar.add(top, arcname="LJSpeech-1.1")


def test_cli_ljspeech_resamples_to_16k_and_splits_90_10(tmp_path):
  mirror_dir = tmp_path / "mirror"
  mirror_dir.mkdir()
  _make_ljspeech_archive(str(mirror_dir), str(tmp_path / "src"))
  archive = mirror_dir / "LJSpeech-1.1.tar.bz2"
  checksums = tmp_path / "sha256sum.txt"
  checksums.write_text("%s  LJSpeech-1.1.tar.bz2\n" %
                       hashlib.sha256(archive.read_bytes()).hexdigest())
  data_dir = tmp_path / "data"
  result = _run_cli("--dataset=ljspeech", "--data_dir=%s" % data_dir,
                    "--base_url=" + mirror_dir.as_uri(),
                    "--checksum_file=%s" % checksums, "--num_workers=2")
  assert result.returncode == 0, result.stderr
  assert "',' x2" in result.stderr and "'-' x4" in result.stderr
  assert "LJ001-0005" in result.stderr  # "---" cleans to nothing.
  root = data_dir / "LJSpeech-1.1"
  _, train = _read_manifest(str(root / "ljspeech-train.csv"))
  _, dev = _read_manifest(str(root / "ljspeech-dev.csv"))
  assert (len(train), len(dev)) == (9, 1)
  rows = {os.path.basename(w)[:-4]: (w, t) for w, _, t in train + dev}
  assert "LJ001-0005" not in rows
  assert rows["LJ001-0001"][1] == (
      "printing in the only sense with which we are concerned")
  assert rows["LJ001-0002"][1] == "twenty five quoted words"
  assert rows["LJ001-0004"][1] == "it's fine"
  for wav, _ in rows.values():
    assert os.path.dirname(wav) == str(root / "wav16k")
    audio, rate = soundfile.read(wav)
    assert rate == 16000 and abs(len(audio) - 4800) <= 2
  again = _run_cli("--dataset=ljspeech", "--data_dir=%s" % data_dir,
                   "--base_url=" + mirror_dir.as_uri(),
                   "--checksum_file=%s" % checksums)
  assert again.returncode == 0 and "manifests are complete" in again.stderr


def test_cli_help_lists_the_flags():
  result = _run_cli("--helpfull")  # absl exits 1 after printing help.
  for flag in ("data_dir", "train_only", "dev_only", "test_only", "subsets",
               "base_url", "checksum_file", "skip_checksum", "num_workers",
               "dataset", "keep_archives"):
    assert re.search(r"--(\[no\])?%s:" % flag, result.stdout), flag


def test_other_subset_names_need_a_mirror_of_ones_own():
  # Official names keep the original's order; others follow as given.
  assert download.select_subsets(
      ["sample-dev", "dev-clean", "sample-train"], allow_other=True) == [
          "dev-clean", "sample-dev", "sample-train"]
  with pytest.raises(download_common.DownloadError, match="mirror"):
    download.select_subsets(["sample-dev"])
  for bad in ("../etc", "a/b", ".hidden"):
    with pytest.raises(download_common.DownloadError, match="letters"):
      download.select_subsets([bad], allow_other=True)

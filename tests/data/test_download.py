"""Tests for data/download.py: the command line and its steps, end to end.

Everything is real and local: small LibriSpeech- and LJSpeech-layout archives
are built here from FLAC/wav files written with soundfile, served by an
`http.server` on 127.0.0.1 (with Range support, and able to drop a connection
half-way) or read through file:// URLs, and converted by the real sox. No
network beyond loopback.
"""

import errno
import hashlib
import os
import subprocess
import re
import socket
import sys
import tarfile
import time

import pytest
import soundfile

from data import download
from data.downloading import fetch
from tests.data.downloading import fakes
from tests.helpers import corpus_trees
from tests.helpers import hostile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO_ROOT, "data", "download.py")


def _run_cli(*args, env=None, cwd=REPO_ROOT):
  return subprocess.run([sys.executable, SCRIPT] + list(args), cwd=cwd,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True, env=env, timeout=120, check=False)


# ---------------------------------------------------------------------------
# Subset selection, checksums, transcripts, split.
# ---------------------------------------------------------------------------


def test_cli_dev_only_from_a_local_mirror_then_reruns_for_free(mirror,
                                                               tmp_path):
  texts = {}
  for subset in ("dev-clean", "dev-other"):
    texts.update(fakes.make_librispeech_archive(
        mirror.root, str(tmp_path / "src"), subset))
  md5sum = fakes.write_md5sum(mirror.root, ["dev-clean.tar.gz",
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
    header, rows = fakes.read_manifest(manifest)
    assert header == "wav_filename\twav_filesize\ttranscript"
    assert len(rows) == sum(
        len(t) for t in fakes.LIBRISPEECH_TEXTS[subset].values())
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
                     "--base_url=" + fakes.closed_port_url(), "--dev_only")
  assert offline.returncode == 0, offline.stderr
  assert os.path.exists(lost)
  assert manifests == [
      open(os.path.join(data_dir, s, "LibriSpeech", s + ".csv")).read()
      for s in ("dev-clean", "dev-other")]


def test_cli_bad_checksum_fails_with_both_sums(mirror, tmp_path):
  # No --checksum_file: the built-in md5 of the official dev-clean archive
  # cannot match this home-made one.
  fakes.make_librispeech_archive(mirror.root, str(tmp_path / "src"),
                                 "dev-clean")
  data_dir = tmp_path / "data"
  result = _run_cli("--data_dir=%s" % data_dir, "--base_url=" + mirror.url,
                    "--subsets=dev-clean")
  assert result.returncode == 1
  assert "Traceback" not in result.stderr
  error = result.stderr.strip().splitlines()[-1]
  assert fetch.LIBRISPEECH_MD5["dev-clean.tar.gz"] in error
  assert fakes.md5(os.path.join(mirror.root, "dev-clean.tar.gz")) in error
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
    args += ["--base_url=" + fakes.closed_port_url(), "--subsets=dev-clean"]
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


def _make_ljspeech_archive(mirror_dir, work_dir, extra_line=None):
  """LJSpeech-1.1.tar.bz2 with 11 clips at 22,050 Hz, one without text.

  `extra_line` is appended to its metadata.csv.
  """
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
                    fakes.tone(0.3, 22050), 22050, subtype="PCM_16")
    lines.append("%s|%s|%s\n" % (utt, text.upper(), text))
  with open(os.path.join(top, "metadata.csv"), "w") as f:
    f.writelines(lines + ([extra_line + "\n"] if extra_line else []))
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
  _, train = fakes.read_manifest(str(root / "ljspeech-train.csv"))
  _, dev = fakes.read_manifest(str(root / "ljspeech-dev.csv"))
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


def test_cli_a_data_dir_named_like_a_command_is_a_folder(mirror, tmp_path):
  fakes.make_librispeech_archive(mirror.root, str(tmp_path / "src"),
                                 "dev-other")
  md5sum = fakes.write_md5sum(mirror.root, ["dev-other.tar.gz"])
  work = tmp_path / "work"
  work.mkdir()
  # Every sox source and destination starts with it: `touch PWNED; d/...`.
  data_dir = "|touch %s;d" % hostile.MARKER
  result = _run_cli("--data_dir=" + data_dir, "--base_url=" + mirror.url,
                    "--checksum_file=" + md5sum, "--subsets=dev-other",
                    cwd=str(work))
  assert result.returncode == 0, result.stderr
  _, rows = fakes.read_manifest(str(
      work / data_dir / "dev-other" / "LibriSpeech" / "dev-other.csv"))
  assert len(rows) == 2
  for wav, size, _ in rows:
    assert wav.startswith(str(work / data_dir) + os.sep)
    assert int(size) == os.path.getsize(wav)
  assert hostile.planted(str(tmp_path), REPO_ROOT) == []


def _hostile_id(case, tmp_path):
  """An utterance id that climbs out of the data folder or is absolute."""
  if case == "climb":
    return "../../../../pwn"
  outside = tmp_path / "elsewhere"
  outside.mkdir()
  soundfile.write(str(outside / "pwn.flac"), fakes.tone(0.3, 16000), 16000)
  soundfile.write(str(outside / "pwn.wav"), fakes.tone(0.3, 22050), 22050)
  return str(outside / "pwn")


def _assert_refused_by_name(result, archive, text_file, line, utt):
  assert result.returncode == 1
  assert "Traceback" not in result.stderr
  error = result.stderr.strip().splitlines()[-1]
  assert error == (
      "download.py: error: %s: %s line %d names %r, which is not a plain file "
      "name (no separators, '..' or control characters); refusing to write "
      "outside its folder." % (archive, text_file, line, utt))


@pytest.mark.parametrize("case", ["climb", "absolute"])
def test_cli_refuses_librispeech_ids_that_are_not_plain_names(
    mirror, tmp_path, case):
  utt = _hostile_id(case, tmp_path)
  # A checksum-verified archive whose FLAC for the climbing id is one of
  # its members: without the check its wav lands beside the data folder.
  fakes.make_librispeech_archive(mirror.root, str(tmp_path / "src"),
                                 "dev-clean", extra_line="%s HELLO" % utt,
                                 top_flac="pwn.flac")
  md5sum = fakes.write_md5sum(mirror.root, ["dev-clean.tar.gz"])
  data_dir = tmp_path / "data"
  args = ["--data_dir=%s" % data_dir, "--base_url=" + mirror.url,
          "--checksum_file=" + md5sum, "--subsets=dev-clean",
          "--keep_archives"]
  text_file = data_dir / "dev-clean" / "LibriSpeech" / "dev-clean" / "174"
  text_file = text_file / "50561" / "174-50561.trans.txt"
  for _ in range(2):  # A re-run, from the extracted tree, refuses it too.
    result = _run_cli(*args)
    _assert_refused_by_name(result, "dev-clean.tar.gz", text_file, 2, utt)
  root = data_dir / "dev-clean" / "LibriSpeech"
  assert not (root / "dev-clean.csv").exists()
  assert not os.path.exists(str(root / "dev-clean-wav"))
  wavs = [os.path.join(d, f) for d, _, files in os.walk(str(tmp_path))
          for f in files if f.endswith(".wav")]
  assert wavs == ([] if case == "climb" else [utt + ".wav"])


@pytest.mark.parametrize("case", ["climb", "absolute"])
def test_cli_refuses_ljspeech_ids_that_are_not_plain_names(tmp_path, case):
  utt = _hostile_id(case, tmp_path)
  mirror_dir = tmp_path / "mirror"
  mirror_dir.mkdir()
  _make_ljspeech_archive(str(mirror_dir), str(tmp_path / "src"),
                         "%s|HELLO|hello" % utt)
  archive = mirror_dir / "LJSpeech-1.1.tar.bz2"
  checksums = tmp_path / "md5sum.txt"
  checksums.write_text("%s  %s\n" % (fakes.md5(str(archive)), archive.name))
  data_dir = tmp_path / "data"
  before = sorted(os.listdir(str(tmp_path)))
  result = _run_cli("--dataset=ljspeech", "--data_dir=%s" % data_dir,
                    "--base_url=" + mirror_dir.as_uri(),
                    "--checksum_file=%s" % checksums)
  root = data_dir / "LJSpeech-1.1"
  _assert_refused_by_name(result, archive.name, root / "metadata.csv", 12,
                          utt)
  assert not os.path.exists(str(root / "wav16k"))
  assert not list(root.glob("ljspeech-*.csv"))
  assert sorted(os.listdir(str(tmp_path))) == sorted(before + ["data"])


@pytest.mark.parametrize("flag,expected", [
    ("--max_extract_gb=0.000001", "would extract to more than 1000 bytes"),
    ("--max_members=5", "holds more than 5 members")])
def test_cli_extraction_limits_are_one_line_naming_archive_and_flag(
    mirror, tmp_path, flag, expected):
  fakes.make_librispeech_archive(mirror.root, str(tmp_path / "src"),
                                 "dev-clean")
  md5sum = fakes.write_md5sum(mirror.root, ["dev-clean.tar.gz"])
  data_dir = tmp_path / "data"
  args = ["--data_dir=%s" % data_dir, "--base_url=" + mirror.url,
          "--checksum_file=" + md5sum, "--subsets=dev-clean", flag]
  archive = data_dir / "dev-clean" / "dev-clean.tar.gz"
  for _ in range(2):
    result = _run_cli(*args)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("download.py: error: %s %s" % (archive, expected))
    assert error.endswith("Raise --max_extract_gb or --max_members if the "
                          "archive is trusted.")
    assert os.listdir(str(data_dir / "dev-clean")) == ["dev-clean.tar.gz"]
  # The defaults let it through.
  assert _run_cli(*args[:-1]).returncode == 0


def test_cli_help_lists_the_flags():
  result = _run_cli("--helpfull")  # absl exits 1 after printing help.
  for flag in ("data_dir", "train_only", "dev_only", "test_only", "subsets",
               "base_url", "checksum_file", "skip_checksum", "num_workers",
               "dataset", "keep_archives", "max_extract_gb", "max_members"):
    assert re.search(r"--(\[no\])?%s:" % flag, result.stdout), flag


# ---------------------------------------------------------------------------
# The LibriSpeech LM files (OpenSLR resource 11).
# ---------------------------------------------------------------------------


def test_cli_help_lists_the_lm_flags():
  result = _run_cli("--helpfull")
  for flag in ("lm_files", "lm_only", "lm_dir", "lm_base_url"):
    assert re.search(r"--(\[no\])?%s:" % flag, result.stdout), flag


def _serve_lm(mirror_root):
  import gzip  # pylint: disable=g-import-not-at-top
  with gzip.open(os.path.join(mirror_root, "4-gram.arpa.gz"), "wt") as f:
    f.write("\\data\\\nngram 1=1\n\n\\1-grams:\n-1.0\tthe\n\n\\end\\\n")
  with open(os.path.join(mirror_root, "librispeech-vocab.txt"), "w") as f:
    f.write("THE\n")
  return ["4-gram.arpa.gz", "librispeech-vocab.txt"]


def test_cli_lm_only_from_a_loopback_mirror(mirror, tmp_path):
  names = _serve_lm(mirror.root)
  md5sum = fakes.write_md5sum(mirror.root, names)
  data_dir = tmp_path / "data"
  result = _run_cli("--data_dir=%s" % data_dir, "--lm_only",
                    "--lm_files=" + ",".join(names),
                    "--lm_base_url=" + mirror.url,
                    "--checksum_file=" + md5sum)
  assert result.returncode == 0, result.stderr
  lm_dir = data_dir / "librispeech-lm"
  assert sorted(os.listdir(lm_dir)) == ["4-gram.arpa", "librispeech-vocab.txt"]
  assert (lm_dir / "4-gram.arpa").read_text().startswith("\\data\\")
  # No audio was asked for or fetched.
  assert {p for p, _ in mirror.requests} == {"/" + n for n in names}


def test_cli_lm_wrong_or_missing_checksum_refused(mirror, tmp_path):
  names = _serve_lm(mirror.root)
  md5sum = tmp_path / "md5sum.txt"
  md5sum.write_text("%s  4-gram.arpa.gz\n%s  librispeech-vocab.txt\n" % (
      "0" * 32, fakes.md5(os.path.join(mirror.root, names[1]))))
  args = ["--data_dir=%s" % (tmp_path / "data"), "--lm_only",
          "--lm_files=4-gram.arpa.gz", "--lm_base_url=" + mirror.url]
  result = _run_cli(*(args + ["--checksum_file=%s" % md5sum]))
  assert result.returncode == 1
  assert "checksum mismatch for 4-gram.arpa.gz" in result.stderr
  assert not os.path.exists(tmp_path / "data" / "librispeech-lm" /
                            "4-gram.arpa")
  # Without a checksum: refused before any transfer, naming the way out.
  requests = len(mirror.requests)
  result = _run_cli(*args)
  assert result.returncode == 1
  assert "no checksum is known for 4-gram.arpa.gz" in result.stderr
  assert "--checksum_file" in result.stderr
  assert len(mirror.requests) == requests


# ---------------------------------------------------------------------------
# Two runs on one --data_dir; hostile or trickling servers.
# ---------------------------------------------------------------------------


@pytest.mark.slow  # two CLI runs against a deliberately slow server
def test_a_second_run_on_the_same_download_is_refused(mirror, tmp_path):
  fakes.make_librispeech_archive(mirror.root, str(tmp_path / "src"),
                                 "dev-clean")
  md5sum = fakes.write_md5sum(mirror.root, ["dev-clean.tar.gz"])
  archive_bytes = open(os.path.join(mirror.root, "dev-clean.tar.gz"),
                       "rb").read()
  # About 8 s for the whole archive: the second run starts well inside it.
  mirror.chunk_bytes = 256
  mirror.chunk_delay_s = 8.0 / (len(archive_bytes) / 256.0)
  data_dir = str(tmp_path / "data")
  args = [sys.executable, SCRIPT, "--data_dir=" + data_dir,
          "--base_url=" + mirror.url, "--checksum_file=" + md5sum,
          "--subsets=dev-clean", "--num_workers=1", "--keep_archives"]
  first = subprocess.Popen(args, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
  archive = os.path.join(data_dir, "dev-clean", "dev-clean.tar.gz")
  deadline = time.monotonic() + 60
  # The first run names itself in the lock file once it holds it.
  while not (os.path.exists(archive + ".lock") and
             os.path.getsize(archive + ".lock") > 0):
    assert first.poll() is None and time.monotonic() < deadline
    time.sleep(0.05)
  second = _run_cli(*args[2:])
  out, err = first.communicate(timeout=120)
  assert first.returncode == 0, err
  assert second.returncode == 1
  assert re.fullmatch(
      r"download\.py: error: %s is being downloaded by another run \(host "
      r"%s, pid %d, started [0-9T:+-]+; lock file %s\); wait for it to "
      r"finish or stop it\.\n" % (re.escape(archive),
                                  re.escape(socket.gethostname()), first.pid,
                                  re.escape(archive + ".lock")),
      second.stderr.splitlines(keepends=True)[-1]), second.stderr
  # The first run's archive is whole and verified; nothing is left over.
  assert open(archive, "rb").read() == archive_bytes
  assert not os.path.exists(archive + ".part")
  assert not os.path.exists(archive + ".lock")
  manifest = os.path.join(data_dir, "dev-clean", "LibriSpeech",
                          "dev-clean.csv")
  assert len(fakes.read_manifest(manifest)[1]) == 3


def test_cli_refuses_an_oversized_checksum_file(mirror, tmp_path):
  with open(os.path.join(mirror.root, "md5sum.txt"), "w") as f:
    f.write("# padding\n" * 500)  # 5,000 bytes of a 1,000-byte cap
  result = _run_cli("--data_dir=" + str(tmp_path / "data"),
                    "--base_url=" + mirror.url, "--subsets=dev-clean",
                    "--checksum_file=" + mirror.url + "/md5sum.txt",
                    "--checksum_file_max_bytes=1000")
  assert result.returncode == 1
  assert result.stderr.splitlines()[-1] == (
      "download.py: error: checksum file %s/md5sum.txt is larger than "
      "1000 bytes; refusing to read it. Raise --checksum_file_max_bytes if it "
      "is right." % mirror.url)
  assert not os.path.exists(str(tmp_path / "data"))


def test_cli_stops_a_trickling_download_and_keeps_the_part(mirror, tmp_path):
  fakes.make_librispeech_archive(mirror.root, str(tmp_path / "src"),
                                 "dev-clean")
  md5sum = fakes.write_md5sum(mirror.root, ["dev-clean.tar.gz"])
  mirror.chunk_bytes, mirror.chunk_delay_s = 1, 0.1  # 10 bytes a second
  data_dir = str(tmp_path / "data")
  started = time.monotonic()
  result = _run_cli("--data_dir=" + data_dir, "--base_url=" + mirror.url,
                    "--checksum_file=" + md5sum, "--subsets=dev-clean",
                    "--download_stall_bytes=1000", "--download_stall_s=1")
  assert time.monotonic() - started < 60
  assert result.returncode == 1
  assert re.fullmatch(
      r"download\.py: error: %s/dev-clean\.tar\.gz: only \d+ bytes arrived "
      r"in 1 s \(the minimum is 1000 per 1 s\); stopped at \d+ B, re-run to "
      r"resume\. Change the minimum with --download_stall_bytes and "
      r"--download_stall_s\." % re.escape(mirror.url),
      result.stderr.splitlines()[-1]), result.stderr
  archive = os.path.join(data_dir, "dev-clean", "dev-clean.tar.gz")
  assert 0 < os.path.getsize(archive + ".part") < 1000
  assert not os.path.exists(archive)
  assert not os.path.exists(archive + ".lock")


# ---------------------------------------------------------------------------
# Common Voice, TED-LIUM, AN4 and a folder of one's own.
# ---------------------------------------------------------------------------


def _hostile_corpus(dataset, tmp_path):
  """(flags, text file, line, name) of a corpus naming `../x` in its text."""
  src = tmp_path / "src"
  if dataset == "commonvoice":
    corpus_trees.make_commonvoice(src / "en", extra_lines={
        "dev": ["c\t../x.mp3\tHello"]})
    return ["--cv_dir=%s" % src], src / "en" / "dev.tsv", 3, "../x.mp3"
  if dataset == "tedlium":
    corpus_trees.make_tedlium(src, extra_stm={"test": "../x 1 x 0 1 <o> hi"})
    return (["--tedlium_dir=%s" % src],
            src / "legacy" / "test" / "stm" / "CaraStone_2012.stm", 2, "../x")
  if dataset == "an4":
    corpus_trees.make_an4(src / "an4", extra_lines={
        "test": ["<s> NO </s> (../x)"]})
    return (["--an4_dir=%s" % src],
            src / "an4" / "etc" / "an4_test.transcription", 2, "../x")
  corpus_trees.write_mp3(src / "a.mp3")
  listing = tmp_path / "list.tsv"
  listing.write_text("a.mp3\thello\n../x.mp3\tthere\n")
  return (["--folder_dir=%s" % src, "--folder_transcripts=%s" % listing],
          listing, 2, "../x.mp3")


@pytest.mark.parametrize("dataset", ["commonvoice", "tedlium", "an4",
                                     "folder"])
def test_cli_corpus_text_naming_a_path_is_one_line_naming_file_and_line(
    tmp_path, dataset):
  args, text_file, line, name = _hostile_corpus(dataset, tmp_path)
  data_dir = tmp_path / "data"
  result = _run_cli("--dataset=" + dataset, "--data_dir=%s" % data_dir,
                    *args)
  assert result.returncode == 1 and "Traceback" not in result.stderr
  error = result.stderr.strip().splitlines()[-1]
  assert error.startswith("download.py: error: ")
  assert ("%s line %d names %r" % (text_file, line, name)) in error
  assert not data_dir.exists() or not [
      f for _, _, files in os.walk(str(data_dir)) for f in files]


def test_cli_folder_with_a_vocabulary_of_its_own(tmp_path):
  src = tmp_path / "src"
  corpus_trees.write_mp3(src / "spk" / "a.mp3")
  (src / "spk" / "a.txt").write_text("Ça va, très bien!")
  corpus_trees.write_mp3(src / "spk" / "b.mp3")
  (src / "spk" / "b.txt").write_text("Zut.")  # No z in this vocabulary.
  vocabulary_file = tmp_path / "fr.txt"
  vocabulary_file.write_text("\n".join([" "] + list("abcçdeèéinrstuv") +
                                       ["-"]) + "\n")
  data_dir = tmp_path / "data"
  result = _run_cli("--dataset=folder", "--data_dir=%s" % data_dir,
                    "--folder_dir=%s" % src,
                    "--vocabulary_file=%s" % vocabulary_file)
  assert result.returncode == 0, result.stderr
  _, rows = fakes.read_manifest(str(data_dir / "folder-train.csv"))
  assert [(w, t) for w, _, t in rows] == [
      (str(data_dir / "folder-wav" / "spk" / "a.wav"), "ça va très bien")]
  assert "1 with characters outside the vocabulary ('z' x1)" in result.stderr
  missing = _run_cli("--dataset=folder", "--data_dir=%s" % data_dir,
                     "--folder_dir=%s" % src,
                     "--vocabulary_file=%s" % (tmp_path / "none.txt"))
  assert missing.returncode == 1
  assert missing.stderr.strip().splitlines()[-1] == (
      "download.py: error: cannot read --vocabulary_file %s: No such file or "
      "directory" % (tmp_path / "none.txt"))


def test_cli_folder_reads_transcripts_with_the_text_policy_flags(tmp_path):
  src = tmp_path / "src"
  corpus_trees.write_mp3(src / "spk" / "a.mp3")
  (src / "spk" / "a.txt").write_text("Très Bien")
  data_dir = tmp_path / "data"
  # Training's --strip_accents and --nolowercase reach the importer.
  result = _run_cli("--dataset=folder", "--data_dir=%s" % data_dir,
                    "--folder_dir=%s" % src, "--strip_accents",
                    "--nolowercase", "--vocabulary_file=%s" % _vocabulary(
                        tmp_path, " BTeinrs"))
  assert result.returncode == 0, result.stderr
  _, rows = fakes.read_manifest(str(data_dir / "folder-train.csv"))
  assert [t for _, _, t in rows] == ["Tres Bien"]


def _vocabulary(folder, characters):
  path = folder / "vocabulary.txt"
  path.write_text("\n".join(list(characters) + ["-"]) + "\n")
  return path


def test_cli_help_lists_the_corpus_flags():
  result = _run_cli("--helpfull")
  for flag in ("vocabulary_file", "cv_archive", "cv_dir", "tedlium_archive",
               "tedlium_dir", "an4_archive", "an4_dir", "folder_dir",
               "folder_transcripts", "folder_dev_fraction",
               "folder_split_by", "folder_seed"):
    assert re.search(r"--(\[no\])?%s:" % flag, result.stdout), flag

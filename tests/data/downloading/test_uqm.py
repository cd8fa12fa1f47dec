"""Tests for --dataset=uqm (data/downloading/uqm.py, uqm_apt.py) end to end.

A look-alike voice pack (tests/helpers/uqm_tree.py: sox tones, made-up
text) goes through `python data/download.py --dataset=uqm` as a real
subprocess with the real sox; the apt fetch runs against fake `apt-get` and
`dpkg` on the PATH that record their arguments. No network.
"""

import ast
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import wave

import pytest

from data.downloading import uqm
from data.downloading import uqm_apt
from tests.data.downloading import fakes
from tests.helpers import uqm_tree

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
SCRIPT = os.path.join(REPO_ROOT, "data", "download.py")

# (wav path under <data_dir>/uqm, seconds, transcript) of the look-alike.
TRAIN = [
    ("lines/commander/commander-000-00.wav", 2.0,
     "hello captain we have twenty five ships"),
    ("lines/commander/commander-000-01.wav", 0.5, "go now"),
    ("lines/commander/commander-000-02.wav", 0.8, "cafe at noon"),
    ("wav16k/commander/commander-001.wav", 1.5,
     "first line second line third line"),
    ("lines/commander/commander-004-01.wav", 0.6, "yes"),
    ("lines/commander/commander-005-01.wav", 0.9, "ok"),
    ("wav16k/zoqfotpik/zoqfotpik-000.wav", 1.5,
     "right words in nineteen forty"),
]
DEV = [("wav16k/syreen/syreen-000.wav", 1.2, "we met on the first day")]


def _run_cli(*args, env=None):
  return subprocess.run([sys.executable, SCRIPT, "--dataset=uqm"] + list(args),
                        cwd=REPO_ROOT, capture_output=True, text=True,
                        env=env, timeout=300, check=False)


def _rows(path):
  """(wav, transcript) rows of a manifest; checks header and sizes."""
  header, rows = fakes.read_manifest(path)
  assert header == "wav_filename\twav_filesize\ttranscript"
  for wav, size, _ in rows:
    assert os.path.getsize(wav) == int(size)
  return [(wav, text) for wav, _, text in rows]


def _seconds(path):
  with wave.open(path, "rb") as w:
    assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (
        16000, 1, 2)
    return w.getnframes() / 16000.0


def _assert_manifests(data_dir):
  """The manifests hold exactly the expected rows, durations and texts."""
  base = os.path.join(str(data_dir), "uqm")
  for name, expected in (("uqm-train.csv", TRAIN), ("uqm-dev.csv", DEV)):
    rows = _rows(os.path.join(base, name))
    assert [(os.path.relpath(w, base), t) for w, t in rows] == [
        (w, t) for w, _, t in expected]
    for (wav, _), (_, seconds, _) in zip(rows, expected):
      assert os.path.isabs(wav)
      # Vorbis may pad a clip's end by a few ms; cut lines are exact.
      assert _seconds(wav) == pytest.approx(seconds, abs=0.02)
  assert not os.path.exists(os.path.join(base, "wav16k", "orz"))


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
  folder = str(tmp_path_factory.mktemp("uqm_tree"))
  uqm_tree.make_tree(folder)
  return folder


@pytest.mark.slow
def test_cli_imports_an_unpacked_copy_then_reruns_for_free(tree, tmp_path):
  data_dir = tmp_path / "data"
  outside = uqm_tree.snapshot(str(tmp_path), skip=str(data_dir))
  source = uqm_tree.snapshot(tree)
  proc = _run_cli("--data_dir=%s" % data_dir, "--uqm_dir=%s" % tree)
  assert proc.returncode == 0, proc.stderr[-3000:]
  _assert_manifests(data_dir)
  commander_txt = os.path.join(tree, "base", "comm", "commander",
                               "commander.txt")
  assert ("%s line 13: clip name '../../x.ogg' is a path, not a plain file "
          "name; entry skipped." % commander_txt) in proc.stderr
  assert ("%s line 15: clip name '-x.ogg' is not a plain name.ogg; entry "
          "skipped." % commander_txt) in proc.stderr
  assert ("%s line 28: clip 'commander-006.ogg' leads outside %s; entry "
          "skipped." % (commander_txt, os.path.join(
              tree, "3dovoice", "commander"))) in proc.stderr
  assert ("UQM: skipped folder 'Bad Race' of %s: not a plain race name." %
          os.path.join(tree, "3dovoice")) in proc.stderr
  for reason, count in (("refused clip name", 3),
                        ("dropped: placeholder", 1),
                        ("dropped: parenthesized aside", 1),
                        ("dropped: longer than --uqm_max_sec", 1),
                        ("dropped: too many characters for its span", 1),
                        ("clips kept whole (timings do not fit)", 2)):
    assert "UQM: %s: %d." % (reason, count) in proc.stderr
  assert "UQM: train: 7 rows" in proc.stderr
  # Nothing written outside data_dir, the unpacked copy untouched.
  assert uqm_tree.snapshot(str(tmp_path), skip=str(data_dir)) == outside
  assert uqm_tree.snapshot(tree) == source
  again = _run_cli("--data_dir=%s" % data_dir, "--uqm_dir=%s" % tree)
  assert again.returncode == 0, again.stderr[-3000:]
  assert "UQM: manifests are complete, skipped." in again.stderr
  assert "Converting" not in again.stderr


@pytest.mark.slow
def test_cli_max_sec_keeps_a_long_clip_whole(tree, tmp_path):
  proc = _run_cli("--data_dir=%s" % tmp_path, "--uqm_dir=%s" % tree,
                  "--uqm_max_sec=20")
  assert proc.returncode == 0, proc.stderr[-3000:]
  rows = _rows(str(tmp_path / "uqm" / "uqm-train.csv"))
  assert rows[-4] == (str(tmp_path / "uqm" / "wav16k" / "commander" /
                          "commander-003.wav"), "a long line another long line")


def test_dev_and_excluded_speakers_are_apart():
  assert not set(uqm.DEV_RACES) & set(uqm.EXCLUDED_RACES)


# ---------------------------------------------------------------------------
# The apt fetch, against fake apt-get and dpkg that record their arguments.
# ---------------------------------------------------------------------------

_FAKE_APT = r"""#!%(python)s
import os, shutil, sys
with open(%(log)r, "a") as log:
  log.write(repr(sys.argv[1:]) + "\n")
  args = sys.argv[1:]
  options = dict(a.split("=", 1) for a in args if "=" in a)
  log.write(open(options["Dir::Etc::sourcelist"]).read())
if %(fail)r:
  print("E: Unable to locate package uqm-voice")
  sys.exit(100)
if args[-3] == "download":
  shutil.copy(%(voice)r, "uqm-voice_0.8.0+deb-1_all.deb")
  shutil.copy(%(content)r, "uqm-content_0.8.0+deb-1_all.deb")
"""
_FAKE_DPKG = r"""#!%(python)s
import os, shutil, sys
with open(%(log)r, "a") as log:
  log.write(repr(sys.argv[1:]) + "\n")
_, deb, target = sys.argv[1:]
kind = "addons" if "voice" in deb else "packages"
name = "uqm-0.8.0-%%s.uqm" %% ("voice" if "voice" in deb else "content")
folder = os.path.join(target, "usr/share/games/uqm/content", kind)
os.makedirs(folder, exist_ok=True)
shutil.copy(deb, os.path.join(folder, name))
"""


def _fake_bin(tmp_path, tree, fail=False):
  """A PATH folder with sox and fake apt-get and dpkg; returns (env, log)."""
  bin_dir = tmp_path / "bin"
  bin_dir.mkdir()
  voice, content = uqm_tree.make_packages(tree, str(tmp_path))
  log = str(tmp_path / "calls.log")
  values = dict(python=sys.executable, log=log, fail=fail, voice=voice,
                content=content)
  for name, text in (("apt-get", _FAKE_APT), ("dpkg", _FAKE_DPKG)):
    path = bin_dir / name
    path.write_text(text % values)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
  (bin_dir / "sox").symlink_to(shutil.which("sox"))
  return dict(os.environ, PATH=str(bin_dir)), log


def _apt_config_digest():
  digest = hashlib.sha256()
  for parent, _, names in sorted(os.walk("/etc/apt")):
    for name in sorted(names):
      path = os.path.join(parent, name)
      if os.path.isfile(path) and os.access(path, os.R_OK):
        digest.update(path.encode() + open(path, "rb").read())
  return digest.hexdigest()


@pytest.mark.slow
def test_cli_fetches_through_a_private_apt_configuration(tree, tmp_path):
  env, log = _fake_bin(tmp_path, tree)
  data_dir = tmp_path / "data"
  before = _apt_config_digest()
  proc = _run_cli("--data_dir=%s" % data_dir, env=env)
  assert proc.returncode == 0, proc.stderr[-3000:]
  _assert_manifests(data_dir)
  assert _apt_config_digest() == before
  apt_dir = str(data_dir / "uqm" / "apt")
  options = uqm_apt.apt_options(apt_dir)
  assert [o.split("=", 1)[1] for o in options[1::2]] == [
      apt_dir + "/sources.list", "/dev/null", apt_dir + "/lists",
      apt_dir + "/cache"]
  calls = open(log).read().splitlines()
  source_line = uqm_apt.private_sources_line(*uqm_apt.system_mirror())
  assert source_line.endswith(" contrib non-free\n")
  assert calls[:4] == [repr(options + ["update"]), source_line.rstrip("\n"),
                       repr(options + ["download", "uqm-voice",
                                       "uqm-content"]),
                       source_line.rstrip("\n")]
  dpkg_calls = [ast.literal_eval(c) for c in calls[4:]]
  assert [c[0] for c in dpkg_calls] == ["-x", "-x"]
  assert all(c[2] == str(data_dir / "uqm" / "unpacked.part")
             for c in dpkg_calls)
  # The .debs and their unpacked copy go once the tree is out; the zips'
  # hostile members were never written.
  assert sorted(os.listdir(data_dir / "uqm")) == [
      "apt", "lines", "tree", "uqm-dev.csv", "uqm-train.csv", "wav16k"]
  assert not list(tmp_path.glob("**/escaped*"))


def test_cli_says_in_one_line_when_apt_is_missing(tmp_path):
  bin_dir = tmp_path / "bin"
  bin_dir.mkdir()
  (bin_dir / "sox").symlink_to(shutil.which("sox"))
  proc = _run_cli("--data_dir=%s" % (tmp_path / "data"),
                  env=dict(os.environ, PATH=str(bin_dir)))
  assert proc.returncode == 1
  assert proc.stderr.strip().splitlines()[-1] == (
      "download.py: error: apt-get and dpkg not found: the voice pack is "
      "fetched with Debian's apt and unpacked with dpkg; on other systems "
      "unpack uqm-voice and uqm-content yourself and pass --uqm_dir.")
  assert not (tmp_path / "data" / "uqm").exists()


def test_cli_says_in_one_line_when_the_fetch_fails(tree, tmp_path):
  env, _ = _fake_bin(tmp_path, tree, fail=True)
  proc = _run_cli("--data_dir=%s" % (tmp_path / "data"), env=env)
  assert proc.returncode == 1
  assert proc.stderr.strip().splitlines()[-1] == (
      "download.py: error: apt-get update with the private sources list "
      "failed (exit 100): E: Unable to locate package uqm-voice")
  assert not (tmp_path / "data" / "uqm" / "debs").exists()

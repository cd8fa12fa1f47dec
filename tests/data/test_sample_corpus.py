"""Tests for data/sample_corpus.py: the corpus built end to end.

The synthesis modules have their own tests under tests/data/synthesis/; the
ones here need a built corpus (built once per module: it is the slow part),
including the byte-reproducibility of data/synthesis/archive.py.

The corpus tests are real: flite, festival, espeak-ng and sox synthesize a
handful of utterances from the Debian text packages, and data/download.py
fetches the archives from a file:// URL. Missing packages fail the tests with
the generator's own apt-get line rather than skipping them, so CI cannot pass
without exercising the engines.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile

import numpy as np
import pytest
import soundfile

from data import sample_corpus
from data.downloading import fetch
from data.downloading import librispeech
from data.downloading import steps
from data.synthesis import archive
from data.synthesis import plan as plan_lib

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
NUM_TRAIN, NUM_DEV = 6, 3
ALLOWED = set("abcdefghijklmnopqrstuvwxyz' ")


def _tools():
  try:
    return sample_corpus.find_tools()
  except sample_corpus.MissingDependencyError as e:
    pytest.fail(str(e))


def _build(data_dir, seed=1, num_dev=NUM_DEV):
  _tools()
  return sample_corpus.build_corpus(str(data_dir), NUM_TRAIN, num_dev, seed,
                                    num_workers=2)


def _transcripts(data_dir, subset):
  """utterance id -> transcript from the .trans.txt files, and their paths."""
  texts, flacs = {}, {}
  root = os.path.join(str(data_dir), "LibriSpeech", subset)
  for dirpath, _, files in os.walk(root):
    for name in files:
      if name.endswith(".trans.txt"):
        with open(os.path.join(dirpath, name)) as f:
          for line in f:
            uid, text = line.rstrip("\n").split(" ", 1)
            texts[uid] = text
            flacs[uid] = os.path.join(dirpath, uid + ".flac")
  return texts, flacs


def _files(data_dir):
  root = str(data_dir)
  return sorted(os.path.relpath(os.path.join(d, n), root)
                for d, _, names in os.walk(root) for n in names)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
  data_dir = tmp_path_factory.mktemp("sample") / "corpus"
  summary = _build(data_dir)
  return data_dir, summary


def test_missing_engine_is_one_clear_message(tmp_path):
  bin_dir = tmp_path / "bin"
  bin_dir.mkdir()
  for tool in ("festival", "espeak-ng", "sox"):
    found = shutil.which(tool)
    if found:
      os.symlink(found, bin_dir / tool)
  with pytest.raises(sample_corpus.MissingDependencyError,
                     match="apt-get install -y flite"):
    sample_corpus.find_tools(str(bin_dir))
  proc = subprocess.run(
      [sys.executable, os.path.join(REPO, "data", "sample_corpus.py"),
       "--data_dir=%s" % (tmp_path / "out"), "--num_train=2", "--num_dev=1"],
      env=dict(os.environ, PATH=str(bin_dir)), cwd=str(tmp_path),
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
  assert proc.returncode == 1
  assert "apt-get install -y flite" in proc.stderr
  assert "Traceback" not in proc.stderr
  assert not (tmp_path / "out").exists()


# --- The corpus ---------------------------------------------------------------

def test_layout_audio_and_transcripts(corpus):
  data_dir, summary = corpus
  assert summary["synthesized"] == NUM_TRAIN + NUM_DEV
  plan = plan_lib.read_json(str(data_dir / plan_lib.PLAN_FILE))["plan"]
  for subset, count in (("sample-train", NUM_TRAIN), ("sample-dev", NUM_DEV)):
    texts, flacs = _transcripts(data_dir, subset)
    assert len(texts) == count
    planned = {u[0]: u[1] for c in plan[subset] for u in c["utterances"]}
    assert {uid: t.lower() for uid, t in texts.items()} == planned
    for uid, text in texts.items():
      spk, chap, utt = uid.split("-")
      assert flacs[uid] == os.path.join(str(data_dir), "LibriSpeech", subset,
                                        spk, chap, uid + ".flac")
      assert len(utt) == 4 and text == text.upper()
      assert set(text.lower()) <= ALLOWED and 3 <= len(text.split()) <= 12
      info = soundfile.info(flacs[uid])
      assert (info.format, info.samplerate, info.channels) == ("FLAC", 16000, 1)
      audio, _ = soundfile.read(flacs[uid])
      assert 0.8 < len(audio) / 16000 < 10.0
      assert np.sqrt(np.mean(audio ** 2)) > 0.01
  train, _ = _transcripts(data_dir, "sample-train")
  dev, _ = _transcripts(data_dir, "sample-dev")
  assert not set(train.values()) & set(dev.values())
  assert not ({u.split("-")[0] for u in train} &
              {u.split("-")[0] for u in dev})
  leftovers = [f for f in _files(data_dir) if f.endswith(".tmp")]
  assert not leftovers


def test_archives_and_md5sum(corpus, tmp_path):
  data_dir, summary = corpus
  with open(data_dir / "md5sum.txt") as f:
    lines = f.read().splitlines()
  assert len(lines) == 2
  for line in lines:
    digest, name = line.split("  ")
    with open(data_dir / name, "rb") as f:
      assert hashlib.md5(f.read()).hexdigest() == digest
    assert summary["archives"][name] == digest
  for subset in plan_lib.SUBSETS:
    with tarfile.open(data_dir / (subset + ".tar.gz")) as tar:
      names = tar.getnames()
      tar.extractall(tmp_path / subset)
    assert all(n == "LibriSpeech" or n.startswith("LibriSpeech/")
               for n in names)
    assert "LibriSpeech/SPEAKERS.TXT" in names
    extracted, _ = _transcripts(tmp_path / subset, subset)
    assert extracted == _transcripts(data_dir, subset)[0]


def test_download_py_fetches_and_converts_the_archives(corpus, tmp_path):
  data_dir, _ = corpus
  config = steps.DownloadConfig(
      base_url=data_dir.as_uri(),
      checksums=fetch.read_checksum_file(
          str(data_dir / "md5sum.txt")),
      skip_checksum=False, keep_archives=True, num_workers=2,
      show_progress=False)
  manifests = librispeech.prepare_librispeech(
      str(tmp_path), list(plan_lib.SUBSETS), config)
  for subset, manifest in zip(plan_lib.SUBSETS, manifests):
    with open(manifest) as f:
      rows = f.read().splitlines()[1:]
    texts, _ = _transcripts(data_dir, subset)
    assert sorted(r.split("\t")[2] for r in rows) == sorted(
        t.lower() for t in texts.values())


def test_same_seed_same_corpus_other_seed_differs(corpus, tmp_path):
  data_dir, _ = corpus
  again = tmp_path / "again"
  _build(again)
  assert _files(again) == _files(data_dir)
  for subset in plan_lib.SUBSETS:
    texts, flacs = _transcripts(data_dir, subset)
    texts2, flacs2 = _transcripts(again, subset)
    assert texts == texts2
    # The engines, sox (in float) and the seeded noise are deterministic.
    for uid in texts:
      np.testing.assert_array_equal(soundfile.read(flacs[uid])[0],
                                    soundfile.read(flacs2[uid])[0])
  assert (again / "md5sum.txt").read_text() == (
      data_dir / "md5sum.txt").read_text()
  other = tmp_path / "other"
  _build(other, seed=2)
  for subset in plan_lib.SUBSETS:
    assert (set(_transcripts(other, subset)[0].values()) !=
            set(_transcripts(data_dir, subset)[0].values()))


def test_rerun_skips_and_resumes(corpus, tmp_path):
  data_dir = tmp_path / "copy"
  shutil.copytree(corpus[0], data_dir)
  mtimes = {f: os.path.getmtime(data_dir / f) for f in _files(data_dir)}
  summary = _build(data_dir)
  assert summary["skipped"] and summary["synthesized"] == 0
  assert {f: os.path.getmtime(data_dir / f) for f in _files(data_dir)} == mtimes

  # An interrupted run: one utterance and the completion marker are gone.
  _, flacs = _transcripts(data_dir, "sample-train")
  victim = sorted(flacs.values())[0]
  os.remove(victim)
  os.remove(data_dir / sample_corpus.MANIFEST_FILE)
  md5sums = (data_dir / "md5sum.txt").read_text()
  summary = _build(data_dir)
  assert not summary["skipped"]
  assert summary["synthesized"] == 1 and summary["reused"] == 8
  assert os.path.isfile(victim)
  assert (data_dir / "md5sum.txt").read_text() == md5sums

  # A new dev size re-plans dev only; nothing stale is left behind.
  train_dir = data_dir / "LibriSpeech" / "sample-train"
  train_mtimes = {f: os.path.getmtime(train_dir / f) for f in _files(train_dir)
                  if f.endswith(".flac")}
  summary = _build(data_dir, num_dev=NUM_DEV + 1)
  assert summary["reused"] >= NUM_TRAIN and summary["synthesized"] >= 1
  assert summary["reused"] + summary["synthesized"] == NUM_TRAIN + NUM_DEV + 1
  assert {f: os.path.getmtime(train_dir / f) for f in train_mtimes} == (
      train_mtimes)
  dev, dev_flacs = _transcripts(data_dir, "sample-dev")
  on_disk = [f for f in _files(data_dir / "LibriSpeech" / "sample-dev")
             if f.endswith(".flac")]
  assert len(dev) == len(on_disk) == NUM_DEV + 1
  assert all(os.path.isfile(p) for p in dev_flacs.values())


def test_archive_is_byte_reproducible(corpus, tmp_path):
  data_dir, _ = corpus
  extra = {"README.TXT": "x\n"}
  paths = [str(tmp_path / ("%d.tar.gz" % i)) for i in range(2)]
  for path in paths:
    archive.write_archive(path, str(data_dir / "LibriSpeech"),
                          "sample-dev", extra)
  assert archive.md5_file(paths[0]) == archive.md5_file(paths[1])

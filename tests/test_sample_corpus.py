"""Tests for data/sample_corpus.py and its helpers (sample_text, sample_voices,
sample_plan, sample_archive).

The corpus tests are real: flite, festival, espeak-ng and sox synthesize a
handful of utterances from the Debian text packages, and data/download.py
fetches the archives from a file:// URL. Missing packages fail the tests with
the generator's own apt-get line rather than skipping them, so CI cannot pass
without exercising the engines.
"""

import collections
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tarfile

import numpy as np
import pytest
import soundfile

from data import download
from data import download_fetch
from data import sample_archive
from data import sample_corpus
from data import sample_plan
from data import sample_text
from data import sample_voices

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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


# --- Text normalization -----------------------------------------------------

@pytest.mark.parametrize("n, words", [
    (0, "zero"), (7, "seven"), (13, "thirteen"), (40, "forty"),
    (101, "one hundred one"), (2041, "two thousand forty one"),
    (1000000, "one million"),
    (123456789, "one hundred twenty three million four hundred fifty six "
                "thousand seven hundred eighty nine")])
def test_cardinal_words(n, words):
  assert sample_text.cardinal_words(n) == words


def test_ordinals_and_years():
  assert sample_text.ordinal_words(1) == "first"
  assert sample_text.ordinal_words(22) == "twenty second"
  assert sample_text.ordinal_words(40) == "fortieth"
  assert sample_text.ordinal_words(100) == "one hundredth"
  assert sample_text.number_words("1984") == "nineteen eighty four"
  assert sample_text.number_words("1900") == "nineteen hundred"
  assert sample_text.number_words("1905") == "nineteen oh five"
  assert sample_text.number_words("2005") == "two thousand five"
  assert sample_text.number_words("007") == "zero zero seven"


@pytest.mark.parametrize("raw, expected", [
    ("It cost $5, or 10% of 1,200!",
     "it cost five dollars or ten percent of one thousand two hundred"),
    ("In 1,200 or 1200 AD", "in one thousand two hundred or twelve hundred ad"),
    ("Mr. Smith came 2nd in 1984.",
     "mister smith came second in nineteen eighty four"),
    ("\u201cDon't\u201d say it\u2014ever.", "don't say it ever"),
    ("A well-known 'quote' here", "a well known quote here"),
    ("pi is 3.14 or so", "pi is three point one four or so"),
    ("Meet me at 10:30 today", None),     # Times are ambiguous to read.
    ("Half is 1/2 of it", None),
    ("The U.S.A. is big", None),          # Initialisms get spelled out.
    ("Q: what is it", None),              # Stray single letters.
    ("see chapter 5 etc", None),          # Abbreviations.
    ("mail me @ home now", None),         # Symbols.
    ("too short", None),
    ("one two three four five six seven eight nine ten eleven twelve "
     "thirteen", None)])
def test_normalize_sentence(raw, expected):
  assert sample_text.normalize_sentence(raw) == expected


def test_dictionary_filter_and_sentence_split():
  words = {"the", "cat", "sat", "down"}
  assert sample_text.normalize_sentence("The cat sat down.", words) == (
      "the cat sat down")
  assert sample_text.normalize_sentence("The cat sat on NASA.", words) is None
  assert sample_text.split_sentences(
      "Mr. Jones left.  He said bye! Then\n  he went? Yes") == [
          "mister Jones left.", "He said bye!", "Then he went?", "Yes"]


def test_sentence_pool_is_large_and_in_vocabulary():
  missing = sample_text.missing_text_packages()
  if missing:
    pytest.fail("apt-get install -y " + " ".join(missing))
  sentences = sample_text.load_sentences()
  # Tens of thousands of distinct sentences keep a model from memorizing.
  assert len(sentences) > 30000
  assert sentences == sorted(set(sentences))
  for sentence in sentences[::97]:
    assert set(sentence) <= ALLOWED
    assert 3 <= len(sentence.split()) <= 12


def test_restrict_vocabulary_keeps_sentences_of_frequent_words():
  sentences = ["the cat sat", "the dog sat", "the cat ran", "a zebra sat"]
  # Counts: the 3, sat 3, cat 2, then a, dog, ran, zebra once each (ties
  # ranked alphabetically).
  assert sample_text.restrict_vocabulary(sentences, 3) == ["the cat sat"]
  assert sample_text.restrict_vocabulary(sentences, 6) == [
      "the cat sat", "the dog sat", "the cat ran"]
  assert sample_text.restrict_vocabulary(sentences, 0) == sentences


def test_missing_text_packages_are_named(tmp_path):
  present = tmp_path / "words"
  present.write_text("cat\n")
  assert sample_text.missing_text_packages(
      {"pkg-a": (str(present), str(tmp_path / "absent")),
       "pkg-b": (str(present),)}) == ["pkg-a"]


# --- Speakers and plan --------------------------------------------------------

def test_voice_weights_favor_intelligible_voices():
  voices = sample_voices.assign_voices(190, random.Random(0))
  counts = collections.Counter(v.key for v in voices)
  assert counts["flite-rms"] == 40 and counts["espeak-ng"] == 20
  # A handful of speakers still gets the most intelligible voices.
  few = {v.key for v in sample_voices.assign_voices(3, random.Random(0))}
  assert few == {"flite-rms", "flite-kal16", "festival-slt-hts"}


def _fake_sentences(n=500):
  return sorted("sentence number %s here" % sample_text.cardinal_words(i)
                for i in range(n))


def test_plan_is_disjoint_and_deterministic():
  sentences = _fake_sentences()
  plan = sample_plan.plan_corpus(sentences, 60, 20, seed=3)
  assert plan == sample_plan.plan_corpus(sentences, 60, 20, seed=3)
  assert plan != sample_plan.plan_corpus(sentences, 60, 20, seed=4)
  texts = {s: [u[1] for c in plan[s] for u in c["utterances"]]
           for s in sample_plan.SUBSETS}
  speakers = {s: {c["speaker"][0] for c in plan[s]}
              for s in sample_plan.SUBSETS}
  assert len(texts["sample-train"]) == 60 and len(texts["sample-dev"]) == 20
  assert not set(texts["sample-train"]) & set(texts["sample-dev"])
  assert len(set(texts["sample-train"])) == 60
  assert not speakers["sample-train"] & speakers["sample-dev"]
  assert len(speakers["sample-train"]) == 4 and len(speakers["sample-dev"]) == 4
  # The dev set stays the same when only the training set grows.
  bigger = sample_plan.plan_corpus(sentences, 300, 20, seed=3)
  assert bigger["sample-dev"] == plan["sample-dev"]
  with pytest.raises(ValueError, match="only 500 distinct"):
    sample_plan.plan_corpus(sentences, 490, 20, seed=3)


def test_extra_training_sentences_come_after_the_pool():
  sentences = _fake_sentences()
  extra = sorted(set(sentences[:100] + ["more words number %d" % i
                                        for i in range(200)]))
  base = sample_plan.plan_corpus(sentences, 480, 20, seed=3)
  wider = sample_plan.plan_corpus(sentences, 600, 20, seed=3,
                                  extra_train=extra)
  texts = lambda plan, s: [u[1] for c in plan[s] for u in c["utterances"]]
  # Dev is unchanged; training takes the whole pool, then 120 new ones.
  assert wider["sample-dev"] == base["sample-dev"]
  train = texts(wider, "sample-train")
  assert len(train) == len(set(train)) == 600
  assert set(texts(base, "sample-train")) < set(train)
  assert not set(train) & set(texts(wider, "sample-dev"))
  assert sum(t.startswith("more words") for t in train) == 120
  with pytest.raises(ValueError, match="only 700 distinct"):
    sample_plan.plan_corpus(sentences, 690, 20, seed=3, extra_train=extra)
  # Dev never draws on the extra sentences.
  with pytest.raises(ValueError, match="600 dev sentences but only 500"):
    sample_plan.plan_corpus(sentences, 10, 600, seed=3, extra_train=extra)


# --- Engines ------------------------------------------------------------------

@pytest.mark.parametrize("voice", sample_voices.VOICES, ids=lambda v: v.key)
def test_every_voice_speaks(voice, tmp_path):
  tools = _tools()
  rng = random.Random(7)
  speaker = sample_voices.make_speaker(1, voice, rng)
  path = str(tmp_path / "u.flac")
  sample_voices.synthesize_chapter(
      speaker, [(path, "the cat sat on the warm mat", sample_voices.make_style(
          rng))], tools)
  audio, rate = soundfile.read(path)
  assert rate == 16000 and audio.ndim == 1
  assert 1.0 < len(audio) / rate < 5.0
  # Speech is far louder than the noise floor at the edges.
  frames = audio[:len(audio) // 400 * 400].reshape(-1, 400)
  energy = np.sqrt((frames ** 2).mean(axis=1))
  assert 20 * np.log10(energy.max() / np.percentile(energy, 5)) > 25


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
  plan = sample_plan.read_json(str(data_dir / sample_plan.PLAN_FILE))["plan"]
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
  for subset in sample_plan.SUBSETS:
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
  config = download.DownloadConfig(
      base_url=data_dir.as_uri(),
      checksums=download_fetch.read_checksum_file(
          str(data_dir / "md5sum.txt")),
      skip_checksum=False, keep_archives=True, num_workers=2,
      show_progress=False)
  manifests = download.prepare_librispeech(
      str(tmp_path), list(sample_plan.SUBSETS), config)
  for subset, manifest in zip(sample_plan.SUBSETS, manifests):
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
  for subset in sample_plan.SUBSETS:
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
  for subset in sample_plan.SUBSETS:
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
    sample_archive.write_archive(path, str(data_dir / "LibriSpeech"),
                                 "sample-dev", extra)
  assert sample_archive.md5_file(paths[0]) == sample_archive.md5_file(paths[1])

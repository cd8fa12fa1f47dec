"""The plan of the sample corpus: which speaker says which sentence, how.

`plan_corpus` turns a seed into every decision the corpus depends on, as
plain JSON-able lists; synthesis (`data/synthesis/voices.py`) only executes it.
`reconcile` compares a new plan with the one recorded by the previous run to
decide which finished FLAC files can be reused.
"""

import json
import math
import os
import random

from common import atomic_file
from data.synthesis import archive
from data.synthesis import text as text_lib
from data.synthesis import voices

TRAIN, DEV = "sample-train", "sample-dev"
SUBSETS = (TRAIN, DEV)
# Bump when a change alters the audio or text for the same seed, so that
# older corpora are rebuilt rather than reused.
GENERATOR_VERSION = 1
UTTERANCES_PER_SPEAKER = {TRAIN: 25, DEV: 10}
MIN_SPEAKERS = 4
CHAPTER_SIZE = 25
# Speaker id ranges keep the subsets' speakers apart by construction.
SPEAKER_ID_BASE = {TRAIN: 1000, DEV: 5000}
MAX_SPEAKERS = 4000
PLAN_FILE = "sample_corpus.plan.json"


def corpus_config(num_train, num_dev, seed, vocab_size=0,
                  train_vocab_size=None):
  """Everything that determines the corpus, as a JSON-comparable dict.

  The sizes of the text files stand in for their package versions: cheap
  to read on every run, and a different text pool changes the plan.
  """
  text_files = [p for paths in text_lib.TEXT_PACKAGES.values()
                for p in paths]
  sizes = {p: os.path.getsize(p) if os.path.isfile(p) else None
           for p in text_files}
  config = {"generator": GENERATOR_VERSION, "seed": seed,
            "num_train": num_train, "num_dev": num_dev,
            "vocab_size": vocab_size, "subsets": list(SUBSETS),
            "text_files": sizes}
  if train_vocab_size is not None and train_vocab_size != vocab_size:
    config["train_vocab_size"] = train_vocab_size
  return config


def _num_speakers(subset, num_utterances):
  wanted = math.ceil(num_utterances / UTTERANCES_PER_SPEAKER[subset])
  return min(num_utterances, MAX_SPEAKERS, max(MIN_SPEAKERS, wanted))


def plan_corpus(sentences, num_train, num_dev, seed, extra_train=()):
  """Decides every utterance: text, speaker, chapter and variation.

  Dev takes sentences from the front of the shuffled pool and train from the
  back, so the two never overlap and each subset's sentences do not move
  when the other subset's size changes. Training sentences beyond the pool
  come from `extra_train`, shuffled, after all of the pool's.

  Args:
    sentences: list of normalized sentences (sorted, unique).
    num_train, num_dev: int utterance counts.
    seed: int.
    extra_train: more sentences (sorted, unique) that only training may
      use, for example those of a larger vocabulary; the pool's own are
      ignored here.

  Returns:
    dict subset -> list of chapters; a chapter is a dict with "speaker"
    (`Speaker` fields as a list), "chapter" (int) and "utterances" (list of
    [utterance_id, text, `UtteranceStyle` fields as a list]).

  Raises:
    ValueError: when the pool has fewer sentences than requested.
  """
  in_pool = set(sentences)
  extra = [t for t in extra_train if t not in in_pool]
  if num_train + num_dev > len(sentences) + len(extra):
    raise ValueError("asked for %d sentences but only %d distinct ones are "
                     "available" % (num_train + num_dev,
                                    len(sentences) + len(extra)))
  if num_dev > len(sentences):
    raise ValueError("asked for %d dev sentences but only %d are available"
                     % (num_dev, len(sentences)))
  pool = list(sentences)
  random.Random("sample-corpus:%d" % seed).shuffle(pool)
  random.Random("sample-corpus:%d:extra" % seed).shuffle(extra)
  train_order = pool[::-1][:len(pool) - num_dev] + extra
  texts = {DEV: pool[:num_dev], TRAIN: train_order[:num_train]}
  plan = {}
  for subset in SUBSETS:
    # String seeds hash with SHA-512, independent of PYTHONHASHSEED.
    rng = random.Random("sample-corpus:%d:%s" % (seed, subset))
    subset_texts = texts[subset]
    num_speakers = _num_speakers(subset, len(subset_texts))
    subset_voices = voices.assign_voices(num_speakers, rng)
    per_speaker, extra = divmod(len(subset_texts), num_speakers)
    chapters, start = [], 0
    for i, voice in enumerate(subset_voices):
      speaker = voices.make_speaker(
          SPEAKER_ID_BASE[subset] + i, voice, rng)
      count = per_speaker + (1 if i < extra else 0)
      own = subset_texts[start:start + count]
      start += count
      for c in range(0, len(own), CHAPTER_SIZE):
        chapter = speaker.id * 100 + c // CHAPTER_SIZE
        chapters.append({
            "speaker": list(speaker), "chapter": chapter,
            "utterances": [
                ["%d-%d-%04d" % (speaker.id, chapter, u), text,
                 list(voices.make_style(rng))]
                for u, text in enumerate(own[c:c + CHAPTER_SIZE])]})
    plan[subset] = chapters
  return plan


def chapter_dir(corpus_root, subset, chapter):
  """`<corpus_root>/<subset>/<spk>/<chap>` for a plan chapter."""
  return os.path.join(corpus_root, subset, str(chapter["speaker"][0]),
                      str(chapter["chapter"]))


def utterance_entries(plan):
  """Maps utterance id -> its full plan entry (what must match to reuse)."""
  return {u[0]: [subset, c["speaker"], c["chapter"], u[1], u[2]]
          for subset, chapters in plan.items() for c in chapters
          for u in c["utterances"]}


def read_json(path):
  try:
    with open(path, encoding="utf-8") as f:
      return json.load(f)
  except (OSError, ValueError):
    return None


def reconcile(data_dir, plan):
  """Deletes everything the new plan cannot reuse, then records the plan.

  An existing FLAC is trusted only if the previously recorded plan gave it
  the same entry and the same GENERATOR_VERSION made it; the plan is
  recorded before any synthesis starts, so every file on disk was made from
  the recorded plan.

  Returns:
    set of utterance ids whose FLAC can be reused.
  """
  corpus_root = os.path.join(data_dir, archive.ARCHIVE_ROOT)
  new = utterance_entries(plan)
  recorded = read_json(os.path.join(data_dir, PLAN_FILE)) or {}
  old = recorded.get("plan")
  # Plans recorded before the version was stored are version 1's.
  if recorded.get("generator", 1) != GENERATOR_VERSION:
    old = None
  old = utterance_entries(old) if old else {}
  expected = {}
  for subset, chapters in plan.items():
    for c in chapters:
      for u in c["utterances"]:
        expected[os.path.join(chapter_dir(corpus_root, subset, c),
                              u[0] + ".flac")] = u[0]
  reusable = set()
  for subset in SUBSETS:
    for root, _, files in os.walk(os.path.join(corpus_root, subset),
                                  topdown=False):
      for name in files:
        path = os.path.join(root, name)
        uid = expected.get(path)
        if uid is not None and old.get(uid) == new[uid]:
          reusable.add(uid)
        else:
          os.remove(path)  # Stale audio, partial temp files, transcripts.
      if not os.listdir(root):
        os.rmdir(root)
  atomic_file.write_text(
      os.path.join(data_dir, PLAN_FILE),
      json.dumps({"generator": GENERATOR_VERSION, "plan": plan}))
  return reusable


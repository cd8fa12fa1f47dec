"""Tests for data/synthesis/plan.py: disjoint, deterministic plans."""

import json
import os

import pytest

from data.synthesis import plan as plan_lib
from data.synthesis import text as text_lib


def _fake_sentences(n=500):
  return sorted("sentence number %s here" % text_lib.cardinal_words(i)
                for i in range(n))


def test_plan_is_disjoint_and_deterministic():
  sentences = _fake_sentences()
  plan = plan_lib.plan_corpus(sentences, 60, 20, seed=3)
  assert plan == plan_lib.plan_corpus(sentences, 60, 20, seed=3)
  assert plan != plan_lib.plan_corpus(sentences, 60, 20, seed=4)
  texts = {s: [u[1] for c in plan[s] for u in c["utterances"]]
           for s in plan_lib.SUBSETS}
  speakers = {s: {c["speaker"][0] for c in plan[s]}
              for s in plan_lib.SUBSETS}
  assert len(texts["sample-train"]) == 60 and len(texts["sample-dev"]) == 20
  assert not set(texts["sample-train"]) & set(texts["sample-dev"])
  assert len(set(texts["sample-train"])) == 60
  assert not speakers["sample-train"] & speakers["sample-dev"]
  assert len(speakers["sample-train"]) == 4 and len(speakers["sample-dev"]) == 4
  # The dev set stays the same when only the training set grows.
  bigger = plan_lib.plan_corpus(sentences, 300, 20, seed=3)
  assert bigger["sample-dev"] == plan["sample-dev"]
  with pytest.raises(ValueError, match="only 500 distinct"):
    plan_lib.plan_corpus(sentences, 490, 20, seed=3)


def test_extra_training_sentences_come_after_the_pool():
  sentences = _fake_sentences()
  extra = sorted(set(sentences[:100] + ["more words number %d" % i
                                        for i in range(200)]))
  base = plan_lib.plan_corpus(sentences, 480, 20, seed=3)
  wider = plan_lib.plan_corpus(sentences, 600, 20, seed=3,
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
    plan_lib.plan_corpus(sentences, 690, 20, seed=3, extra_train=extra)
  # Dev never draws on the extra sentences.
  with pytest.raises(ValueError, match="600 dev sentences but only 500"):
    plan_lib.plan_corpus(sentences, 10, 600, seed=3, extra_train=extra)


def test_reconcile_reuses_audio_of_this_generator_version_only(tmp_path):
  plan = plan_lib.plan_corpus(_fake_sentences(), 8, 4, seed=3)
  root = str(tmp_path / "LibriSpeech")

  def make_audio():
    paths = []
    for subset, chapters in plan.items():
      for c in chapters:
        out_dir = plan_lib.chapter_dir(root, subset, c)
        os.makedirs(out_dir, exist_ok=True)
        for u in c["utterances"]:
          paths.append(os.path.join(out_dir, u[0] + ".flac"))
          with open(paths[-1], "wb") as f:
            f.write(b"audio")
    return paths

  assert plan_lib.reconcile(str(tmp_path), plan) == set()
  paths = make_audio()
  assert len(plan_lib.reconcile(str(tmp_path), plan)) == len(paths) == 12
  plan_file = tmp_path / plan_lib.PLAN_FILE
  assert json.loads(plan_file.read_text())["generator"] == (
      plan_lib.GENERATOR_VERSION)
  # Plans written before the version was recorded are version 1's.
  plan_file.write_text(json.dumps({"plan": plan}))
  assert len(plan_lib.reconcile(str(tmp_path), plan)) == (
      12 if plan_lib.GENERATOR_VERSION == 1 else 0)
  # A plan recorded by another generator version: same entries, but that
  # audio was made another way, so it is all synthesized again.
  plan_file.write_text(json.dumps({
      "generator": plan_lib.GENERATOR_VERSION + 1, "plan": plan}))
  assert plan_lib.reconcile(str(tmp_path), plan) == set()
  assert not any(os.path.exists(p) for p in paths)
  assert json.loads(plan_file.read_text())["generator"] == (
      plan_lib.GENERATOR_VERSION)

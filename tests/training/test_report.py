"""Tests for training/report.py: the evaluation report, built and written."""

import collections
import json
import os

from rapidfuzz.distance import Levenshtein

from decoding import scoring
from training import report

Entry = collections.namedtuple("Entry", ["wav_filename", "transcript"])
TARGETS = ["the cat sat", "a dog ran far", "red sun", "blue tree"]
DECODED = ["the cat sat", "a dg ran", "red sun sun", "bleu"]


def _results(texts):
  results = scoring.compute_error_rates(texts, TARGETS)
  return dict(results, decoded=texts, decoder="greedy")


def test_report_ranks_utterances_and_its_counts_are_edit_distances(
    tmp_path):
  entries = [Entry("/a/%d.wav" % i, t) for i, t in enumerate(TARGETS)]
  greedy = _results(DECODED)
  beam = dict(_results(TARGETS), decoder="beam")
  eval_results = dict(greedy, targets=TARGETS,
                      decoders={"greedy": greedy, "beam": beam})
  built = report.build_report(eval_results, entries, None, global_step=12,
                              checkpoint="/m/model.ckpt-12",
                              eval_data="/d/dev.csv", cycle=3)
  section = built["decoders"]["greedy"]
  assert section["WER"] == greedy["WER"]
  words = section["words"]
  assert words["errors"] == sum(Levenshtein.distance(h.split(), r.split())
                                for h, r in zip(DECODED, TARGETS))
  assert (words["substitutions"], words["deletions"],
          words["insertions"]) == (2, 2, 1)
  assert section["best"]["wav_filename"] == "/a/0.wav"
  assert section["worst"]["prediction"] == "bleu"
  assert section["worst"]["WER"] == 1.0
  # Two utterances at WER 0.5: the lower CER (5/13 < 4/7) ranks first, and
  # the median of four is the lower middle one.
  assert section["median"]["reference"] == "a dog ran far"
  assert built["decoders"]["beam"]["words"]["errors"] == 0
  path = report.write_report(str(tmp_path), built)
  assert path == os.path.join(str(tmp_path), "eval", "report-step-12.json")
  with open(os.path.join(str(tmp_path), "eval", "latest.json")) as f:
    assert json.load(f) == built
  assert report.eval_only_name(12, "/d/dev-clean.csv") == (
      "report-step-12-dev-clean.json")


def test_report_holds_each_extra_set_beside_the_dev_set():
  entries = [Entry("/a/%d.wav" % i, t) for i, t in enumerate(TARGETS)]
  greedy = _results(DECODED)
  dev = dict(greedy, targets=TARGETS, decoders={"greedy": greedy})
  real_texts = list(reversed(TARGETS))
  real = _results(real_texts)
  extra = dict(real, targets=TARGETS, decoders={"greedy": real})
  built = report.build_report(
      dev, entries, None, global_step=12, checkpoint="/m/model.ckpt-12",
      eval_data="/d/dev.csv", extra_sets={
          "uqm-dev": (extra, entries, "/d/uqm.csv")})
  assert built["decoders"] == report.build_report(
      dev, entries, None, 12, "/m/model.ckpt-12", "/d/dev.csv")["decoders"]
  section = built["extra_eval"]["uqm-dev"]
  assert (section["eval_data"], section["utterances"]) == ("/d/uqm.csv", 4)
  greedy_section = section["decoders"]["greedy"]
  assert greedy_section["WER"] == real["WER"] != greedy["WER"]
  assert greedy_section["words"]["errors"] == sum(
      Levenshtein.distance(h.split(), r.split())
      for h, r in zip(real_texts, TARGETS))
  # No extra sets: no "extra_eval" key, as before.
  assert "extra_eval" not in report.build_report(
      dev, entries, None, 12, "/m/model.ckpt-12", "/d/dev.csv",
      extra_sets={})

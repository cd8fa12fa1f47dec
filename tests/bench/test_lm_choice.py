"""Smoke test for bench/lm_choice.py: a word and a character LM tuned and
scored on a tiny export's own utterances; the last line is the JSON."""

import os

import pytest

from decoding import char_lm
from decoding import lm
from tests.helpers import bench as bench_run
from tests.helpers import lm_text
from tests.helpers import tiny_model


@pytest.mark.slow
def test_lm_choice_bench(tmp_path):
  _, export_dir = tiny_model.build(str(tmp_path), steps=1, num_utts=2)
  manifest = os.path.join(str(tmp_path), "corpus", "train.csv")
  word, chars = str(tmp_path / "word.arpa"), str(tmp_path / "char.arpa")
  lm.build_arpa(lm_text.SENTENCES, 2, word)
  lm.build_arpa([char_lm.to_units(s) for s in lm_text.SENTENCES], 4, chars)
  cache = tmp_path / "outputs"
  args = ["--saved_model=" + export_dir, "--tune_manifest=" + manifest,
          "--eval=dev=" + manifest, "--lm=w2=" + word, "--lm=c4=" + chars,
          "--cache_dir=" + str(cache), "--alpha=0.5,1.0,2",
          "--beta=0,1,2", "--beam_width=8", "--processes=1"]
  result = bench_run.run("lm_choice.py", *args, timeout=300)
  figures = result["results"]
  assert set(figures) == {"greedy", "w2", "c4"}
  assert figures["w2"]["kind"] == "word" and figures["c4"]["kind"] == "char"
  for name in ("w2", "c4"):
    assert figures[name]["alpha"] in (0.5, 1.0)
    assert figures[name]["beta"] in (0.0, 1.0)
    assert figures[name]["eval"]["dev"]["cer"] >= 0
  assert figures["greedy"]["dev"]["wer"] >= 0
  assert sorted(os.listdir(cache)) == ["dev.npz", "tune.npz"]
  # A second run reads the cached outputs and gives the same figures.
  assert bench_run.run("lm_choice.py", *args, timeout=300)["results"] == (
      figures)

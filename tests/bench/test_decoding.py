"""Smoke tests for bench/decoding.py: it runs in a tiny mode and its last line is
the documented JSON (speed is measured by the script, never asserted here)."""

import pytest

from tests.helpers import bench as bench_run


@pytest.mark.slow
def test_decoding_bench():
  result = bench_run.run("decoding.py", "--utts", "4", "--processes", "1",
                "--beam_width", "16", timeout=300)
  assert result["utts"] == 4 and result["beam_width"] == 16
  assert 12 <= result["mean_audio_s"] <= 16
  assert set(result["results"]) == {"greedy", "beam", "beam+lm",
                                    "beam+lm+lexicon"}
  for figures in result["results"].values():
    assert figures["utt_per_s"] > 0
    assert 0 <= figures["corpus_CER"] <= figures["corpus_WER"] <= 1
  # The synthetic errors are what an LM repairs.
  assert (result["results"]["beam+lm"]["corpus_WER"] <
          result["results"]["greedy"]["corpus_WER"])

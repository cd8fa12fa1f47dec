"""Smoke tests for bench/scoring.py: it runs in a tiny mode and its last line is
the documented JSON (speed is measured by the script, never asserted here)."""

from tests.helpers import bench as bench_run


def test_scoring_bench():
  result = bench_run.run("scoring.py", "--utts", "30", "--repeats", "1",
                         "--batch_size", "4")
  assert result["utts"] == 30
  # The original's nltk loop and ours score alike, and decode alike.
  assert result["identical"] and result["decode_identical"]
  # Made-up hypotheses with word and letter errors: error rates in (0, 1).
  for key in ("WER", "CER", "corpus_WER", "corpus_CER"):
    assert 0 < result[key] < 1, key
  assert 5 <= result["mean_ref_words"] <= 35
  for key in ("seed_nltk_s", "ours_s", "decode_seed_s", "decode_ours_s",
              "speedup", "decode_speedup"):
    assert result[key] > 0, key


def test_scoring_bench_scores_a_manifest_s_transcripts(tmp_path):
  manifest = tmp_path / "m.csv"
  manifest.write_text("wav_filename\twav_filesize\ttranscript\n"
                      "/a.wav\t10\tthe cat sat\n/b.wav\t10\t \n"
                      "/c.wav\t10\ta dog ran home\n")
  result = bench_run.run("scoring.py", "--manifest", str(manifest),
                         "--repeats", "1", "--skip_decode")
  assert result["utts"] == 2 and result["identical"]  # the empty one skipped
  assert result["mean_ref_words"] == 3.5
  assert "decode_identical" not in result

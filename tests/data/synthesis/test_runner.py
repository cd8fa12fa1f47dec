"""Tests for data/synthesis/runner.py: batches and parallel synthesis.

festival is real; a missing package fails with the generator's apt-get line.
"""

import random

import numpy as np
import pytest
import soundfile

from data.synthesis import runner
from data.synthesis import voices


def _tools():
  try:
    return voices.find_tools()
  except voices.MissingDependencyError as e:
    pytest.fail(str(e))


def _speaker(speaker_id, engine, voice, rate=1.0, pitch=0):
  return voices.Speaker(speaker_id, engine, voice, "M", rate, pitch)


def test_festival_chapters_of_one_voice_share_a_batch():
  kal = [(_speaker(i, "festival", "kal_diphone"), [None] * 25)
         for i in range(6)]
  hts = [(_speaker(10 + i, "festival", "cmu_us_slt_arctic_hts"), [None] * 10)
         for i in range(2)]
  flite = [(_speaker(20 + i, "flite", "rms"), [None] * 25) for i in range(2)]
  jobs = [kal[0], flite[0], hts[0], kal[1], kal[2], kal[3], kal[4], hts[1],
          flite[1], kal[5]]
  batches = runner.batch_jobs(jobs)
  assert batches == [kal[:4], [flite[0]], hts, kal[4:], [flite[1]]]
  # Every chapter exactly once; none larger than the limit.
  assert sorted(j[0].id for b in batches for j in b) == sorted(
      j[0].id for j in jobs)
  assert runner.batch_jobs(jobs, festival_batch=10)[0] == [kal[0]]


@pytest.mark.parametrize("voice", ["kal_diphone", "cmu_us_slt_arctic_hts"])
def test_a_festival_batch_says_what_each_chapter_says_alone(voice, tmp_path):
  tools = _tools()
  rng = random.Random(3)
  jobs = []
  for i, (rate, text) in enumerate([(1.1, "the cat sat on the warm mat"),
                                    (0.9, "a stitch in time saves nine")]):
    items = [(str(tmp_path / ("%d.flac" % i)), text, voices.make_style(rng))]
    jobs.append((_speaker(i, "festival", voice, rate, 100 * i), items))
  done = []
  runner.synthesize_batch(jobs, tools, on_done=lambda: done.append(1))
  assert len(done) == 2
  together = [soundfile.read(items[0][0])[0] for _, items in jobs]
  for speaker, items in jobs:
    runner.synthesize_batch([(speaker, items)], tools)
    alone, rate = soundfile.read(items[0][0])
    assert rate == voices.SAMPLE_RATE
    np.testing.assert_array_equal(alone, together[speaker.id])
  # The two speakers' stretches differ, so their audio does.
  assert len(together[0]) != len(together[1])


def test_synthesize_chapters_counts_and_reports_the_first_failure(tmp_path):
  tools = _tools()
  rng = random.Random(4)
  jobs = [(_speaker(i, "festival", "kal_diphone", 1.0), [
      (str(tmp_path / ("%d-%d.flac" % (i, j))), "one two three",
       voices.make_style(rng)) for j in range(2)]) for i in range(2)]
  assert runner.synthesize_chapters(jobs, tools, num_workers=2) == 4
  assert len(list(tmp_path.glob("*.flac"))) == 4
  bad = dict(tools, festival="/bin/false")
  with pytest.raises(voices.SynthesisError, match="festival"):
    runner.synthesize_chapters(jobs, bad, num_workers=2)

"""Smoke tests for bench/uqm_voices.py: it runs in a tiny mode and its last line is
the documented JSON (speed is measured by the script, never asserted here)."""

import subprocess

import pytest

from tests.helpers import bench as bench_run


def test_uqm_voices_tells_a_steady_tone_from_noise(tmp_path):
  for race, synth in (("tone", ["sine", "200"]), ("hiss", ["whitenoise"])):
    folder = tmp_path / "3dovoice" / race
    folder.mkdir(parents=True)
    for i in range(2):
      subprocess.run(["sox", "-n", "-r", "11025", "-c", "1",
                      str(folder / ("%s-%03d.ogg" % (race, i))), "synth",
                      "1.0"] + synth + ["vol", "0.3"], check=True)
  result = bench_run.run("uqm_voices.py", "--tree", str(tmp_path), "--clips", "2")
  assert result["clips_per_race"] == 2
  tone, hiss = result["races"]["tone"], result["races"]["hiss"]
  assert tone["voiced"] > 0.95 and hiss["voiced"] < 0.2
  assert tone["f0"] == pytest.approx(200, rel=0.03)
  assert tone["f0_spread"] < 0.02
  assert hiss["flatness"] > 10 * tone["flatness"]
  assert hiss["high"] > 10 * tone["high"]

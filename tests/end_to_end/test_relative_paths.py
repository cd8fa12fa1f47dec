"""Every CLI run from another directory with relative paths, as users type them.

A relative export path once reached the packaged LM joined twice; these runs
keep each CLI honest about relative paths: the manifest checker and tools,
the LM builder, the trainer with its export, the plot and the transcriber.
"""

import json
import os
import subprocess
import sys

from tests import conftest
from tests.helpers.train import TINY

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _run(cwd, script, *args, timeout=600):
  proc = subprocess.run([sys.executable, os.path.join(ROOT, script)] +
                        list(args), cwd=cwd, capture_output=True, text=True,
                        timeout=timeout, check=False)
  assert proc.returncode == 0, (script, proc.stderr[-3000:])
  return proc


def test_the_clis_take_relative_paths_from_another_directory(tmp_path):
  cwd = str(tmp_path)
  manifest = os.path.relpath(conftest.make_corpus(tmp_path / "corpus",
                                                  num_utts=8), cwd)
  _run(cwd, "data/validate.py", manifest)
  _run(cwd, "data/manifest_tool.py", "concat", manifest, manifest,
       "--output=both.csv")
  assert len(open(tmp_path / "both.csv").readlines()) == 17
  stats = _run(cwd, "data/manifest_tool.py", "stats", "both.csv")
  assert "16" in stats.stdout
  _run(cwd, "data/build_lm.py", "--manifest=both.csv", "--order=2",
       "--lm_out=lm/2gram.arpa")
  assert open(tmp_path / "lm" / "2gram.arpa").readline().startswith("\\data")
  _run(cwd, "deep_speech.py", "--train_data_dir=" + manifest,
       "--eval_data_dir=" + manifest, "--model_dir=model",
       "--train_epochs=1", *[f for f in TINY if not f.startswith(
           "--export_dir")], "--export_dir=export", "--decoder=beam",
       "--lm_path=lm/2gram.arpa", "--beam_width=4")
  assert os.listdir(tmp_path / "export")
  plot = _run(cwd, "plot.py", "--model_dir=model")
  assert "wrote model/training_curves.png" in plot.stdout
  assert (tmp_path / "model" / "training_curves.png").stat().st_size > 0
  # The export carries its LM: found from a relative --saved_model, and
  # relative audio paths give relative output names.
  clips = sorted(os.path.join("corpus", n) for n in os.listdir(
      tmp_path / "corpus") if n.endswith(".wav"))[:2]
  _run(cwd, "transcribe.py", "--saved_model=export", "--output_format=json",
       "--output_dir=out", *clips)
  outputs = sorted(os.listdir(tmp_path / "out"))
  assert outputs == sorted(os.path.basename(c)[:-4] + ".json" for c in clips)
  with open(tmp_path / "out" / outputs[0]) as f:
    assert "text" in json.loads(f.readline())
  # With a manifest, the reference/prediction pairs go to standard output.
  pairs = _run(cwd, "transcribe.py", "--saved_model=export",
               "--manifest=" + manifest, "--num=2")
  assert pairs.stdout.count("reference : ") == 2

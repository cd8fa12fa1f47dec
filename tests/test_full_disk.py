"""A full disk while each kind of file is written: one message naming the
path, and nothing half-written left where a later run would trust it.

Each case writes a good file, then tries to replace it in a child process
under a 64 KiB file size limit (RLIMIT_FSIZE: the write fails with EFBIG as
a full disk fails with ENOSPC; SIGXFSZ is ignored so the error is seen).
Checkpoints are covered in tests/training/test_checkpoints.py.
"""

import os
import subprocess
import sys
import textwrap

import pytest

from tests import conftest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIMIT = 65536

# argv[1]: the path the case writes; the case's code follows the limit.
_PRELUDE = textwrap.dedent("""
    import resource, signal, sys
    from common import atomic_file
    %s
    path = sys.argv[1]
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (%d, %d))
    try:
    %s
    except atomic_file.WriteError as e:
      print(e)
      sys.exit(3)
""")


def _write_under_the_limit(path, imports, code):
  script = _PRELUDE % (imports, LIMIT, LIMIT, textwrap.indent(
      textwrap.dedent(code), "  "))
  return subprocess.run([sys.executable, "-c", script, str(path)], cwd=ROOT,
                        capture_output=True, text=True, timeout=300)


def _check(result, path, old_bytes):
  assert result.returncode == 3, result.stdout + result.stderr[-3000:]
  assert result.stdout.strip() == "cannot write %s: the disk is full" % path
  if old_bytes is None:
    assert not os.path.exists(path)
  else:
    with open(path, "rb") as f:
      assert f.read() == old_bytes
  leftovers = [n for n in os.listdir(os.path.dirname(path))
               if n.endswith(".tmp")]
  assert not leftovers


def test_feature_cache_entry(tmp_path):
  path = tmp_path / "ab" / "abcdef.tensor"
  result = _write_under_the_limit(
      path, "from data import feature_cache",
      "feature_cache.write_entry(path.encode(), b'x' * 1000000)")
  _check(result, str(path), None)


def test_skipped_rows_list(tmp_path):
  path = tmp_path / "skipped_train.tsv"
  path.write_text("manifest\tline\treason\tdetail\n")
  result = _write_under_the_limit(
      path, "from data import manifest",
      """
      rows = [manifest.Skipped("/m.csv", i, "bad_size", "x" * 100)
              for i in range(2000)]
      manifest.write_skipped(rows, path)
      """)
  _check(result, str(path), b"manifest\tline\treason\tdetail\n")


def test_converted_corpus_manifest(tmp_path):
  wav = str(tmp_path / "a.wav")
  conftest.write_wav(wav, [0.0] * 1600)
  path = tmp_path / "train.csv"
  old = conftest.write_manifest(path, [(wav, os.path.getsize(wav), "old")])
  with open(old, "rb") as f:
    old_bytes = f.read()
  result = _write_under_the_limit(
      path, "from data.downloading import convert",
      """
      rows = [(%r, "a long transcript " * 5)] * 2000
      convert.write_manifest(path, rows, 2000)
      """ % wav)
  _check(result, str(path), old_bytes)


@pytest.mark.slow
def test_train_state(tmp_path):
  model_dir = tmp_path / "model"
  result = _write_under_the_limit(
      model_dir / "train_state.json", "from training import cycles",
      """
      state = cycles.TrainState.load_or_start(%r, 0, "f")
      state.add_cycle({"cycle": 1, "global_step": 3, "note": "x" * 100000})
      """ % str(model_dir))
  # The fresh record fits under the limit; the finished cycle does not, and
  # the record stays as it was.
  path = str(model_dir / "train_state.json")
  assert result.returncode == 3, result.stderr[-3000:]
  assert result.stdout.strip() == "cannot write %s: the disk is full" % path
  with open(path) as f:
    assert '"cycles": []' in f.read()
  assert os.listdir(str(model_dir)) == ["train_state.json"]


@pytest.mark.slow
def test_export_settings(tmp_path):
  # The settings are written before the SavedModel; a full disk stops the
  # export there, naming the file.
  model_dir = tmp_path / "model"
  model_dir.mkdir()
  path = model_dir / "deep_speech_features.json"
  path.write_text('{"sample_rate": 16000}')
  result = _write_under_the_limit(
      path, "from training import export",
      """
      export.export_model(None, %r, None, {}, %r,
                          {"speech_labels": "x" * 100000}, 161)
      """ % (str(model_dir), str(tmp_path / "export")))
  _check(result, str(path), b'{"sample_rate": 16000}')
  assert not os.path.exists(str(tmp_path / "export"))

"""The import directions docs/development.md promises, read from the source."""

import ast
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT = {"common", "data", "decoder", "decoding", "deep_speech",
           "deep_speech_model", "deep_speech_rnn", "official_utils", "plot",
           "serve", "serving", "training", "transcribe", "transcription",
           "tune_lm"}


def _sources(*names):
  """The project's .py files under `names` (folders or files)."""
  for name in names:
    path = os.path.join(ROOT, name)
    if os.path.isfile(path):
      yield name
      continue
    for folder, _, files in os.walk(path):
      for f in sorted(files):
        if f.endswith(".py"):
          yield os.path.relpath(os.path.join(folder, f), ROOT)


def project_imports(relpath):
  """The top-level project modules `relpath` imports (anywhere in it)."""
  with open(os.path.join(ROOT, relpath), encoding="utf-8") as f:
    tree = ast.parse(f.read(), relpath)
  found = set()
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      found.update(alias.name.split(".")[0] for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.level == 0:
      found.add(node.module.split(".")[0])
  return found & PROJECT


@pytest.mark.parametrize("folder,allowed", [
    ("official_utils", {"official_utils"}),
    ("common", {"common"}),
])
def test_shared_packages_import_nothing_else_from_the_project(folder,
                                                              allowed):
  wrong = {path: sorted(project_imports(path) - allowed)
           for path in _sources(folder)}
  assert not {path: names for path, names in wrong.items() if names}


def test_transcription_does_not_import_the_trainer_cli():
  users = [path for path in _sources("transcription", "serving", "decoding",
                                     "transcribe.py", "serve.py", "tune_lm.py",
                                     "decoder.py", "deep_speech_model.py")
           if "deep_speech" in project_imports(path)]
  assert not users


def test_the_checker_sees_imports_inside_functions(tmp_path, monkeypatch):
  (tmp_path / "m.py").write_text(
      "import os\n\ndef f():\n  import deep_speech\n"
      "  from training import cycles\n")
  monkeypatch.setattr(sys.modules[__name__], "ROOT", str(tmp_path))
  assert project_imports("m.py") == {"deep_speech", "training"}


# Test modules about the project as a whole, not one module of it.
CROSS_CUTTING = {"test_readme.py", "test_layout.py", "test_requirements.py",
                 "test_cli_flags.py", "test_full_disk.py",
                 "data/test_strangers_input.py", "serving/test_page.py"}


def test_every_test_module_mirrors_a_module_of_the_tree():
  """tests/a/b/test_c.py tests a/b/c.py (or .sh, or the package a/b/c/)."""
  unmatched = []
  tests_root = os.path.join(ROOT, "tests")
  for folder, _, files in os.walk(tests_root):
    relative = os.path.relpath(folder, tests_root)
    if relative.split(os.sep)[0] in ("end_to_end", "helpers", "fixtures"):
      continue
    for f in files:
      if not (f.startswith("test_") and f.endswith(".py")):
        continue
      name = os.path.normpath(os.path.join(relative, f))
      stem = os.path.normpath(os.path.join(relative, f[len("test_"):-3]))
      if name in CROSS_CUTTING:
        continue
      if not any(os.path.exists(os.path.join(ROOT, stem + ext))
                 for ext in (".py", ".sh", "")):
        unmatched.append(name)
  assert not unmatched

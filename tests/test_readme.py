"""README.md against the code: its commands, flags, links and size.

The commands are read from README.md's shell blocks when the test runs, so a
CLI or flag that is renamed, moved or removed without the README following
fails here. Each python CLI runs for real with --helpfull (absl) or --help
(argparse), and every --flag the README gives it must appear in that help.
"""

import functools
import os
import re
import shlex
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
DOCS = os.path.join(ROOT, "docs")
MAX_README_LINES = 350

SHELL_LANGUAGES = ("", "sh", "bash", "shell", "console")
# A command's end inside a shell line: a pipe, a list separator or a comment.
_SEPARATORS = re.compile(r"\s(?:\|\||&&|\||;|#)\s|;\s*$|;\s")
_FLAG = re.compile(r"^--(?:\[no\])?([A-Za-z][\w-]*)")
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_ISSUE = re.compile(r"\bissues? ?#?\d+", re.IGNORECASE)


def _read(path):
  with open(path, encoding="utf-8") as f:
    return f.read()


def shell_blocks(text):
  """The fenced blocks of shell commands in a markdown text."""
  blocks, language, lines = [], None, []
  for line in text.splitlines():
    fence = re.match(r"^```\s*(\S*)\s*$", line)
    if fence and language is None:
      language, lines = fence.group(1).lower(), []
    elif fence:
      if language in SHELL_LANGUAGES:
        blocks.append(lines)
      language = None
    elif language is not None:
      lines.append(line)
  return blocks


def shell_commands(block):
  """One string per command line of a block: continuations joined."""
  commands, pending = [], ""
  for line in block:
    if line.rstrip().endswith("\\"):
      pending += line.rstrip()[:-1] + " "
      continue
    commands.append(pending + line)
    pending = ""
  if pending:
    commands.append(pending)
  return [c.strip() for c in commands if c.strip()]


def _words(segment):
  try:
    return shlex.split(segment)
  except ValueError:  # An open quote spans lines (a TF_CONFIG value).
    return segment.split()


def python_invocations(command):
  """(cli, args) for each `python X.py ...` / `python -m M ...` in a line.

  cli is ("script", path) or ("module", name); args are the words that follow
  it up to the end of that command (`--` ends a CLI's own arguments, as in
  `python -m training.slurm -- python deep_speech.py ...`).
  """
  found = []
  for segment in _SEPARATORS.split(" " + command + " "):
    words = _words(segment)
    i = 0
    while i < len(words):
      word = os.path.basename(words[i])
      if re.fullmatch(r"python(3(\.\d+)?)?", word) and i + 1 < len(words):
        if words[i + 1] == "-m" and i + 2 < len(words):
          cli, start = ("module", words[i + 2]), i + 3
        elif words[i + 1].endswith(".py"):
          cli, start = ("script", words[i + 1]), i + 2
        else:
          i += 1
          continue
        end = start
        while end < len(words) and words[end] != "--":
          end += 1
        found.append((cli, words[start:end]))
        i = end
      i += 1
  return found


def readme_flags(args):
  """The flag names an argument list uses (`--[no]x`, `--x=1`, `--x 1`)."""
  names = []
  for arg in args:
    match = _FLAG.match(arg)
    if match:
      names.append(match.group(1))
  return names


@functools.lru_cache(maxsize=None)
def cli_help(cli):
  """(exit status, help text) of a CLI: --helpfull, else --help."""
  kind, name = cli
  base = [sys.executable] + (["-m", name] if kind == "module" else [name])
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
  result = None
  for option in ("--helpfull", "--help"):
    proc = subprocess.run(base + [option], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    result = (proc.returncode, proc.stdout + proc.stderr)
    if _help_succeeded(*result):
      return result
  return result


def _help_succeeded(status, output):
  """absl prints its help and exits 1; argparse exits 0. Neither crashes."""
  if "Traceback (most recent call last)" in output:
    return False
  if status == 0:
    return True
  return status == 1 and "--[no]helpfull" in output


def _flag_in_help(name, help_text):
  candidates = [name]
  if name.startswith("no"):  # absl's negated boolean, --noexport_best.
    candidates.append(name[2:])
  return any(re.search(r"--(\[no\])?%s\b" % re.escape(c), help_text)
             for c in candidates)


def readme_invocations():
  """{cli: set of flags} over every python command of README's shell blocks."""
  uses = {}
  for block in shell_blocks(_read(README)):
    for command in shell_commands(block):
      for cli, args in python_invocations(command):
        uses.setdefault(cli, set()).update(readme_flags(args))
  return uses


def test_the_extraction_finds_commands_flags_and_their_cli():
  block = ["TF_CONFIG='{\"task\": 0}' \\",
           "  python deep_speech.py --model_dir=/m --noexport_best \\",
           "    --batch_size 64 ...   # host0",
           "find . | python transcribe.py --output_format=json -",
           "python -m training.slurm --port=1 -- python deep_speech.py --seed=2",
           "make test-fast     # unit tests"]
  commands = shell_commands(block)
  assert len(commands) == 4
  found = [(cli, readme_flags(args)) for c in commands
           for cli, args in python_invocations(c)]
  assert found == [
      (("script", "deep_speech.py"), ["model_dir", "noexport_best",
                                      "batch_size"]),
      (("script", "transcribe.py"), ["output_format"]),
      (("module", "training.slurm"), ["port"]),
      (("script", "deep_speech.py"), ["seed"]),
  ]
  text = "x\n```sh\npython a.py --b\n```\n```text\npython c.py\n```\n"
  assert shell_blocks(text) == [["python a.py --b"]]


def test_a_flag_is_found_in_help_only_as_a_whole_name():
  help_text = "  --model_dir: where\n  --[no]export_best: keep\n"
  assert _flag_in_help("model_dir", help_text)
  assert _flag_in_help("export_best", help_text)
  assert _flag_in_help("noexport_best", help_text)
  assert not _flag_in_help("model", help_text)
  assert not _flag_in_help("lm_path", help_text)
  assert not _help_succeeded(1, "Traceback (most recent call last):\n")
  assert not _help_succeeded(1, "usage: x\nerror: unrecognized arguments")


@pytest.mark.slow  # Each CLI's help imports TensorFlow: seconds apiece.
def test_every_readme_command_runs_its_help_and_knows_its_flags():
  uses = readme_invocations()
  clis = {name for _, name in uses}
  for expected in ("deep_speech.py", "data/download.py", "transcribe.py",
                   "tune_lm.py", "data/build_lm.py"):
    assert expected in clis, "README.md no longer shows %s" % expected
  problems = []
  for cli, flags in sorted(uses.items()):
    status, help_text = cli_help(cli)
    if not _help_succeeded(status, help_text):
      problems.append("%s --help: exit %d\n%s" % (cli[1], status,
                                                   help_text[-1500:]))
      continue
    missing = sorted(f for f in flags if not _flag_in_help(f, help_text))
    if missing:
      problems.append("%s does not know %s" % (
          cli[1], ", ".join("--" + f for f in missing)))
  assert not problems, "\n".join(problems)


def test_make_targets_and_scripts_in_readme_exist():
  makefile = _read(os.path.join(ROOT, "Makefile"))
  targets = set(re.findall(r"^([\w.-]+):", makefile, re.MULTILINE))
  checked = 0
  for block in shell_blocks(_read(README)):
    for command in shell_commands(block):
      for segment in _SEPARATORS.split(" " + command + " "):
        words = [w for w in _words(segment) if "=" not in w.split("/")[0]]
        if words[:1] == ["make"]:
          for target in [w for w in words[1:] if not w.startswith("-")]:
            assert target in targets, "make %s: no such target" % target
            checked += 1
        for word in words:
          if word.endswith((".sh", ".sbatch")):
            assert os.path.isfile(os.path.join(ROOT, word)), word
            checked += 1
  assert checked >= 3  # make demo, make test, bench/gpu_check.sh at least.


def test_readme_is_short():
  lines = _read(README).count("\n")
  assert lines <= MAX_README_LINES, (
      "README.md has %d lines; move detail to docs/" % lines)


def _markdown_files():
  return [README] + sorted(
      os.path.join(DOCS, name) for name in os.listdir(DOCS)
      if name.endswith(".md"))


@pytest.mark.parametrize("path", _markdown_files(),
                         ids=lambda p: os.path.relpath(p, ROOT))
def test_no_internal_issue_numbers(path):
  found = [m.group(0) for m in _ISSUE.finditer(_read(path))]
  assert not found, "%s mentions %s: name the feature" % (path, found)


@pytest.mark.parametrize("path", _markdown_files(),
                         ids=lambda p: os.path.relpath(p, ROOT))
def test_relative_links_point_at_files(path):
  broken = []
  for target in _LINK.findall(_read(path)):
    if re.match(r"^(https?:|mailto:|#)", target):
      continue
    file_part = target.split("#")[0]
    if not os.path.exists(os.path.join(os.path.dirname(path), file_part)):
      broken.append(target)
  assert not broken, "%s links to missing %s" % (path, broken)


_TEST_REFERENCE = re.compile(r"`?(tests/[\w/]+\.py)(?:::(\w+))?")


@pytest.mark.parametrize("path", _markdown_files(),
                         ids=lambda p: os.path.relpath(p, ROOT))
def test_the_tests_the_docs_name_exist(path):
  # The fault tables name the test that shows each behaviour; a renamed or
  # moved test must take its row along.
  missing = []
  for module, name in _TEST_REFERENCE.findall(_read(path)):
    source = os.path.join(ROOT, module)
    if not os.path.exists(source):
      missing.append(module)
    elif name and not re.search(r"^def %s\(" % name, _read(source), re.M):
      missing.append("%s::%s" % (module, name))
  assert not missing, "%s names missing tests: %s" % (path, missing)

"""Fetching The Ur-Quan Masters voice pack through apt, without installing it.

The voice pack (`uqm-voice`) and the dialogue text (`uqm-content`) are in
Debian's non-free component, which the system's apt sources may not list. apt
is pointed at a private sources list naming the system's own mirror with
`contrib non-free`, and at private state and cache folders under the data
directory, so the system's apt configuration and package lists stay exactly
as they were; apt still checks the packages' signatures. `dpkg -x` unpacks
the packages without installing them; the game's data inside are zip files
(`*.uqm`) from which only the voice folders and the dialogue files are taken.

Each step builds its result under a temporary name and renames it when
complete, so an existing folder is a finished step and a re-run goes on from
the first missing one.
"""

import glob
import os
import re
import shutil
import subprocess
import zipfile

from data.downloading import common

PACKAGES = ("uqm-voice", "uqm-content")
COMPONENTS = "contrib non-free"
SYSTEM_SOURCES_LIST = "/etc/apt/sources.list"
SYSTEM_SOURCES_DIR = "/etc/apt/sources.list.d"
# Where the game's zip packages sit, in an unpacked .deb or an installed game.
PACKAGE_GLOBS = ("addons/uqm-*voice*.uqm", "packages/uqm-*content*.uqm")
_PACKAGE_PARENTS = ("", "content", "usr/share/games/uqm/content")
# A race folder's name: it becomes a folder name under the data directory.
RACE_NAME = re.compile(r"^[a-z0-9_]+$")
# Members taken from the zips: voice folders, and dialogue text files.
_VOICE_MEMBER = re.compile(
    r"^3dovoice/([a-z0-9_]+)/([A-Za-z0-9_][A-Za-z0-9_.-]*\.(?:ogg|ts|txt))$")
_TEXT_MEMBER = re.compile(r"^base/comm/([a-z0-9_]+)/\1\.txt$")


class FetchError(common.DownloadError):
  """apt or dpkg is missing, or fetching or unpacking the packages failed."""


def _deb822_sources(text):
  """(uri, suite, signed_by) of each `Types: deb` stanza of a .sources file."""
  found = []
  for stanza in re.split(r"\n\s*\n", text):
    fields = {}
    for line in stanza.splitlines():
      if line.startswith("#") or ":" not in line or line[:1].isspace():
        continue
      name, value = line.split(":", 1)
      fields[name.strip().lower()] = value.split()
    if "deb" in fields.get("types", []) and fields.get("uris"):
      for suite in fields.get("suites", []):
        found.append((fields["uris"][0], suite,
                      (fields.get("signed-by") or [None])[0]))
  return found


def _one_line_sources(text):
  """(uri, suite, signed_by) of each `deb` line of a sources.list."""
  found = []
  for line in text.splitlines():
    match = re.match(r"^\s*deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)", line)
    if match:
      options = dict(o.split("=", 1) for o in (match.group(1) or "").split()
                     if "=" in o)
      found.append((match.group(2), match.group(3), options.get("signed-by")))
  return found


def system_mirror(sources_list=SYSTEM_SOURCES_LIST,
                  sources_dir=SYSTEM_SOURCES_DIR):
  """The system's Debian mirror: (uri, release suite, signed-by or None).

  The first `deb` source whose suite is a release (no `-updates`,
  `-security` suffix) is taken; the files are only read.

  Raises:
    FetchError: no such source is configured.
  """
  candidates = []
  for path in sorted(glob.glob(os.path.join(sources_dir, "*.sources"))):
    with open(path, encoding="utf-8", errors="replace") as f:
      candidates += _deb822_sources(f.read())
  for path in [sources_list] + sorted(
      glob.glob(os.path.join(sources_dir, "*.list"))):
    if os.path.exists(path):
      with open(path, encoding="utf-8", errors="replace") as f:
        candidates += _one_line_sources(f.read())
  for uri, suite, signed_by in candidates:
    if "-" not in suite and "/" not in suite:
      return uri, suite, signed_by
  raise FetchError("found no Debian release source in %s or %s to fetch %s "
                   "from." % (sources_list, sources_dir,
                              " and ".join(PACKAGES)))


def private_sources_line(uri, suite, signed_by):
  """The one line of the private sources list."""
  options = "[signed-by=%s] " % signed_by if signed_by else ""
  return "deb %s%s %s %s\n" % (options, uri, suite, COMPONENTS)


def apt_options(apt_dir):
  """The `-o` options that keep apt's lists, cache and sources private.

  The folders are absolute: `apt-get download` runs in another directory,
  where a relative --data_dir would name lists that do not exist.
  """
  apt_dir = os.path.abspath(apt_dir)
  return ["-o", "Dir::Etc::sourcelist=" + os.path.join(apt_dir, "sources.list"),
          "-o", "Dir::Etc::sourceparts=/dev/null",
          "-o", "Dir::State::Lists=" + os.path.join(apt_dir, "lists"),
          "-o", "Dir::Cache=" + os.path.join(apt_dir, "cache")]


def _run(command, what, cwd=None):
  try:
    result = subprocess.run(command, cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            check=False)
  except OSError as e:
    raise FetchError("%s failed: %s." % (what, e.strerror or e)) from e
  if result.returncode != 0:
    lines = result.stdout.decode("utf-8", "replace").strip().splitlines()
    raise FetchError("%s failed (exit %d): %s" % (
        what, result.returncode, lines[-1] if lines else "no output"))


def require_tools():
  """Fails at once, in one line, when apt-get or dpkg is missing."""
  missing = [t for t in ("apt-get", "dpkg") if shutil.which(t) is None]
  if missing:
    raise FetchError(
        "%s not found: the voice pack is fetched with Debian's apt and "
        "unpacked with dpkg; on other systems unpack uqm-voice and "
        "uqm-content yourself and pass --uqm_dir." % " and ".join(missing))


def download_debs(work_dir):
  """Downloads the two .debs into `<work_dir>/debs` unless already there.

  Returns:
    The list of .deb paths.
  """
  debs_dir = os.path.join(work_dir, "debs")
  if not os.path.isdir(debs_dir):
    require_tools()
    apt_dir = os.path.join(work_dir, "apt")
    for sub in ("lists/partial", "cache/archives/partial"):
      os.makedirs(os.path.join(apt_dir, sub), exist_ok=True)
    with open(os.path.join(apt_dir, "sources.list"), "w",
              encoding="utf-8") as f:
      f.write(private_sources_line(*system_mirror()))
    options = apt_options(apt_dir)
    _run(["apt-get"] + options + ["update"],
         "apt-get update with the private sources list")
    part = debs_dir + ".part"
    shutil.rmtree(part, ignore_errors=True)
    os.makedirs(part)
    _run(["apt-get"] + options + ["download"] + list(PACKAGES),
         "apt-get download " + " ".join(PACKAGES), cwd=part)
    os.replace(part, debs_dir)
  debs = sorted(glob.glob(os.path.join(debs_dir, "*.deb")))
  if len(debs) != len(PACKAGES):
    raise FetchError("%s holds %d .deb files instead of %d; delete it and "
                     "re-run." % (debs_dir, len(debs), len(PACKAGES)))
  return debs


def unpack_debs(debs, unpacked_dir):
  """`dpkg -x` of each .deb into `unpacked_dir` (no installation)."""
  if os.path.isdir(unpacked_dir):
    return
  require_tools()
  part = unpacked_dir + ".part"
  shutil.rmtree(part, ignore_errors=True)
  os.makedirs(part)
  for deb in debs:
    _run(["dpkg", "-x", os.path.abspath(deb), part],
         "dpkg -x " + os.path.basename(deb))
  os.replace(part, unpacked_dir)


def find_packages(folder):
  """The (voice, content) `.uqm` zips under `folder`, or None if absent."""
  for parent in _PACKAGE_PARENTS:
    found = [sorted(glob.glob(os.path.join(folder, parent, pattern)))
             for pattern in PACKAGE_GLOBS]
    if all(found):
      return found[0][-1], found[1][-1]
  return None


def extract_tree(packages, tree_dir):
  """Takes the voice folders and dialogue files out of the `.uqm` zips.

  Only members of the two expected shapes (`3dovoice/<race>/<file>` and
  `base/comm/<race>/<race>.txt`, plain names throughout) are written, to
  paths built here from the matched names; every other member is ignored.
  """
  if os.path.isdir(tree_dir):
    return
  part = tree_dir + ".part"
  shutil.rmtree(part, ignore_errors=True)
  for package in packages:
    try:
      with zipfile.ZipFile(package) as archive:
        for info in archive.infolist():
          voice = _VOICE_MEMBER.match(info.filename)
          text = _TEXT_MEMBER.match(info.filename)
          if voice:
            dest = os.path.join(part, "3dovoice", voice.group(1),
                                voice.group(2))
          elif text:
            dest = os.path.join(part, "base", "comm", text.group(1),
                                text.group(1) + ".txt")
          else:
            continue
          os.makedirs(os.path.dirname(dest), exist_ok=True)
          with archive.open(info) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out)
    except (zipfile.BadZipFile, EOFError) as e:
      raise FetchError("cannot read %s (%s); delete %s and re-run." % (
          package, e, package)) from e
  if not os.path.isdir(os.path.join(part, "3dovoice")):
    raise FetchError("%s hold no 3dovoice/ folder." % " and ".join(packages))
  os.replace(part, tree_dir)

"""Turns command-line arguments into the audio files to transcribe.

An argument is a file, a directory (searched recursively for files with an
audio extension, in sorted order), a manifest (a file whose first line is
the manifest header; its `wav_filename` column is used) or `-` (one path per
line on standard input).
"""

import os

from data import manifest

# What a directory search picks up: the extensions soundfile or sox read.
AUDIO_EXTENSIONS = frozenset((
    ".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".aiff", ".aif",
    ".au", ".snd", ".caf", ".w64", ".rf64", ".m4a", ".wma", ".amr",
    ".webm", ".sph", ".nist", ".wv", ".sox"))


def expand(args, stdin=None):
  """The files that `args` name, in order.

  Args:
    args: command-line arguments (files, directories, manifests, "-").
    stdin: a text stream for "-" (sys.stdin).

  Returns:
    (paths, problems): paths to transcribe (missing ones included; the
    reader reports them with the others' errors), and (argument, reason)
    pairs for arguments that name nothing usable.
  """
  paths, problems = [], []
  for arg in args:
    if arg == "-":
      if stdin is None:
        problems.append((arg, "no standard input"))
        continue
      paths.extend(line.rstrip("\r\n") for line in stdin
                   if line.strip())
    elif os.path.isdir(arg):
      found = list(find_audio(arg))
      if not found:
        problems.append((arg, "directory holds no audio file (%s)"
                         % " ".join(sorted(AUDIO_EXTENSIONS))))
      paths.extend(found)
    elif is_manifest(arg):
      paths.extend(manifest_paths(arg))
    else:
      paths.append(arg)
  return paths, problems


def find_audio(directory):
  """Files under `directory` with an audio extension, sorted, recursively."""
  for root, dirs, files in os.walk(directory):
    dirs.sort()
    for name in sorted(files):
      if os.path.splitext(name)[1].lower() in AUDIO_EXTENSIONS:
        yield os.path.join(root, name)


def is_manifest(path):
  """Whether `path` is a text file starting with the manifest header."""
  if not os.path.isfile(path):
    return False
  try:
    with open(path, encoding="utf-8") as f:
      first = f.readline(4096)
  except (OSError, UnicodeDecodeError):
    return False
  return tuple(first.rstrip("\r\n").split("\t")) == manifest.HEADER


def manifest_paths(path):
  """The `wav_filename` column of a manifest (as training reads it)."""
  paths = []
  with open(path, encoding="utf-8") as f:
    next(f)
    for line in f:
      name = line.rstrip("\r\n").split("\t", 1)[0]
      if name:
        paths.append(name)
  return paths

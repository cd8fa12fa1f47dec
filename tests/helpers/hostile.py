"""File names that sox or libsndfile would read as a command, option or stream.

A test writes a real file under each name, runs an entry point on it from a
working directory of its own, and asserts with `planted` that the command
never ran.
"""

import os

MARKER = "PWNED"


def command_name(tag, extension):
  """A name that sox runs as `touch PWNED<tag>.<extension>`."""
  return "|touch %s%s.%s" % (MARKER, tag, extension)


def option_names(extension):
  """Names that sox reads as an option or as standard input/output."""
  return ["-x." + extension, "-"]


def planted(*directories):
  """The marker files found anywhere under `directories`."""
  found = []
  for directory in directories:
    for root, _, files in os.walk(directory):
      found += [os.path.join(root, f) for f in files
                if f.startswith(MARKER)]
  return found

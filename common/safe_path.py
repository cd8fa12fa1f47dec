"""File names that audio tools can only read as file names.

sox, soxi and libsox read a name starting with `|` as a shell command to run
and read from, `-` as standard input or output, a name starting with
`http:`, `https:` or `ftp:` as a URL handed to a `wget` command line, and any
other leading `-` as an option; libsndfile (soundfile) also reads `-` as
standard input or output. A name that starts with the directory separator is
none of these, so every path that comes from a user, a manifest or an archive
goes through `for_tools` before it reaches sox or libsndfile. Messages keep
the name as the user gave it.
"""

import os


def for_tools(path):
  """`path` as an absolute name that no tool reads as a command or option.

  The working directory is joined rather than the path normalized, so a name
  like `link/../a.wav` still means what the kernel makes of it.

  Args:
    path: a file path (str or os.PathLike), relative or absolute.

  Returns:
    str, `path` itself when absolute, else the working directory joined to it.
  """
  path = os.fspath(path)
  if os.path.isabs(path):
    return path
  return os.path.join(os.getcwd(), path)

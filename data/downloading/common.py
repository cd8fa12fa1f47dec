"""Plumbing shared by the download steps: errors and names from archives.

Every failure a user can cause (no network, a bad checksum, an unsafe archive,
sox missing, a full disk) is raised as a `DownloadError` whose message is one
complete sentence in the library's own terms; `data/download.py` prints it
(adding which flag to change, where one applies) and exits non-zero instead of
showing a traceback.
"""

import os


class DownloadError(Exception):
  """A failure the user can act on; its message is the whole error report."""


class UnsafeNameError(DownloadError):
  """An archive's text file names a file that is not a plain name."""


def check_plain_name(name, archive, path, line):
  """Returns `name` if it is a plain file name, else raises UnsafeNameError.

  Importers join names read from an archive's text files (utterance ids,
  clip ids) to a folder of their own and write there; a name with a
  separator, `..`, an absolute path or a control character would make that
  write land elsewhere (or break the manifest's tab-separated rows), even in
  an archive whose checksum matched.

  Args:
    name: the name as read, before any extension is added.
    archive: the archive's file name, for the message.
    path: the text file it was read from.
    line: its 1-based line number.

  Raises:
    UnsafeNameError: naming the archive, the file and the line.
  """
  # Backslash too: a separator on Windows, and never in a corpus's ids.
  if (not name or name in (".", "..") or os.path.isabs(name) or
      any(c in "/\\" or ord(c) < 32 or c == "\x7f" for c in name)):
    raise UnsafeNameError(
        "%s: %s line %d names %r, which is not a plain file name (no "
        "separators, '..' or control characters); refusing to write outside "
        "its folder." % (archive, path, line, name))
  return name

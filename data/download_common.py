"""Plumbing shared by the steps of `data/download.py`: errors and sizes.

Every failure a user can cause (no network, a bad checksum, an unsafe archive,
sox missing, a full disk) is raised as a `DownloadError` whose message is one
complete sentence; `download.py` prints that sentence and exits non-zero
instead of showing a traceback.
"""

from data import progress

# The downloader's messages format sizes the way its progress lines do.
format_bytes = progress.format_bytes


class DownloadError(Exception):
  """A failure the user can act on; its message is the whole error report."""

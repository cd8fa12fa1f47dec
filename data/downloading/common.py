"""Plumbing shared by the download steps: errors and sizes.

Every failure a user can cause (no network, a bad checksum, an unsafe archive,
sox missing, a full disk) is raised as a `DownloadError` whose message is one
complete sentence in the library's own terms; `data/download.py` prints it
(adding which flag to change, where one applies) and exits non-zero instead of
showing a traceback.
"""



class DownloadError(Exception):
  """A failure the user can act on; its message is the whole error report."""

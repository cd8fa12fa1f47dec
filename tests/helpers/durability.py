"""Records what os.fsync was called on, to check that a write is durable."""

import os
import stat


def record_fsyncs(monkeypatch):
  """Patches os.fsync; returns the list it fills with (inode, is a folder)."""
  synced = []
  real_fsync = os.fsync

  def fsync(fd):
    info = os.fstat(fd)
    synced.append((info.st_ino, stat.S_ISDIR(info.st_mode)))
    real_fsync(fd)

  monkeypatch.setattr(os, "fsync", fsync)
  return synced


def durably_renamed(synced, path):
  """Whether `path`'s file and then its folder were fsync'ed, in that order."""
  file_entry = (os.stat(path).st_ino, False)
  folder_entry = (os.stat(os.path.dirname(os.path.abspath(path))).st_ino, True)
  if file_entry not in synced:
    return False
  return folder_entry in synced[synced.index(file_entry) + 1:]

"""LibriSpeech-layout files for the sample corpus: transcripts and archives.

The archives copy LibriSpeech's own layout, so `data/download.py` treats them
exactly like the real ones:

    <subset>.tar.gz
      LibriSpeech/README.TXT
      LibriSpeech/SPEAKERS.TXT
      LibriSpeech/<subset>/<spk>/<chap>/<spk>-<chap>.trans.txt
      LibriSpeech/<subset>/<spk>/<chap>/<spk>-<chap>-<utt>.flac

and `md5sum.txt` lists them in md5sum's format (`<hex>  <subset>.tar.gz`).
Archives are byte-reproducible: members are sorted and carry a fixed owner,
mode and time, and the gzip header has no name or time stamp.
"""

import gzip
import hashlib
import io
import os
import tarfile

from common import atomic_file

ARCHIVE_ROOT = "LibriSpeech"
# 2018-01-01 00:00 UTC: any fixed time works; 0 makes some tools warn.
_MTIME = 1514764800


def transcript_text(utterances):
  """Formats a chapter's `.trans.txt`: `<utt-id> TRANSCRIPT` lines.

  Args:
    utterances: iterable of (utterance_id, text) in utterance order.

  Returns:
    str, upper-case transcripts as in LibriSpeech.
  """
  return "".join("%s %s\n" % (uid, text.upper()) for uid, text in utterances)


def speakers_text(rows):
  """Formats SPEAKERS.TXT like LibriSpeech's.

  Args:
    rows: iterable of (speaker_id, sex, subset, minutes, name).

  Returns:
    str.
  """
  lines = ["; Synthesized speakers: engine, voice, rate and pitch shift.",
           "; ID  |SEX| SUBSET       |MINUTES| NAME"]
  for speaker_id, sex, subset, minutes, name in rows:
    lines.append("%-5s| %s | %-12s | %5.2f | %s" % (
        speaker_id, sex or "-", subset, minutes, name))
  return "\n".join(lines) + "\n"


def _info(name, size=0, is_dir=False):
  info = tarfile.TarInfo(name)
  info.size = size
  info.mtime = _MTIME
  info.uid = info.gid = 0
  info.uname = info.gname = ""
  if is_dir:
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
  else:
    info.mode = 0o644
  return info


def write_archive(archive_path, corpus_root, subset, extra_files):
  """Packs `<corpus_root>/<subset>` and extra top-level files into a .tar.gz.

  The archive is written under a temporary name and renamed when complete,
  so an interrupted run never leaves a truncated archive behind.

  Args:
    archive_path: str, output `<subset>.tar.gz`.
    corpus_root: str, the local `LibriSpeech` directory.
    subset: str, subset directory name under corpus_root.
    extra_files: dict name -> str, files placed directly under
      `LibriSpeech/` (README.TXT, SPEAKERS.TXT).
  """
  with atomic_file.atomic_write(archive_path, "wb") as raw:
    # FLAC does not compress further: level 1 saved only the tar headers'
    # small share of the size, at a CPU cost per MB; level 0 stores
    # (docs/benchmarks.md).
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                       compresslevel=0) as gz:
      with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(_info(ARCHIVE_ROOT, is_dir=True))
        for name in sorted(extra_files):
          data = extra_files[name].encode("utf-8")
          tar.addfile(_info(ARCHIVE_ROOT + "/" + name, len(data)),
                      io.BytesIO(data))
        subset_dir = os.path.join(corpus_root, subset)
        for root, dirs, files in os.walk(subset_dir):
          dirs.sort()
          rel = os.path.relpath(root, corpus_root).replace(os.sep, "/")
          tar.addfile(_info(ARCHIVE_ROOT + "/" + rel, is_dir=True))
          for name in sorted(files):
            path = os.path.join(root, name)
            with open(path, "rb") as f:
              tar.addfile(_info(ARCHIVE_ROOT + "/" + rel + "/" + name,
                                os.path.getsize(path)), f)


def md5_file(path, chunk_size=1 << 20):
  """Returns the hex MD5 of a file, read in chunks."""
  digest = hashlib.md5()
  with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(chunk_size), b""):
      digest.update(chunk)
  return digest.hexdigest()


def md5sum_text(digests):
  """Formats `md5sum.txt`: `<hex>  <file name>` lines, as md5sum prints.

  Args:
    digests: dict file name -> hex digest.
  """
  return "".join("%s  %s\n" % (digests[n], n) for n in sorted(digests))

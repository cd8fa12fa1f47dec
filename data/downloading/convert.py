"""Audio conversion and manifests: the convert and manifest steps.

Audio becomes 16 kHz 16-bit mono wav through sox. Manifests keep the
original's format exactly: tab-separated columns `wav_filename`,
`wav_filesize`, `transcript` under a header row (`data/manifest.py`'s
`HEADER`), one row per utterance with the absolute wav path and its size in
bytes. The training input pipeline reads nothing else.

Every write goes to a temporary name first and is renamed when complete, so
an interrupted run never leaves a truncated wav or manifest that a re-run
would take for finished work.
"""

import concurrent.futures
import os
import shutil
import subprocess

from absl import logging

from common import atomic_file
from common import progress
from common import safe_path
from data import manifest as manifest_format
from data.downloading import common


class ConversionError(common.DownloadError):
  """sox is missing or failed on a file, or a manifest came out wrong."""


def require_sox():
  """Fails early, before any download, when sox is not on the PATH."""
  if shutil.which("sox") is None:
    raise ConversionError(
        "sox is not installed or not on the PATH; it converts the audio to "
        "16 kHz wav. Install it (e.g. `apt-get install sox libsox-fmt-all`) "
        "and re-run.")


def _sox(source, dest, sample_rate, input_options=(), effects=()):
  """Converts one file to 16-bit mono wav at `sample_rate` via a temp name.

  sox fills a unique temporary (`atomic_file.atomic_path`), which is fsync'ed
  before it is renamed: a power loss cannot leave an empty wav under the
  final name that a re-run would skip as converted.

  Args:
    source, dest: the audio read and the wav written.
    sample_rate: output rate in Hz.
    input_options: sox format options for a source without a header (e.g.
      `-t raw -r 16000 -e signed-integer -b 16 -B`), put before its name.
    effects: sox effects after the output name (e.g. `trim 1.5 =3.25`, to cut
      one utterance out of a talk).
  """
  with atomic_file.atomic_path(dest) as temp:
    command = (["sox", "-V1"] + list(input_options) +
               [safe_path.for_tools(source), "-t", "wav", "-r",
                str(sample_rate), "-c", "1", "-b", "16",
                safe_path.for_tools(temp)] + list(effects))
    try:
      result = subprocess.run(command, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, check=False)
    except FileNotFoundError:
      require_sox()
      raise
    if result.returncode != 0:
      message = result.stderr.decode("utf-8", "replace").strip().splitlines()
      raise ConversionError("sox could not convert %s: %s" % (
          source,
          message[-1] if message else "exit code %d" % result.returncode))


def convert_audio(jobs, sample_rate, num_workers, label, show_progress=True):
  """Converts (source, wav) pairs with sox, in parallel, skipping done ones.

  A wav that exists is complete, because it only ever appears by renaming
  a finished temporary file.

  Args:
    jobs: list of (source audio path, destination wav path), or of (source,
      wav, sox input options, sox effects), see `_sox`.
    sample_rate: output rate in Hz (16000).
    num_workers: sox processes run at once.
    label: name shown on the progress bar.
    show_progress: draw the progress bar on stderr.

  Returns:
    The number of files converted in this call.

  Raises:
    ConversionError: sox is missing or failed; files converted so far stay.
  """
  todo = [job for job in jobs if not os.path.exists(job[1])]
  if not todo:
    return 0
  require_sox()
  for directory in sorted({os.path.dirname(job[1]) for job in todo} - {""}):
    os.makedirs(directory, exist_ok=True)
  logging.info("Converting %d of %d files of %s with %d workers.", len(todo),
               len(jobs), label, num_workers)
  bar = None
  if show_progress:
    bar = progress.Progress("converting " + label, len(todo), unit="files")
  def collect(done):
    for future in done:
      future.result()  # Re-raises the first sox failure.
      if bar is not None:
        bar.update(1)

  # Threads are enough: each one only waits on its sox process. Only a few
  # jobs per worker are queued at a time, so 148k utterances do not become
  # 148k futures, and a failure stops the run after the in-flight few.
  pending = set()
  with concurrent.futures.ThreadPoolExecutor(max_workers=num_workers) as pool:
    try:
      for job in todo:
        if len(pending) >= 4 * num_workers:
          done, pending = concurrent.futures.wait(
              pending, return_when=concurrent.futures.FIRST_COMPLETED)
          collect(done)
        pending.add(pool.submit(_sox, job[0], job[1], sample_rate, *job[2:]))
      done, pending = concurrent.futures.wait(pending)
      collect(done)
    finally:
      for future in pending:
        future.cancel()
      if bar is not None:
        bar.close()
  return len(todo)


def write_manifest(path, rows, expected_rows):
  """Writes a manifest atomically and checks its row count.

  Args:
    path: the manifest to write.
    rows: list of (wav path, transcript); sizes are read from disk.
    expected_rows: how many utterances the transcripts listed; a manifest
      with any other number of rows is never put in place.

  Raises:
    ConversionError: a row count mismatch or a value that would break the
      tab-separated format.
  """
  if len(rows) != expected_rows:
    raise ConversionError("%s would have %d rows but %d utterances were "
                          "found." % (path, len(rows), expected_rows))
  with atomic_file.atomic_write(path) as f:
    f.write("\t".join(manifest_format.HEADER) + "\n")
    for wav, transcript in rows:
      wav = os.path.abspath(wav)
      if any(c in wav + transcript for c in "\t\r\n"):
        raise ConversionError("cannot write %r to a tab-separated manifest."
                              % (wav + " " + transcript))
      f.write("%s\t%d\t%s\n" % (wav, os.path.getsize(wav), transcript))
    # Count the rows as written on disk, before the file takes its name:
    # only a manifest known to hold every utterance is ever put in place.
    f.flush()
    with open(f.name, encoding="utf-8") as written_file:
      written = sum(1 for _ in written_file) - 1
    if written != expected_rows:
      raise ConversionError("%s came out with %d rows instead of %d." % (
          path, written, expected_rows))


def manifest_is_complete(path):
  """Whether `path` is a finished manifest whose wavs are all present.

  Checks the header and, for every row, that the wav exists with the
  recorded size: one `stat` per utterance, well under a second even for
  train-other-500, so a finished subset is skipped without touching the
  network or sox.
  """
  try:
    with open(path, encoding="utf-8") as f:
      if f.readline().rstrip("\n") != "\t".join(manifest_format.HEADER):
        return False
      for line in f:
        fields = line.rstrip("\n").split("\t")
        if len(fields) != 3 or os.path.getsize(fields[0]) != int(fields[1]):
          return False
  except (OSError, ValueError):
    return False
  return True

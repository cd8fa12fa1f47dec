"""Transcripts, audio conversion and manifests for `data/download.py`.

Manifests keep the original's format exactly: tab-separated columns
`wav_filename`, `wav_filesize`, `transcript` under a header row, one row per
utterance with the absolute wav path and its size in bytes. The training
input pipeline reads nothing else.

Every write goes to a temporary name first and is renamed when complete, so
an interrupted run never leaves a truncated wav or manifest that a re-run
would take for finished work.
"""

import collections
import concurrent.futures
import hashlib
import os
import shutil
import subprocess
import unicodedata

from absl import logging

from data import download_common
from data import progress

MANIFEST_HEADER = ("wav_filename", "wav_filesize", "transcript")

# The CTC blank of data/vocabulary.txt; it is a class, not a character that
# may appear in a transcript.
CTC_BLANK = "-"


class ConversionError(download_common.DownloadError):
  """sox is missing or failed on a file, or a manifest came out wrong."""


def normalize_librispeech_transcript(text):
  """The original's transcript cleaning: NFKD, ASCII only, stripped, lower.

  Runs of whitespace also collapse to one space. LibriSpeech transcripts have
  single spaces already; the point is that a stray tab can never split a
  manifest row.
  """
  text = unicodedata.normalize("NFKD", text)
  text = text.encode("ascii", "ignore").decode("ascii")
  return " ".join(text.split()).lower()


def read_librispeech_transcripts(subset_dir):
  """Lists the utterances of an extracted LibriSpeech subset.

  Args:
    subset_dir: `.../LibriSpeech/<subset>`, holding `<spk>/<chap>/` folders
      with `<spk>-<chap>.trans.txt` and `<spk>-<chap>-<utt>.flac` files.

  Returns:
    A list of (utterance id, flac path, normalized transcript), in sorted
    folder order so manifests are identical from run to run.

  Raises:
    ConversionError: no transcript files, a malformed line, or an utterance
      id listed twice.
  """
  utterances = []
  seen = set()
  for directory, dirs, files in os.walk(subset_dir):
    dirs.sort()
    for name in sorted(files):
      if not name.endswith(".trans.txt"):
        continue
      path = os.path.join(directory, name)
      with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
          if not line.strip():
            continue
          parts = line.strip().split(" ", 1)
          if len(parts) != 2:
            raise ConversionError("%s line %d is not '<utterance-id> <text>'."
                                  % (path, number))
          utterance_id, text = parts
          if utterance_id in seen:
            raise ConversionError("utterance %s is listed twice (again in %s)."
                                  % (utterance_id, path))
          seen.add(utterance_id)
          utterances.append((utterance_id,
                             os.path.join(directory, utterance_id + ".flac"),
                             normalize_librispeech_transcript(text)))
  if not utterances:
    raise ConversionError("no *.trans.txt transcripts under %s; is this an "
                          "extracted LibriSpeech subset?" % subset_dir)
  return utterances


def load_vocabulary(path):
  """The characters a transcript may contain, from a vocabulary file.

  Args:
    path: one token per line, `#` starts a comment line (data/vocabulary.txt;
      its space token is a line holding one space).

  Returns:
    A set of single characters, without the CTC blank.
  """
  with open(path, encoding="utf-8") as f:
    tokens = [line.rstrip("\r\n") for line in f if not line.startswith("#")]
  return {token for token in tokens if len(token) == 1} - {CTC_BLANK}


def normalize_to_vocabulary(text, vocabulary, dropped):
  """Lower-cases `text` and reduces it to the characters of `vocabulary`.

  Accents are removed (NFKD, then combining marks deleted: "café" becomes
  "cafe"); any other character outside the vocabulary becomes a space, so
  "well-known" reads "well known" rather than "wellknown"; whitespace runs
  collapse.

  Args:
    text: a transcript.
    vocabulary: set of allowed characters (must include the space).
    dropped: a `collections.Counter` updated with every removed character.

  Returns:
    The cleaned transcript, possibly empty.
  """
  kept = []
  for char in unicodedata.normalize("NFKD", text.lower()):
    if char in vocabulary:
      kept.append(char)
    elif char.isspace():
      kept.append(" ")
    else:
      dropped[char] += 1
      if not unicodedata.combining(char):
        kept.append(" ")
  return " ".join("".join(kept).split())


def read_ljspeech_metadata(path, vocabulary):
  """Reads LJSpeech's `metadata.csv`: `id|transcription|normalized`.

  The file is pipe-separated with no quoting (transcripts contain quote
  characters), so it is split by hand rather than with a CSV dialect.

  Args:
    path: the metadata.csv file.
    vocabulary: set of allowed characters, see `normalize_to_vocabulary`.

  Returns:
    (utterances, dropped, empty): a list of (id, transcript) from the
    normalized column, a Counter of removed characters, and the ids whose
    transcript was empty after cleaning (left out of the list).

  Raises:
    ConversionError: on a line without three fields.
  """
  utterances, empty = [], []
  dropped = collections.Counter()
  with open(path, encoding="utf-8") as f:
    for number, line in enumerate(f, 1):
      line = line.rstrip("\r\n")
      if not line:
        continue
      fields = line.split("|")
      if len(fields) != 3:
        raise ConversionError("%s line %d has %d '|'-separated fields, not 3."
                              % (path, number, len(fields)))
      transcript = normalize_to_vocabulary(fields[2], vocabulary, dropped)
      if transcript:
        utterances.append((fields[0], transcript))
      else:
        empty.append(fields[0])
  return utterances, dropped, empty


def split_train_dev(ids, dev_fraction=0.1):
  """A deterministic train/dev split of utterance ids.

  Ids are ranked by the md5 of the id and the first `round(n * dev_fraction)`
  go to dev: the result depends neither on the file's order nor on Python's
  random generator, and is the same on every machine.

  Returns:
    (train ids, dev ids), each sorted.
  """
  ranked = sorted(ids, key=lambda i: hashlib.md5(i.encode("utf-8")).digest())
  num_dev = int(round(len(ranked) * dev_fraction))
  return sorted(ranked[num_dev:]), sorted(ranked[:num_dev])


def require_sox():
  """Fails early, before any download, when sox is not on the PATH."""
  if shutil.which("sox") is None:
    raise ConversionError(
        "sox is not installed or not on the PATH; it converts the audio to "
        "16 kHz wav. Install it (e.g. `apt-get install sox libsox-fmt-all`) "
        "and re-run.")


def _sox(source, dest, sample_rate):
  """Converts one file to 16-bit mono wav at `sample_rate` via a temp name."""
  temp = dest + ".part"
  command = ["sox", "-V1", source, "-t", "wav", "-r", str(sample_rate),
             "-c", "1", "-b", "16", temp]
  try:
    result = subprocess.run(command, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, check=False)
  except FileNotFoundError:
    require_sox()
    raise
  if result.returncode != 0:
    if os.path.exists(temp):
      os.remove(temp)
    message = result.stderr.decode("utf-8", "replace").strip().splitlines()
    raise ConversionError("sox could not convert %s: %s" % (
        source, message[-1] if message else "exit code %d" % result.returncode))
  os.replace(temp, dest)


def convert_audio(jobs, sample_rate, num_workers, label, show_progress=True):
  """Converts (source, wav) pairs with sox, in parallel, skipping done ones.

  A wav that exists is complete, because it only ever appears by renaming
  a finished temporary file.

  Args:
    jobs: list of (source audio path, destination wav path).
    sample_rate: output rate in Hz (16000).
    num_workers: sox processes run at once.
    label: name shown on the progress bar.
    show_progress: draw the progress bar on stderr.

  Returns:
    The number of files converted in this call.

  Raises:
    ConversionError: sox is missing or failed; files converted so far stay.
  """
  todo = [(src, dst) for src, dst in jobs if not os.path.exists(dst)]
  if not todo:
    return 0
  require_sox()
  for directory in sorted({os.path.dirname(dst) for _, dst in todo}):
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
      for src, dst in todo:
        if len(pending) >= 4 * num_workers:
          done, pending = concurrent.futures.wait(
              pending, return_when=concurrent.futures.FIRST_COMPLETED)
          collect(done)
        pending.add(pool.submit(_sox, src, dst, sample_rate))
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
  temp = path + ".part"
  with open(temp, "w", encoding="utf-8", newline="\n") as f:
    f.write("\t".join(MANIFEST_HEADER) + "\n")
    for wav, transcript in rows:
      wav = os.path.abspath(wav)
      if any(c in wav + transcript for c in "\t\r\n"):
        raise ConversionError("cannot write %r to a tab-separated manifest."
                              % (wav + " " + transcript))
      f.write("%s\t%d\t%s\n" % (wav, os.path.getsize(wav), transcript))
  with open(temp, encoding="utf-8") as f:
    written = sum(1 for _ in f) - 1
  if written != expected_rows:
    os.remove(temp)
    raise ConversionError("%s came out with %d rows instead of %d." % (
        path, written, expected_rows))
  os.replace(temp, path)


def manifest_is_complete(path):
  """Whether `path` is a finished manifest whose wavs are all present.

  Checks the header and, for every row, that the wav exists with the
  recorded size: one `stat` per utterance, well under a second even for
  train-other-500, so a finished subset is skipped without touching the
  network or sox.
  """
  try:
    with open(path, encoding="utf-8") as f:
      if f.readline().rstrip("\n") != "\t".join(MANIFEST_HEADER):
        return False
      for line in f:
        fields = line.rstrip("\n").split("\t")
        if len(fields) != 3 or os.path.getsize(fields[0]) != int(fields[1]):
          return False
  except (OSError, ValueError):
    return False
  return True

"""Reads and checks a manifest before any training step runs.

A manifest is the tab-separated file `data/download.py` writes:

    wav_filename<TAB>wav_filesize<TAB>transcript
    /abs/path/utt.wav<TAB>123456<TAB>some words

`read_manifest` returns the usable rows and, for every row it cannot use, a
`Skipped` record naming the manifest line and the reason, so that one bad file
among hundreds of thousands costs that file and not the run. Reasons:

  text checks   bad_columns, bad_size, not_utf8, empty_transcript,
                unknown_character
  audio checks  missing_file, empty_file, not_audio, truncated_audio,
                wrong_sample_rate, multi_channel, too_short, too_long,
                transcript_too_long (CTC cannot align more labels than the
                frames left after the convolutions; the original got an
                infinite loss)

Audio checks read only each file's header (in parallel threads).
"""

import collections
import concurrent.futures
import os
import struct

from absl import logging
import soundfile

from common import atomic_file
from common import progress
from common import safe_path
from data import vocabulary

HEADER = ("wav_filename", "wav_filesize", "transcript")

ManifestEntry = collections.namedtuple(
    "ManifestEntry", ["wav_filename", "wav_filesize", "transcript", "line"])
Skipped = collections.namedtuple(
    "Skipped", ["manifest", "line", "reason", "detail"])

REASONS = (
    "bad_columns", "bad_size", "not_utf8", "empty_transcript",
    "unknown_character", "missing_file", "empty_file", "not_audio",
    "truncated_audio", "wrong_sample_rate", "multi_channel", "too_short",
    "too_long", "transcript_too_long")


class ManifestError(ValueError):
  """The manifest as a whole cannot be used (missing, no header, no rows)."""


class AudioCheck(object):
  """What a usable clip must satisfy.

  Attributes:
    features: the `featurizer.AudioFeaturizer` settings (its sample rate is
      required, its framing counts the frames).
    max_audio_sec: longest clip accepted, in seconds (None: no limit).
    time_reduction: how many spectrogram frames the model folds into one
      output frame (`deep_speech_model.TIME_REDUCTION`; required, so that
      the model's convolutions stay its one home).
  """

  def __init__(self, features, max_audio_sec=None, *, time_reduction):
    self.features = features
    self.max_audio_sec = max_audio_sec
    self.time_reduction = time_reduction

  def ctc_frames(self, num_samples):
    """Output frames CTC is guaranteed to get for a clip, whatever the batch.

    The CTC length is scaled from the padded batch (floor(frames *
    out_frames / padded_frames)), which is never below frames // reduction.
    """
    return self.features.num_frames(num_samples) // self.time_reduction


def ctc_required_frames(labels):
  """Frames CTC needs for a label sequence: one per label, plus a blank
  between each pair of equal neighbours."""
  repeats = sum(1 for a, b in zip(labels, labels[1:]) if a == b)
  return len(labels) + repeats


def read_manifest(path, token_to_index, audio_check=None, num_threads=16,
                  text_policy=None):
  """Parses and checks a manifest.

  Args:
    path: the manifest file.
    token_to_index: the vocabulary (character -> index), or None to skip
      the character check (tools that copy rows keep every character).
    audio_check: an `AudioCheck`, or None to skip the audio checks.
    num_threads: threads reading audio headers.
    text_policy: a `text_normalization.TextPolicy` the transcripts go
      through before they are checked (the entries hold the result), or
      None to keep them as written.

  Returns:
    (entries, skipped): `ManifestEntry` rows in file order, and `Skipped`
    records for the rest.

  Raises:
    ManifestError: a missing file, a missing or wrong header.
  """
  raw_lines = _read_data_lines(path)
  entries, skipped = [], []
  # The CTC blank (`vocabulary.blank_index`) is a class the model emits, never
  # a label. In a transcript it would pass the vocabulary lookup and then fail
  # the CTC loss mid-training, so it counts as unknown.
  blank = None
  if token_to_index is not None:
    index_to_token = {index: token
                      for token, index in token_to_index.items()}
    blank = index_to_token.get(vocabulary.blank_index(token_to_index))

  for line_no, raw in enumerate(raw_lines, start=2):
    try:
      entry = _parse_row(raw, line_no, token_to_index, blank, text_policy)
    except _BadRow as bad:
      skipped.append(Skipped(path, line_no, bad.reason, bad.detail))
      continue
    if entry is not None:
      entries.append(entry)

  if audio_check is not None and entries:
    entries = _check_audio(path, entries, token_to_index, audio_check,
                           num_threads, skipped)
  skipped.sort(key=lambda s: s.line)
  return entries, skipped


def _read_data_lines(path):
  """The raw lines after a checked header (bytes; line 2 first).

  Raises:
    ManifestError: a missing file, a missing or wrong header.
  """
  if not os.path.isfile(path):
    raise ManifestError("manifest not found: %s" % path)
  with open(path, "rb") as f:
    raw_lines = f.read().split(b"\n")
  if raw_lines and raw_lines[-1] == b"":
    raw_lines.pop()
  header = (raw_lines[0].decode("utf-8", "replace").rstrip("\r")
            if raw_lines else "")
  if tuple(header.split("\t")) != HEADER:
    raise ManifestError(
        "%s:1: expected the header %r (tab-separated), found %r. Manifests "
        "are written by data/download.py." % (path, "\t".join(HEADER),
                                               header[:200]))
  return raw_lines[1:]


class _BadRow(Exception):
  """A row the text checks reject: its `Skipped` reason and detail."""

  def __init__(self, reason, detail):
    super().__init__(reason, detail)
    self.reason, self.detail = reason, detail


def _parse_row(raw, line_no, token_to_index, blank, text_policy):
  """One data line's `ManifestEntry`, or None for a blank line.

  Args:
    raw: the line's bytes, without the newline.
    line_no: its 1-based line number in the manifest.
    token_to_index, text_policy: as for `read_manifest`.
    blank: the CTC blank's token, which no transcript may hold (None with no
      vocabulary).

  Raises:
    _BadRow: the text checks reject it.
  """
  try:
    line = raw.decode("utf-8").rstrip("\r")
  except UnicodeDecodeError as e:
    raise _BadRow("not_utf8", "bytes that are not UTF-8 at column %d"
                  % (e.start + 1)) from None
  if not line.strip():
    return None  # blank lines carry no data
  fields = line.split("\t", 2)
  if len(fields) != 3:
    raise _BadRow("bad_columns",
                  "expected 3 tab-separated columns, found %d" % len(fields))
  wav_filename, size_text, transcript = fields
  if text_policy is not None:
    transcript = text_policy.apply(transcript)
  try:
    wav_filesize = int(size_text)
  except ValueError:
    raise _BadRow("bad_size",
                  "wav_filesize %r is not a number" % size_text) from None
  if not transcript.strip():
    raise _BadRow("empty_transcript", "empty transcript for %s"
                  % wav_filename)
  unknown = token_to_index is not None and sorted(set(
      c for c in transcript if c not in token_to_index or c == blank))
  if unknown:
    raise _BadRow("unknown_character", "characters not in the vocabulary: "
                  "%s in %r%s" % (", ".join(repr(c) for c in unknown),
                                  transcript, " (%r is the CTC blank)" % blank
                                  if blank in unknown else ""))
  return ManifestEntry(wav_filename, wav_filesize, transcript, line_no)


def write_manifest(path, entries):
  """Writes a manifest atomically: readers see the old file or the new one.

  Args:
    path: the manifest to write.
    entries: rows with wav_filename, wav_filesize and transcript (e.g.
      `ManifestEntry`), written in order under the header.

  Raises:
    ManifestError: a value holds a tab or a line break (it would shift the
      columns of every reader); nothing is written.
    atomic_file.WriteError: the file cannot be written (it names the path).
  """
  rows = []
  for entry in entries:
    row = "%s\t%d\t%s" % (entry.wav_filename, entry.wav_filesize,
                            entry.transcript)
    if row.count("\t") != 2 or any(c in row for c in "\r\n"):
      raise ManifestError("cannot write %r to the tab-separated manifest %s"
                          % (row, path))
    rows.append(row + "\n")
  with atomic_file.atomic_write(path) as f:
    f.write("\t".join(HEADER) + "\n")
    f.writelines(rows)


# The RIFF and data chunk size of a WAV written to a pipe: the largest
# 32-bit size, since the real one is not known until the end.
_STREAMING_SIZE = 0xFFFFFFFF


def wav_data_shortfall(path, file_size):
  """Bytes a RIFF/WAVE file's data chunk claims beyond the end of the file.

  libsndfile silently shortens a truncated WAV; the declared chunk size is
  the only trace of the missing audio. Returns 0 for non-WAV files, and for
  a data chunk of the streaming placeholder size (what a program writing
  to a pipe leaves, unable to seek back): libsndfile reads such a chunk to
  the end of the file, so nothing is announced and nothing is missing.
  """
  with open(path, "rb") as f:
    head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
      return 0
    offset = 12
    while True:
      chunk = f.read(8)
      if len(chunk) < 8:
        return 0
      chunk_id, chunk_size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
      offset += 8
      if chunk_id == b"data":
        if chunk_size == _STREAMING_SIZE:
          return 0
        return max(0, offset + chunk_size - file_size)
      offset += chunk_size + (chunk_size & 1)
      f.seek(offset)


def _audio_problem(entry, token_to_index, check):
  """Returns (reason, detail) for an unusable clip, or None."""
  path = entry.wav_filename
  if not os.path.isfile(path):
    return "missing_file", "%s does not exist" % path
  size = os.path.getsize(path)
  if size == 0:
    return "empty_file", "%s is empty (0 bytes)" % path
  try:
    info = soundfile.info(safe_path.for_tools(path))
  except (RuntimeError, soundfile.LibsndfileError) as e:
    return "not_audio", "%s cannot be read as audio: %s" % (path, e)
  if info.frames == 0:
    return "empty_file", "%s holds no audio frames" % path
  shortfall = wav_data_shortfall(path, size)
  if shortfall or size < entry.wav_filesize:
    return "truncated_audio", (
        "%s is truncated (%d bytes; the %s says %d)" % (
            path, size, "WAV header" if shortfall else "manifest",
            size + shortfall if shortfall else entry.wav_filesize))
  if info.samplerate != check.features.sample_rate:
    return "wrong_sample_rate", "%s is %d Hz, expected %d Hz" % (
        path, info.samplerate, check.features.sample_rate)
  if info.channels != 1:
    return "multi_channel", "%s has %d channels, expected mono" % (
        path, info.channels)
  seconds = info.frames / float(info.samplerate)
  if check.max_audio_sec and seconds > check.max_audio_sec:
    return "too_long", "%s is %.1f s, longer than the %g s limit" % (
        path, seconds, check.max_audio_sec)
  ctc_frames = check.ctc_frames(info.frames)
  if ctc_frames < 1:
    return "too_short", "%s is %.3f s, too short for one output frame" % (
        path, seconds)
  labels = [token_to_index[c] for c in entry.transcript]
  needed = ctc_required_frames(labels)
  if needed > ctc_frames:
    return "transcript_too_long", (
        "%s: %d characters need %d frames but %.2f s of audio gives %d after "
        "the convolutions" % (path, len(labels), needed, seconds, ctc_frames))
  return None


def _check_audio(path, entries, token_to_index, check, num_threads, skipped):
  """Runs `_audio_problem` over all entries with a progress display."""
  kept = []
  bar = progress.Progress("checking audio of " + path, len(entries),
                          unit="files", delay_s=5.0)
  with bar, concurrent.futures.ThreadPoolExecutor(num_threads) as pool:
    results = pool.map(
        lambda e: _audio_problem(e, token_to_index, check), entries,
        chunksize=64)
    for entry, problem in zip(entries, results):
      if problem is None:
        kept.append(entry)
      else:
        skipped.append(Skipped(path, entry.line, problem[0], problem[1]))
      bar.update()
  return kept


def format_skipped(item):
  """'manifest:line: reason: detail' for one skipped row."""
  return "%s:%d: %s: %s" % (item.manifest, item.line, item.reason,
                            item.detail)


def summarize_skipped(skipped, num_kept, max_listed=5):
  """A few lines for the log: counts per reason and the first rows."""
  counts = collections.Counter(item.reason for item in skipped)
  lines = ["skipped %d of %d rows (%s)" % (
      len(skipped), len(skipped) + num_kept,
      ", ".join("%s: %d" % kv for kv in sorted(counts.items())))]
  lines += ["  " + format_skipped(item) for item in skipped[:max_listed]]
  if len(skipped) > max_listed:
    lines.append("  ... and %d more" % (len(skipped) - max_listed))
  return "\n".join(lines)


def write_skipped(skipped, path):
  """Writes every skipped row as TSV (manifest, line, reason, detail).

  Raises:
    atomic_file.WriteError: the file cannot be written (it names the path).
  """
  with atomic_file.atomic_write(path) as f:
    f.write("manifest\tline\treason\tdetail\n")
    for item in skipped:
      f.write("%s\t%d\t%s\t%s\n" % (item.manifest, item.line, item.reason,
                                    item.detail.replace("\t", " ")))


def report_skipped(skipped, manifest_path, num_kept, model_dir, name=None):
  """Logs the summary and writes <model_dir>/skipped_<name>.tsv.

  Args:
    skipped, num_kept: from `read_manifest`.
    manifest_path: the manifest the rows come from.
    model_dir: where the list goes.
    name: the list's name; default the manifest's base name without its
      extension.

  Returns:
    The TSV path, or None when nothing was skipped (a stale list from an
    earlier run is removed then).
  """
  name = name or os.path.splitext(os.path.basename(manifest_path))[0]
  path = os.path.join(model_dir, "skipped_%s.tsv" % name)
  if not skipped:
    if os.path.exists(path):
      os.remove(path)
    return None
  write_skipped(skipped, path)
  logging.warning("%s: %s\nFull list: %s", manifest_path,
                  summarize_skipped(skipped, num_kept), path)
  return path

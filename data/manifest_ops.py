"""Whole-manifest operations: concatenate, filter by duration, split, count.

`data/manifest_tool.py` is their command line; the original's recipe
(`run_deep_speech.sh`) used them for the steps it did with `cat`, `sed` and a
`soxi -D` per file.

Rows come from `manifest.read_manifest` without the vocabulary check, so they
are copied with every character they have; a row that is not a manifest row
at all (wrong columns, a size that is no number, no transcript, bytes that are
not UTF-8) is a `manifest.ManifestError` naming the file and line, and nothing
is written.

Durations come from each wav file's header (soundfile), as the original's
`soxi -D` did: `wav_filesize` would give the same number only for a 44-byte
header and 16-bit 16 kHz mono, and says nothing about a file that changed or
went missing since the manifest was written.
"""

import collections
import concurrent.futures
import os
import random
import re

import soundfile

from data import manifest

# LibriSpeech names each utterance `<speaker>-<chapter>-<utterance>.wav`.
DEFAULT_SPEAKER_REGEX = r"(?:^|/)([^/-]+)-[^/-]+-[^/-]+\.[^/.]+$"

SourcedEntry = collections.namedtuple(
    "SourcedEntry", ["manifest", "entry"])

Stats = collections.namedtuple(
    "Stats", ["utterances", "hours", "speakers", "unreadable",
              "first_unreadable", "unknown_rows", "unknown_characters"])
Stats.__doc__ = """What `statistics` counts.

  utterances: rows. hours: audio of the readable rows, in hours.
  speakers: distinct speakers. unreadable: rows whose audio cannot be read;
  first_unreadable: 'manifest:line: detail' of the first, or None.
  unknown_rows: rows with a character outside the vocabulary;
  unknown_characters: Counter character -> occurrences.
"""


def _location(sourced):
  return "%s:%d" % (sourced.manifest, sourced.entry.line)


def read_rows(paths):
  """The rows of several manifests, in order, each with its manifest.

  Raises:
    manifest.ManifestError: a manifest is missing, has no header, or holds a
      row that is not a manifest row (named by file and line).
  """
  rows = []
  for path in paths:
    entries, skipped = manifest.read_manifest(path, None)
    if skipped:
      more = (" (and %d more bad rows)" % (len(skipped) - 1)
              if len(skipped) > 1 else "")
      raise manifest.ManifestError(manifest.format_skipped(skipped[0]) + more)
    rows.extend(SourcedEntry(path, entry) for entry in entries)
  return rows


def _same_file(a, b):
  if os.path.exists(a) and os.path.exists(b):
    return os.path.samefile(a, b)
  return os.path.realpath(a) == os.path.realpath(b)


def check_outputs(inputs, outputs):
  """Refuses outputs that are inputs or each other (the same file).

  Raises:
    ValueError: naming the path.
  """
  for i, output in enumerate(outputs):
    for path in inputs:
      if _same_file(output, path):
        raise ValueError(
            "refusing to write %s: it is the input %s" % (output, path))
    for other in outputs[:i]:
      if _same_file(output, other):
        raise ValueError(
            "refusing to write %s twice (two outputs name the same file)"
            % output)


def write_rows(path, rows):
  manifest.write_manifest(path, [row.entry for row in rows])


def concatenate(inputs, output):
  """Writes the rows of `inputs`, in order, under one header.

  Returns:
    The number of rows written.
  """
  check_outputs(inputs, [output])
  rows = read_rows(inputs)
  write_rows(output, rows)
  return len(rows)


def audio_seconds(rows, num_threads=16):
  """Each row's duration from its wav header, or the reason it has none.

  Returns:
    A list parallel to `rows`: seconds (float), or a str 'manifest:line: why'.
  """
  def seconds(row):
    path = row.entry.wav_filename
    try:
      info = soundfile.info(path)
    except (RuntimeError, OSError) as e:
      why = ("%s does not exist" % path if not os.path.exists(path)
             else "%s cannot be read as audio: %s" % (path, e))
      return "%s: %s" % (_location(row), why)
    return info.frames / float(info.samplerate)
  with concurrent.futures.ThreadPoolExecutor(num_threads) as pool:
    return list(pool.map(seconds, rows, chunksize=64))


def filter_by_duration(inputs, output, max_audio_sec, num_threads=16):
  """Writes the rows of `inputs` whose audio is at most `max_audio_sec` long.

  A clip of exactly `max_audio_sec` stays, as with the original's
  `soxi -D` test (`x <= maxlen`).

  Returns:
    (rows kept, rows dropped, hours kept).

  Raises:
    manifest.ManifestError: a bad row, or a row whose audio cannot be read
      (its file and line); nothing is written.
  """
  if not max_audio_sec > 0:
    raise ValueError("the longest clip must be positive, got %r"
                     % max_audio_sec)
  check_outputs(inputs, [output])
  rows = read_rows(inputs)
  durations = audio_seconds(rows, num_threads)
  problems = [d for d in durations if isinstance(d, str)]
  if problems:
    more = (" (and %d more unreadable)" % (len(problems) - 1)
            if len(problems) > 1 else "")
    raise manifest.ManifestError(problems[0] + more)
  kept = [(row, d) for row, d in zip(rows, durations) if d <= max_audio_sec]
  write_rows(output, [row for row, _ in kept])
  return len(kept), len(rows) - len(kept), sum(d for _, d in kept) / 3600.0


def compile_speaker_regex(speaker_regex):
  """The compiled speaker pattern; ValueError names a bad one."""
  try:
    return re.compile(speaker_regex)
  except re.error as e:
    raise ValueError("bad speaker pattern %r: %s" % (speaker_regex, e)) from e


def find_speaker(path, pattern):
  """Group 1 of `pattern` (or its whole match) searched in `path`, or None."""
  match = pattern.search(path)
  if not match:
    return None
  return match.group(1) if pattern.groups else match.group(0)


def speaker_of(row, pattern):
  """The speaker of a row (see `find_speaker`).

  Raises:
    manifest.ManifestError: the pattern does not match (file and line).
  """
  speaker = find_speaker(row.entry.wav_filename, pattern)
  if speaker is None:
    raise manifest.ManifestError(
        "%s: no speaker in %s: the speaker pattern %r does not match it" % (
            _location(row), row.entry.wav_filename, pattern.pattern))
  return speaker


def split_by_speaker(inputs, train_output, dev_output, dev_fraction=0.1,
                     seed=1, speaker_regex=DEFAULT_SPEAKER_REGEX):
  """Splits the rows of `inputs` into train and dev with no shared speaker.

  `dev_fraction` of the speakers (rounded, at least one) go to dev, drawn
  with `random.Random(seed)` from the sorted speaker ids, so the same inputs
  and seed give the same split on any machine. Rows keep their order.

  Returns:
    (train rows, dev rows, train speakers, dev speakers) counts.

  Raises:
    manifest.ManifestError: bad rows, a row without a speaker, or fewer than
      two speakers.
    ValueError: `dev_fraction` outside (0, 1) or a bad `speaker_regex`.
  """
  if not 0 < dev_fraction < 1:
    raise ValueError("the dev fraction must be between 0 and 1, got %r"
                     % dev_fraction)
  pattern = compile_speaker_regex(speaker_regex)
  check_outputs(inputs, [train_output, dev_output])
  rows = read_rows(inputs)
  speakers = [speaker_of(row, pattern) for row in rows]
  ids = sorted(set(speakers))
  if len(ids) < 2:
    raise manifest.ManifestError(
        "%s: %d speaker(s); a split by speaker needs at least two"
        % (", ".join(inputs), len(ids)))
  num_dev = min(len(ids) - 1, max(1, int(round(dev_fraction * len(ids)))))
  dev_ids = set(random.Random(seed).sample(ids, num_dev))
  train = [row for row, s in zip(rows, speakers) if s not in dev_ids]
  dev = [row for row, s in zip(rows, speakers) if s in dev_ids]
  write_rows(train_output, train)
  write_rows(dev_output, dev)
  return len(train), len(dev), len(ids) - num_dev, num_dev


def statistics(rows, durations, characters,
               speaker_regex=DEFAULT_SPEAKER_REGEX):
  """Counts hours, utterances, speakers and characters outside `characters`.

  A row without a speaker (the pattern does not match) counts as no speaker;
  a row whose audio cannot be read counts in `unreadable`, not in `hours`.

  Args:
    rows: `SourcedEntry` rows.
    durations: `audio_seconds(rows)` (read once, counted per manifest).
    characters: the characters a transcript may hold.
    speaker_regex: see `find_speaker`.

  Returns:
    A `Stats`.

  Raises:
    ValueError: a bad `speaker_regex`.
  """
  pattern = compile_speaker_regex(speaker_regex)
  problems = [d for d in durations if isinstance(d, str)]
  speakers = set(find_speaker(row.entry.wav_filename, pattern)
                 for row in rows) - {None}
  unknown = collections.Counter()
  unknown_rows = 0
  for row in rows:
    outside = [c for c in row.entry.transcript if c not in characters]
    unknown.update(outside)
    unknown_rows += bool(outside)
  seconds = sum(d for d in durations if not isinstance(d, str))
  return Stats(len(rows), seconds / 3600.0, len(speakers), len(problems),
               problems[0] if problems else None, unknown_rows, unknown)


def format_stats(name, stats):
  """Lines for one `Stats`, headed by `name`."""
  lines = ["%s: %d utterances, %.2f hours (%.0f s), %d speakers" % (
      name, stats.utterances, stats.hours, stats.hours * 3600,
      stats.speakers)]
  if stats.unknown_characters:
    lines.append("  %d utterances with characters outside the vocabulary: %s"
                 % (stats.unknown_rows, ", ".join(
                     "%r x%d" % kv for kv in sorted(
                         stats.unknown_characters.items()))))
  else:
    lines.append("  every character is in the vocabulary")
  if stats.unreadable:
    lines.append("  %d utterances with unreadable audio (not in the hours), "
                 "first: %s" % (stats.unreadable, stats.first_unreadable))
  return "\n".join(lines)

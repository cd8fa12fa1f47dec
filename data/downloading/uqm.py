"""The Ur-Quan Masters voice pack: dialogue of many voice actors, with text.

The voice pack is Debian's non-free `uqm-voice` (clips and timings) with
`uqm-content` (the dialogue text), licensed CC BY-NC-SA: every user fetches
it for themselves (`uqm_apt`), nothing of it is redistributed. Each race's
folder is one speaker: its lines are read by the same actor(s), so the dev
set holds out whole races, and no voice in it is ever heard in training.

A clip whose timings give one duration per line but the last is cut into its
lines; any other clip is kept whole if it is short enough.

Layout:
  <data_dir>/uqm/{apt,debs,unpacked}/         the fetch (without --uqm_dir)
  <data_dir>/uqm/tree/3dovoice/<race>/...     clips, timings (and texts)
  <data_dir>/uqm/tree/base/comm/<race>/<race>.txt  dialogue text
  <data_dir>/uqm/wav16k/<race>/<clip>.wav     whole clips at 16 kHz
  <data_dir>/uqm/lines/<race>/<clip>-<n>.wav  line n of a clip
  <data_dir>/uqm/uqm-train.csv, uqm-dev.csv   manifests
"""

import collections
import os
import shutil
import wave

from absl import logging

from common import atomic_file
from data import vocabulary as vocabulary_lib
from data.downloading import convert as convert_lib
from data.downloading import steps
from data.downloading import uqm_apt
from data.downloading import uqm_text

DIRECTORY = "uqm"
# Longer clips are rare once clips are cut into lines, and they cost the
# most memory per batch; 16 s is LibriSpeech's typical upper range.
DEFAULT_MAX_SEC = 16.0
# Held out as the dev set: three voices none of the measures of
# bench/uqm_voices.py singles out, of middling size, together about a tenth
# of the speech kept for training. A fixed list, so the split is the same on
# every machine and never depends on what a run happened to drop.
DEV_RACES = ("spathi", "supox", "syreen")
# Left out altogether: the voices bench/uqm_voices.py finds furthest from the
# human crew's on some measure - least voiced with the least stable pitch
# (urquan, kohrah), a machine's monotone (probe), the flattest, noisiest
# spectra with the most energy up high (orz, shofixti). Mycon, processed too,
# stays inside the range of the others on every measure, so it is kept.
EXCLUDED_RACES = ("kohrah", "orz", "probe", "shofixti", "urquan")
# A line read faster than this is not what its span holds: its timing is
# off (a timing list that fits by count but not by content).
MAX_CHARS_PER_SEC = 25.0

# One manifest row to make: the 16 kHz whole clip it comes from, where its
# wav goes (the same path for a whole clip), its span in seconds (end None
# for the clip's end) and its transcript.
Row = collections.namedtuple("Row", ["source", "wav", "start", "end",
                                     "transcript"])


def root(data_dir):
  return os.path.join(data_dir, DIRECTORY)


def manifest_paths(data_dir):
  """(train manifest, dev manifest)."""
  return (os.path.join(root(data_dir), "uqm-train.csv"),
          os.path.join(root(data_dir), "uqm-dev.csv"))


def locate_tree(data_dir, uqm_dir=None, keep_archives=False):
  """The folder holding `3dovoice/` and `base/comm/`, fetching if needed.

  Args:
    data_dir: where the fetch goes.
    uqm_dir: an unpacked copy instead of the fetch: a folder holding
      `3dovoice/`, or the game's `*.uqm` packages (an installed game, or
      `dpkg -x` of the two packages); only read, never written.
    keep_archives: keep the fetched .debs and their unpacked copy once the
      tree is extracted (deleted by default: the tree holds all we use).
  """
  tree = os.path.join(root(data_dir), "tree")
  if uqm_dir:
    if os.path.isdir(os.path.join(uqm_dir, "3dovoice")):
      return os.path.realpath(uqm_dir)
    packages = uqm_apt.find_packages(uqm_dir)
    if packages is None:
      raise uqm_apt.FetchError(
          "%s holds neither a 3dovoice/ folder nor the game's packages "
          "(%s)." % (uqm_dir, ", ".join(uqm_apt.PACKAGE_GLOBS)))
  elif not os.path.isdir(tree):
    work = root(data_dir)
    debs = uqm_apt.download_debs(work)
    unpacked = os.path.join(work, "unpacked")
    uqm_apt.unpack_debs(debs, unpacked)
    packages = uqm_apt.find_packages(unpacked)
    if packages is None:
      raise uqm_apt.FetchError("%s holds none of the game's packages (%s)." %
                               (unpacked, ", ".join(uqm_apt.PACKAGE_GLOBS)))
  else:
    return os.path.realpath(tree)
  uqm_apt.extract_tree(packages, tree)
  if not uqm_dir and not keep_archives:
    for name in ("debs", "unpacked"):
      shutil.rmtree(os.path.join(root(data_dir), name))
  return os.path.realpath(tree)


def _inside(path, folder):
  return os.path.realpath(path).startswith(os.path.realpath(folder) + os.sep)


def script_path(tree, race):
  """The race's dialogue file: the voice pack's own where it ships one.

  The voice pack replaces some races' text with the one its actors read;
  the game's resource map points at it, so it is what the clips say.
  """
  own = os.path.join(tree, "3dovoice", race, race + ".txt")
  return own if os.path.exists(own) else os.path.join(
      tree, "base", "comm", race, race + ".txt")


def list_races(tree):
  """The race folders to import: plain names, the excluded ones left out.

  A race's name becomes a folder name under the data directory, so a name
  of another shape (possible in a --uqm_dir copy) is skipped, and said so.
  """
  races = []
  voice_dir = os.path.join(tree, "3dovoice")
  for race in sorted(os.listdir(voice_dir)):
    if not os.path.isdir(os.path.join(voice_dir, race)):
      continue
    if not uqm_apt.RACE_NAME.match(race):
      logging.warning("UQM: skipped folder %r of %s: not a plain race name.",
                      race, voice_dir)
    elif race not in EXCLUDED_RACES:
      races.append(race)
  return races


def read_race(tree, race, stats, refused):
  """The race's entries that have a clip on disk: [(entry, ogg path)].

  Refusals (unsafe names) and misses are counted in `stats` and named in
  `refused`.
  """
  race_dir = os.path.join(tree, "3dovoice", race)
  text = script_path(tree, race)
  if not os.path.exists(text):
    logging.warning("UQM: %s has no dialogue file (%s); skipped.", race, text)
    stats["race without dialogue file"] += 1
    return []
  entries, refusals = uqm_text.read_script(text)
  refused += refusals
  if refusals:
    stats["refused clip name"] += len(refusals)
  found, seen = [], set()
  for entry in entries:
    if not entry.clip:
      continue
    ogg = os.path.join(race_dir, entry.clip)
    if entry.clip in seen:
      stats["clip named by an earlier entry too"] += 1
    elif not os.path.isfile(ogg):
      stats["clip missing from the voice pack"] += 1
    elif not (_inside(ogg, race_dir) and _inside(race_dir, tree)):
      refused.append("%s line %d: clip %r leads outside %s; entry skipped."
                     % (text, entry.line_number, entry.clip, race_dir))
      stats["refused clip name"] += 1
    else:
      found.append((entry, os.path.abspath(ogg)))
    seen.add(entry.clip)
  return found


def read_timings(tree, race):
  path = os.path.join(tree, "3dovoice", race, race + ".ts")
  return uqm_text.read_timings(path) if os.path.exists(path) else {}


def wav_seconds(path):
  with wave.open(path, "rb") as w:
    return w.getnframes() / float(w.getframerate())


def plan_clip(entry, times_ms, duration, max_sec, clean, whole_wav,
              lines_dir, stats):
  """The rows one clip gives: one per line where the timings fit, else one.

  Args:
    entry: its `uqm_text.Entry`.
    times_ms: its timings, [] when none.
    duration: the clip's length in seconds.
    max_sec: longer rows are dropped.
    clean: line -> (transcript, reason), see `uqm_text.clean_line`.
    whole_wav: the clip's 16 kHz wav.
    lines_dir: where cut lines go.
    stats: Counter of drop reasons.
  """
  lines = entry.lines
  if len(times_ms) == len(lines) - 1 and sum(times_ms) < duration * 1000:
    bounds = [sum(times_ms[:i]) / 1000.0 for i in range(len(lines))]
    spans = list(zip(bounds, bounds[1:] + [None]))
  else:
    spans = None
    stats["clips kept whole (timings do not fit)"] += 1
  if spans is None or len(spans) == 1:
    texts = [clean(line) for line in lines]
    reasons = [r for _, r in texts if r]
    transcript = " ".join(t for t, _ in texts if t)
    spans, texts = [(0.0, None)], [(transcript, reasons[0] if reasons
                                    else None)]
  else:
    texts = [clean(line) for line in lines]
  stem = entry.clip[:-len(".ogg")]
  rows = []
  for number, ((start, end), (transcript, reason)) in enumerate(
      zip(spans, texts)):
    length = (end if end is not None else duration) - start
    if reason:
      stats["dropped: " + reason] += 1
    elif not transcript:
      stats["dropped: no words"] += 1
    elif length > max_sec:
      stats["dropped: longer than --uqm_max_sec"] += 1
    elif len(transcript) > MAX_CHARS_PER_SEC * length:
      stats["dropped: too many characters for its span"] += 1
    else:
      whole = start == 0.0 and end is None
      wav = whole_wav if whole else os.path.join(
          lines_dir, "%s-%02d.wav" % (stem, number))
      rows.append(Row(whole_wav, wav, start, end, transcript))
  return rows


def cut_lines(rows):
  """Writes each row's span of its 16 kHz clip; existing wavs are complete.

  The clips are already 16-bit 16 kHz, so a span is a slice of samples:
  exact to the sample and without a process per line.
  """
  for row in rows:
    if row.wav == row.source or os.path.exists(row.wav):
      continue
    with wave.open(row.source, "rb") as w:
      params = w.getparams()
      first = int(round(row.start * params.framerate))
      last = params.nframes if row.end is None else min(
          params.nframes, int(round(row.end * params.framerate)))
      w.setpos(first)
      frames = w.readframes(last - first)
    with atomic_file.atomic_write(row.wav, "wb") as f:
      with wave.open(f, "wb") as out:
        out.setparams(params)
        out.writeframes(frames)


def _report(stats, refused, dropped_chars, counts):
  for message in refused:
    logging.warning("UQM: %s", message)
  for reason, count in sorted(stats.items()):
    logging.info("UQM: %s: %d.", reason, count)
  if dropped_chars:
    logging.info("UQM: characters outside the vocabulary removed from the "
                 "transcripts (count): %s.", ", ".join(
                     "%r x%d" % item for item in dropped_chars.most_common()))
  for name, (rows, seconds) in counts.items():
    logging.info("UQM: %s: %d rows, %.2f hours.", name, rows, seconds / 3600)


def prepare_uqm(data_dir, uqm_dir, max_sec, config):
  """Makes the UQM train/dev manifests and their 16 kHz wavs.

  Args:
    data_dir: the folder `root(data_dir)` is created in.
    uqm_dir: an unpacked copy to read instead of fetching, or None.
    max_sec: rows longer than this are dropped.
    config: a `steps.DownloadConfig` (workers, progress).

  Returns:
    (train manifest path, dev manifest path).
  """
  manifests = manifest_paths(data_dir)
  if all(convert_lib.manifest_is_complete(m) for m in manifests):
    logging.info("UQM: manifests are complete, skipped.")
    return manifests
  convert_lib.require_sox()
  tree = locate_tree(data_dir, uqm_dir, config.keep_archives)
  vocabulary = vocabulary_lib.characters(vocabulary_lib.VOCABULARY_FILE)
  stats, dropped_chars = collections.Counter(), collections.Counter()
  refused = []
  clean = lambda line: uqm_text.clean_line(line, vocabulary, dropped_chars)
  races = list_races(tree)
  clips = {race: read_race(tree, race, stats, refused) for race in races}
  wav_dir = os.path.join(root(data_dir), "wav16k")
  steps.convert([(ogg, os.path.join(wav_dir, race, e.clip[:-4] + ".wav"))
                 for race in races for e, ogg in clips[race]], "UQM", config)
  splits = {"train": [], "dev": []}
  for race in races:
    timings = read_timings(tree, race)
    for entry, _ in clips[race]:
      whole = os.path.join(wav_dir, race, entry.clip[:-4] + ".wav")
      rows = plan_clip(entry, timings.get(entry.key, []), wav_seconds(whole),
                       max_sec, clean, whole,
                       os.path.join(root(data_dir), "lines", race), stats)
      splits["dev" if race in DEV_RACES else "train"] += rows
  cut_lines(splits["train"] + splits["dev"])
  counts = collections.OrderedDict()
  for manifest, name in zip(manifests, ("train", "dev")):
    rows = splits[name]
    steps.write_manifest(manifest, [(r.wav, r.transcript) for r in rows])
    counts[name] = (len(rows), sum(wav_seconds(r.wav) for r in rows))
  _report(stats, refused, dropped_chars, counts)
  logging.info("UQM: wrote %s and %s; dev speakers %s; left out %s.",
               manifests[0], manifests[1], ", ".join(DEV_RACES),
               ", ".join(EXCLUDED_RACES))
  return manifests

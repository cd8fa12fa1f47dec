"""Benchmark: where the sample corpus's synthesis spends its CPU time.

data/sample_corpus.py voices each utterance in steps (data/synthesis/
voices.py): the engine (flite and espeak-ng one process per utterance,
festival one process per batch of chapters), sox (tempo, pitch, rate), the
seeded noise floor, levelling and padding ("mix"), and the FLAC write; then
the archives. This script runs the steps one after another in one thread, on
--per_voice utterances of every voice (chapters of the corpus's size, the
demo's sentences), and charges each step the CPU time it used: its own
process's (getrusage SELF) plus that of the engines and sox it waited for
(getrusage CHILDREN). CPU time holds up on a shared machine where wall time
does not; the load average is printed beside the figures.

Run from the repository root:

  python bench/synthesis.py                   # 100 utterances per voice
  python bench/synthesis.py --per_voice 5     # quick look

The corpus row weighs the voices as the corpus does (`voices.VOICES`
weights). The estimate for the demo's 12,200 utterances divides the CPU time
by the cores, so it assumes synthesis keeps them all busy. The last line
printed is one JSON object with the figures.
"""

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
# pylint: disable=g-import-not-at-top,wrong-import-position
from common import cpu
from data.synthesis import archive
from data.synthesis import plan as plan_lib
from data.synthesis import runner
from data.synthesis import text as text_lib
from data.synthesis import voices

STEPS = ("engine", "sox", "noise", "mix", "flac")
DEMO_UTTERANCES = 12200  # demo.sh's 12,000 training + 200 dev utterances.
# demo.sh's --vocab_size=3000 --train_vocab_size=5000: most of its training
# sentences come from the 5,000 most frequent words.
VOCAB_SIZE = 5000


def _cpu():
  """(own CPU s, children's CPU s, wall s) so far."""
  own = resource.getrusage(resource.RUSAGE_SELF)
  children = resource.getrusage(resource.RUSAGE_CHILDREN)
  return (own.ru_utime + own.ru_stime,
          children.ru_utime + children.ru_stime, time.perf_counter())


class Meter(object):
  """Sums own and children's CPU seconds and wall seconds per step."""

  def __init__(self):
    self.totals = {}

  def time(self, step, fn, *args):
    start = _cpu()
    result = fn(*args)
    end = _cpu()
    own, children, wall = self.totals.setdefault(step, (0.0, 0.0, 0.0))
    self.totals[step] = (own + end[0] - start[0],
                         children + end[1] - start[1], wall + end[2] - start[2])
    return result

  def cpu_ms(self, step, count):
    own, children, _ = self.totals.get(step, (0.0, 0.0, 0.0))
    return 1000.0 * (own + children) / count

  def wall_ms(self, step, count):
    return 1000.0 * self.totals.get(step, (0.0, 0.0, 0.0))[2] / count


def profile_voice(voice, sentences, per_voice, out_dir, tools, rng):
  """Synthesizes per_voice utterances of one voice, step by step.

  Chapters have the corpus's size and are batched as the corpus batches
  them (`runner.batch_jobs`: festival speaks several in one process).

  Returns:
    (Meter, seconds of audio made).
  """
  meter, seconds = Meter(), 0.0
  chapter_size = plan_lib.UTTERANCES_PER_SPEAKER[plan_lib.TRAIN]
  chapters = []
  for start in range(0, per_voice, chapter_size):
    chapters.append((voices.make_speaker(1000 + start, voice, rng),
                     rng.sample(sentences, min(chapter_size,
                                               per_voice - start))))
  for batch in runner.batch_jobs(chapters):
    with tempfile.TemporaryDirectory(prefix="bench_synthesis_") as tmp:
      wavs = meter.time("engine", voices.speak, batch, tmp, tools)
      for (speaker, _), chapter_wavs in zip(batch, wavs):
        for i, wav in enumerate(chapter_wavs):
          style = voices.make_style(rng)
          speech = meter.time("sox", voices.transform, wav, speaker, style,
                              tools)
          audio = meter.time("mix", voices.finish, speech, style, wav)
          # The noise is part of finish(); timed alone on the same length,
          # it is taken out of "mix" below.
          meter.time("noise", voices.noise_floor, len(audio), style)
          path = os.path.join(out_dir, "%s-%d-%04d.flac" % (
              voice.key, speaker.id, i))
          meter.time("flac", voices.write_flac, path, audio)
          seconds += len(audio) / voices.SAMPLE_RATE
  # A few utterances can time the noise alone longer than finish() with it.
  mix, noise = meter.totals["mix"], meter.totals["noise"]
  meter.totals["mix"] = tuple(max(0.0, m - n) for m, n in zip(mix, noise))
  return meter, seconds


def _row(name, figures):
  cells = " ".join("%8.1f" % figures[s] for s in STEPS)
  return "%-18s %s %8.1f %8.1f" % (name, cells, figures["total"],
                                   figures["wall"])


def _parse_args():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--per_voice", type=int, default=100,
                      help="utterances synthesized with each voice")
  parser.add_argument("--seed", type=int, default=1)
  return parser.parse_args()


def profile_voices(meter, sentences, per_voice, tools, rng):
  """Profiles every voice, printing its row, then times the archive.

  The FLAC files go where the corpus puts them, in a temporary corpus tree
  that the archive step then packs (charged to `meter`'s "archive").

  Returns:
    ({voice key: its figures, rounded}, seconds of audio made).
  """
  figures_by_voice, seconds = {}, 0.0
  with tempfile.TemporaryDirectory(prefix="bench_synthesis_") as out_dir:
    corpus_root = os.path.join(out_dir, archive.ARCHIVE_ROOT)
    flac_dir = os.path.join(corpus_root, plan_lib.TRAIN, "1", "1")
    os.makedirs(flac_dir)
    for voice in voices.VOICES:
      voice_meter, voice_seconds = profile_voice(
          voice, sentences, per_voice, flac_dir, tools, rng)
      seconds += voice_seconds
      figures = {s: voice_meter.cpu_ms(s, per_voice) for s in STEPS}
      figures["total"] = sum(figures.values())
      figures["wall"] = sum(voice_meter.wall_ms(s, per_voice)
                            for s in STEPS)
      figures_by_voice[voice.key] = {k: round(v, 2)
                                     for k, v in figures.items()}
      print(_row(voice.key, figures))
    meter.time("archive", archive.write_archive,
               os.path.join(out_dir, "a.tar.gz"), corpus_root, plan_lib.TRAIN,
               {"README.TXT": "bench\n"})
  return figures_by_voice, seconds


def main():
  args = _parse_args()
  tools = voices.find_tools()
  load_start = os.getloadavg()
  meter = Meter()
  sentences = meter.time("text", lambda: text_lib.restrict_vocabulary(
      text_lib.load_sentences(), VOCAB_SIZE))
  meter.time("plan", plan_lib.plan_corpus, sentences, DEMO_UTTERANCES - 200,
             200, args.seed)
  rng = random.Random(args.seed)
  print("CPU ms per utterance (own + engines' and sox's), one thread; "
        "%s; load %.1f at start" % (cpu.cpu_kind(), load_start[0]))
  print("%-18s %s %8s %8s" % ("voice", " ".join("%8s" % s for s in STEPS),
                              "total", "wall"))
  per_voice, seconds = profile_voices(meter, sentences, args.per_voice, tools,
                                      rng)
  count = args.per_voice * len(voices.VOICES)
  shares = voices.corpus_shares()
  corpus = {k: sum(per_voice[v][k] * share for v, share in shares.items())
            for k in STEPS + ("total", "wall")}
  print(_row("corpus (weighted)", corpus))
  print("shares of the corpus's CPU: %s" % ", ".join(
      "%s %.0f%%" % (s, 100 * corpus[s] / corpus["total"]) for s in STEPS))
  archive_ms = meter.cpu_ms("archive", count)
  once = {"text": meter.cpu_ms("text", 1) / 1000,
          "plan": meter.cpu_ms("plan", 1) / 1000}
  cores = len(os.sched_getaffinity(0))
  estimate = (DEMO_UTTERANCES * (corpus["total"] + archive_ms) / 1000 /
              cores + once["text"] + once["plan"])
  load_end = os.getloadavg()
  print("once per run: text %.2f s, plan of %d utterances %.2f s; archive "
        "%.2f ms per utterance" % (once["text"], DEMO_UTTERANCES,
                                   once["plan"], archive_ms))
  print("demo's %d utterances: ~%.0f s of CPU, ~%.0f s on %d busy cores; "
        "mean %.2f s of audio per utterance; load %.1f at end" % (
            DEMO_UTTERANCES, estimate * cores, estimate, cores,
            seconds / count, load_end[0]))
  print(json.dumps({
      "cpu": cpu.cpu_kind(), "machine": "shared with other jobs",
      "load": [round(load_start[0], 2), round(load_end[0], 2)],
      "per_voice_utts": args.per_voice, "cpu_ms_per_utt": per_voice,
      "corpus_cpu_ms_per_utt": {k: round(v, 2) for k, v in corpus.items()},
      "archive_cpu_ms_per_utt": round(archive_ms, 2),
      "text_s": round(once["text"], 2), "plan_s": round(once["plan"], 2),
      "demo_estimate_s": round(estimate, 1), "cores": cores,
      "mean_audio_s": round(seconds / count, 2)}))


if __name__ == "__main__":
  main()

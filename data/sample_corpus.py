r"""Synthesizes a small multi-speaker speech corpus in LibriSpeech's layout.

A newcomer cannot fetch 60 GB to see DeepSpeech2 learn, so the project
makes its own corpus offline with text-to-speech engines from Debian main
(apt-get install flite festival festvox-kallpc16k festvox-kdlpc16k
festvox-us-slt-hts espeak-ng sox wordnet-base fortunes-min wamerican):

    python data/sample_corpus.py --data_dir=/tmp/librispeech_sample

then feed the archives to the real download script, for example

    python data/download.py --data_dir=/tmp/librispeech_data \
        --base_url=file:///tmp/librispeech_sample \
        --checksum_file=/tmp/librispeech_sample/md5sum.txt \
        --subsets=sample-train,sample-dev

Subsets: `sample-train` (--num_train utterances, default 2000) and
`sample-dev` (--num_dev, default 200). They share no sentence and no speaker.
The dev sentences depend only on --seed, --num_dev and --vocab_size, so a
larger training set keeps the same dev set.

Output under --data_dir:

    LibriSpeech/<subset>/<spk>/<chap>/<spk>-<chap>-<utt>.flac  16 kHz mono
    LibriSpeech/<subset>/<spk>/<chap>/<spk>-<chap>.trans.txt   "<id> TEXT"
    <subset>.tar.gz   top-level member LibriSpeech/, as LibriSpeech ships
    md5sum.txt        "<hex>  <subset>.tar.gz"
    sample_corpus.json       config, archive digests and sizes (the marker
                             that lets an identical re-run return at once)
    sample_corpus.plan.json  every utterance's text, speaker and variation

Text: ~37,000 distinct sentences of 3-12 words from WordNet usage examples
and fortunes-min, normalized to a-z, apostrophe and space with numbers spelled
out, every word in /usr/share/dict/words (see `data/synthesis/text.py`).
--vocab_size keeps only sentences made of the most frequent words: with 2,000
training utterances, 28% of dev words are unseen in training with every
sentence, 12% with --vocab_size=5000 (13,500 sentences), 7.5% with 3000
(8,600 sentences). --train_vocab_size lets training go on past that pool:
once all of --vocab_size's sentences are used, training takes sentences
within the larger vocabulary, while dev stays within --vocab_size (and
unchanged).

Speakers (weights follow measured intelligibility; see docs/benchmarks.md):

    weight  engine     voice                  sex  rate               pitch
    4       flite      rms                    M    stretch .85-1.15   -200..+200 c
    3       flite      kal16                  M    stretch .85-1.15   -200..+200 c
    3       festival   cmu_us_slt_arctic_hts  F    stretch .85-1.15   -200..+150 c
    2       festival   kal_diphone            M    stretch .85-1.15   -200..+200 c
    2       flite      awb (Scottish)         M    stretch .85-1.15   -200..+200 c
    2       flite      slt                    F    stretch .85-1.15   -200..+150 c
    1       festival   ked_diphone            M    stretch .85-1.15   -200..+200 c
    2       espeak-ng  en-us / en-gb-x-rp +   M/F  140-185 wpm        espeak 35-65
                       m1 m2 m3 m7 f2 f3 f4

Speakers are spread over these voices by weight (about 10% espeak-ng, whose
robotic voices are the least intelligible); each draws its own rate and a
moderate pitch shift (sox `pitch`; larger shifts hurt intelligibility), so
dev speakers share base voices with training speakers (there are only seven
natural ones) but never a rate and pitch. One speaker reads about 25
training or 10 dev utterances (at least 4 speakers per subset): 80 training
and 20 dev speakers by default, ids 1000+ and 5000+. Each utterance gets a
sox tempo change of +-5%, a peak level of -9..-1 dBFS, 0.05-0.3 s of padding
and a noise floor of -68..-50 dBFS RMS, white to pink. SPEAKERS.TXT in each
archive lists the speakers.

Determinism: a seed fixes the sentences, speakers and every parameter, hence
the transcripts and the file list. flite, festival, espeak-ng and sox (kept in
float so it never dithers) were checked to be deterministic and the noise is
seeded per utterance, so the audio and the archives are byte-identical too on
the same package versions.

Re-running: finished utterances (written under temporary names, then
renamed) are reused when their plan entry is unchanged; archives are reused
when the plan is unchanged; with the same arguments a finished corpus is
recognized from sample_corpus.json without loading anything.
"""

import hashlib
import json
import os
import sys
import time

if __name__ == "__main__" and not __package__:
  # Run as `python data/sample_corpus.py`, Python puts data/ on the path, not
  # the repository root that holds the `data` package.
  sys.path.insert(0, os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))))

# pylint: disable=g-import-not-at-top,wrong-import-position
from absl import app
from absl import flags
from absl import logging
import soundfile

from common import atomic_file
from data.synthesis import archive
from data.synthesis import plan as plan_lib
from data.synthesis import runner
from data.synthesis import text as text_lib
from data.synthesis import voices
# pylint: enable=g-import-not-at-top,wrong-import-position

SUBSETS = plan_lib.SUBSETS
MANIFEST_FILE = "sample_corpus.json"
MD5SUM_FILE = "md5sum.txt"

# The public names this module always had; their home is data/synthesis/.
MissingDependencyError = voices.MissingDependencyError
find_tools = voices.find_tools


def synthesize(data_dir, plan, reusable, tools, num_workers):
  """Synthesizes every planned utterance not in reusable, in parallel.

  Returns:
    int, the number of utterances synthesized.
  """
  corpus_root = os.path.join(data_dir, archive.ARCHIVE_ROOT)
  jobs = []
  for subset, chapters in plan.items():
    for c in chapters:
      out_dir = plan_lib.chapter_dir(corpus_root, subset, c)
      items = [(os.path.join(out_dir, uid + ".flac"), text,
                voices.UtteranceStyle(*style))
               for uid, text, style in c["utterances"] if uid not in reusable]
      if items:
        os.makedirs(out_dir, exist_ok=True)
        jobs.append((voices.Speaker(*c["speaker"]), items))
  return runner.synthesize_chapters(jobs, tools, num_workers)


def _speaker_name(speaker):
  s = voices.Speaker(*speaker)
  if s.engine == "espeak-ng":
    return "espeak-ng %s %d wpm pitch %d" % (s.voice, s.rate, s.pitch)
  return "%s %s stretch %.3f pitch %+d cents" % (s.engine, s.voice, s.rate,
                                                 s.pitch)


def write_layout(data_dir, plan, seed):
  """Writes the transcripts and returns the archives' extra files and stats.

  Returns:
    (dict name -> text for README.TXT and SPEAKERS.TXT, dict of stats).
  """
  corpus_root = os.path.join(data_dir, archive.ARCHIVE_ROOT)
  rows, seconds = [], {}
  for subset, chapters in plan.items():
    minutes = {}
    for c in chapters:
      out_dir = plan_lib.chapter_dir(corpus_root, subset, c)
      atomic_file.write_text(
          os.path.join(out_dir, "%d-%d.trans.txt" % (
              c["speaker"][0], c["chapter"])),
          archive.transcript_text((u[0], u[1])
                                  for u in c["utterances"]))
      duration = sum(soundfile.info(os.path.join(out_dir, u[0] + ".flac"))
                     .duration for u in c["utterances"])
      seconds[subset] = seconds.get(subset, 0.0) + duration
      key = tuple(c["speaker"])
      minutes[key] = minutes.get(key, 0.0) + duration / 60
    rows += [(s[0], s[3], subset, m, _speaker_name(s))
             for s, m in minutes.items()]
  counts = {s: sum(len(c["utterances"]) for c in plan[s]) for s in plan}
  readme = (
      "Synthesized sample corpus in LibriSpeech's layout, made offline by\n"
      "data/sample_corpus.py (generator %d, seed %d) with flite, festival\n"
      "and espeak-ng over WordNet usage examples and fortunes-min.\n"
      "Speakers: SPEAKERS.TXT. Subsets:\n%s" % (
          plan_lib.GENERATOR_VERSION, seed, "".join(
              "  %s: %d utterances, %.2f hours\n" % (
                  s, counts[s], seconds[s] / 3600) for s in plan)))
  stats = {s: {"utterances": counts[s], "hours": round(seconds[s] / 3600, 3),
               "mean_seconds": round(seconds[s] / max(counts[s], 1), 2)}
           for s in plan}
  return {"README.TXT": readme,
          "SPEAKERS.TXT": archive.speakers_text(sorted(rows))}, stats


def _is_complete(data_dir, manifest, config):
  """Whether a previous run finished this exact config (cheap: no reads)."""
  if not manifest.get("complete") or manifest.get("config") != config:
    return False
  if not os.path.isfile(os.path.join(data_dir, MD5SUM_FILE)):
    return False
  for subset in SUBSETS:
    path = os.path.join(data_dir, subset + ".tar.gz")
    if (not os.path.isfile(path) or os.path.getsize(path) !=
        manifest["archives"].get(subset, {}).get("size")):
      return False
  return True


def write_archives(data_dir, plan, extra_files, manifest_path, manifest):
  """Packs each subset, reusing archives already made from the same plan.

  Args:
    data_dir: str.
    plan: the plan the audio on disk was made from.
    extra_files: dict name -> text placed under LibriSpeech/ in each archive.
    manifest_path: str, where progress is recorded after each archive.
    manifest: dict; its "archives" entries are updated in place.

  Returns:
    dict archive file name -> hex MD5.
  """
  plan_key = hashlib.sha1(json.dumps(
      [plan_lib.GENERATOR_VERSION, plan]).encode()).hexdigest()
  corpus_root = os.path.join(data_dir, archive.ARCHIVE_ROOT)
  archives = manifest.setdefault("archives", {})
  for subset in SUBSETS:
    path = os.path.join(data_dir, subset + ".tar.gz")
    entry = archives.get(subset, {})
    if (entry.get("plan") == plan_key and os.path.isfile(path)
        and os.path.getsize(path) == entry["size"]):
      continue  # Same plan, hence byte-identical contents.
    archive.write_archive(path, corpus_root, subset, extra_files)
    archives[subset] = {"plan": plan_key, "size": os.path.getsize(path),
                        "md5": archive.md5_file(path)}
    # Recorded as soon as it exists, so an interrupted run resumes after it.
    atomic_file.write_text(manifest_path, json.dumps(manifest))
  digests = {s + ".tar.gz": archives[s]["md5"] for s in SUBSETS}
  atomic_file.write_text(os.path.join(data_dir, MD5SUM_FILE),
                         archive.md5sum_text(digests))
  return digests


def build_corpus(data_dir, num_train=2000, num_dev=200, seed=1,
                 num_workers=None, tool_path=None, vocab_size=0,
                 train_vocab_size=None):
  """Builds (or finishes, or recognizes) the sample corpus in data_dir.

  Args:
    data_dir: str, output directory (created if needed).
    num_train, num_dev: int >= 1, utterances per subset.
    seed: int, fixes sentences, speakers and all variation.
    num_workers: int, parallel synthesis jobs; None or 0 for all cores.
    tool_path: optional search path for the engines instead of $PATH.
    vocab_size: int, use only sentences made of the vocab_size most frequent
      words (see `text_lib.restrict_vocabulary`); 0 for all sentences.
    train_vocab_size: int or None; when larger than vocab_size (or 0, every
      sentence), training may also use sentences within this vocabulary,
      after all of vocab_size's. Dev stays within vocab_size.

  Returns:
    dict summary: "skipped" (True when a finished corpus was recognized and
    nothing was read or written), "synthesized", "reused", "archives"
    (file name -> MD5), "megabytes" and "subsets" (name -> utterances,
    hours, mean_seconds).

  Raises:
    MissingDependencyError: engines, voices or text packages are missing.
    voices.SynthesisError: an engine failed.
    ValueError: bad counts, or more sentences requested than available.
  """
  if num_train < 1 or num_dev < 1:
    raise ValueError("num_train and num_dev must be >= 1")
  config = plan_lib.corpus_config(num_train, num_dev, seed, vocab_size,
                                  train_vocab_size)
  manifest_path = os.path.join(data_dir, MANIFEST_FILE)
  manifest = plan_lib.read_json(manifest_path) or {}
  if _is_complete(data_dir, manifest, config):
    logging.info("Sample corpus in %s is complete; nothing to do.", data_dir)
    return dict(manifest["summary"], skipped=True, synthesized=0)

  tools = find_tools(tool_path)
  num_workers = num_workers or _available_cpus()
  os.makedirs(data_dir, exist_ok=True)
  start = time.time()
  every_sentence = text_lib.load_sentences()
  sentences = text_lib.restrict_vocabulary(every_sentence, vocab_size)
  extra = []
  if train_vocab_size is not None and train_vocab_size != vocab_size:
    extra = text_lib.restrict_vocabulary(every_sentence, train_vocab_size)
  plan = plan_lib.plan_corpus(sentences, num_train, num_dev, seed,
                              extra_train=extra)
  reusable = plan_lib.reconcile(data_dir, plan)
  logging.info("Synthesizing %d utterances (%d reused) with %d workers.",
               num_train + num_dev - len(reusable), len(reusable),
               num_workers)
  synthesized = synthesize(data_dir, plan, reusable, tools, num_workers)
  extra_files, stats = write_layout(data_dir, plan, seed)

  manifest = {"config": config, "complete": False,
              "archives": manifest.get("archives", {})}
  digests = write_archives(data_dir, plan, extra_files, manifest_path,
                           manifest)
  megabytes = sum(a["size"] for a in manifest["archives"].values()) / 1e6
  summary = {"reused": len(reusable), "archives": digests,
             "megabytes": round(megabytes, 1), "subsets": stats}
  manifest.update(complete=True, summary=summary)
  atomic_file.write_text(manifest_path, json.dumps(manifest, indent=1))
  logging.info(
      "Sample corpus ready in %s: %s; %.1f MB of archives; %d utterances "
      "synthesized in %.0f s.", data_dir, "; ".join(
          "%s %d utterances, %.1f min, mean %.2f s" % (
              s, v["utterances"], v["hours"] * 60, v["mean_seconds"])
          for s, v in stats.items()), megabytes, synthesized,
      time.time() - start)
  return dict(summary, skipped=False, synthesized=synthesized)


def define_sample_corpus_flags():
  """Declares this script's flags (called from `__main__` only)."""
  flags.DEFINE_string(
      "data_dir", "/tmp/librispeech_sample",
      "Directory for LibriSpeech/, the <subset>.tar.gz archives and "
      "md5sum.txt; pass file://<data_dir>/ to download.py as --base_url.")
  flags.DEFINE_integer("num_train", 2000, "Utterances in sample-train.",
                       lower_bound=1)
  flags.DEFINE_integer("num_dev", 200, "Utterances in sample-dev.",
                       lower_bound=1)
  flags.DEFINE_integer("seed", 1, "Seed for sentences, speakers and "
                       "variation; the same seed gives the same corpus.")
  flags.DEFINE_integer("num_workers", 0, "Parallel synthesis jobs; 0 uses "
                       "every available core.", lower_bound=0)
  flags.DEFINE_integer(
      "vocab_size", 0, "Use only sentences whose words are all among the "
      "vocab_size most frequent words of the text pool (0: every sentence). "
      "Smaller vocabularies are easier to learn from few utterances: 3000 "
      "leaves 8,600 sentences, 5000 leaves 13,500.", lower_bound=0)
  flags.DEFINE_integer(
      "train_vocab_size", None, "Let training use more sentences than "
      "--vocab_size leaves: after all of those, sentences within this many "
      "most frequent words (0: every sentence). Dev stays within "
      "--vocab_size. Default: the same as --vocab_size.", lower_bound=0)


def _fail(message, code=1):
  sys.stderr.write("sample_corpus.py: error: %s\n" % message)
  sys.exit(code)


def _available_cpus():
  try:
    return len(os.sched_getaffinity(0))
  except AttributeError:  # Not on Linux.
    return os.cpu_count() or 1


def main(_):
  logging.set_verbosity(logging.INFO)
  flags_obj = flags.FLAGS
  try:
    build_corpus(flags_obj.data_dir, flags_obj.num_train, flags_obj.num_dev,
                 flags_obj.seed, flags_obj.num_workers,
                 vocab_size=flags_obj.vocab_size,
                 train_vocab_size=flags_obj.train_vocab_size)
  except MissingDependencyError as e:
    sys.stderr.write(str(e))
    sys.exit(1)
  except (voices.SynthesisError, ValueError) as e:
    _fail(str(e))
  except OSError as e:
    _fail("%s%s" % (e.strerror or e, ": %s" % e.filename if e.filename
                    else ""))
  except KeyboardInterrupt:
    _fail("interrupted; re-run the same command to resume.", code=130)


if __name__ == "__main__":
  define_sample_corpus_flags()
  app.run(main)

"""Benchmark: CTC decoders' speed and WER/CER on one set of acoustic outputs.

Synthesizes LibriSpeech-length utterances (12 to 15 s, about 37 words,
25 output frames a second) from held-out sentences of the sample corpus text
(data/synthesis/text.py: WordNet examples and fortunes), as softmax matrices
whose argmax path makes recognizer-like letter errors: a fraction of the
letters has a wrong letter on top with the right one close behind, the case
a language model repairs. A 4-gram is built by data/build_lm.py from the
other sentences (never the test ones). Every decoder decodes the same cached
matrices:

  greedy, beam (no LM), beam+LM (the LM's words), beam+LM+lexicon
  (the words file data/build_lm.py --vocab_out wrote),

and with --compare_pyctcdecode the same beam+LM through pyctcdecode (the
second candidate library; needs pyctcdecode and a kenlm module).

Run from the repository root:

  python bench/decoding.py                       # 200 utterances, width 100
  python bench/decoding.py --utts 20 --processes 1   # quick look

--processes N decodes N shards in N forked processes (flashlight holds the
GIL, so threads do not help); utterances/s counts wall time, LM loading not
included. The last line printed is one JSON object with the figures.
"""

import argparse
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
# pylint: disable=g-import-not-at-top,wrong-import-position
from common import cpu
from data import vocabulary
from data.synthesis import text as sample_text
import decoder
from decoding import scoring

FRAMES_PER_SECOND = 25  # 10 ms hops, two stride-2 convolutions.


def split_sentences(seed, num_utts, vocab_size):
  """LM sentences and test utterances from disjoint sentence sets.

  Returns:
    (lm_sentences, references): references are 180-225 characters (12-15 s
    at LibriSpeech's ~15 characters a second).
  """
  sentences = sample_text.restrict_vocabulary(
      sample_text.load_sentences(), vocab_size)
  rng = random.Random(seed)
  rng.shuffle(sentences)
  test_pool, lm_sentences = sentences[:num_utts * 5], sentences[num_utts * 5:]
  references, i = [], 0
  while len(references) < num_utts:
    target, words = rng.randint(180, 225), []
    while len(" ".join(words)) < target:
      words += test_pool[i % len(test_pool)].split()
      i += 1
    references.append(" ".join(words))
  return lm_sentences, references


def synthesize(text, labels, rng, error_rate, strength=6.0):
  """A [time, num_classes] softmax matrix that spells `text` with errors.

  Each letter gets one frame, followed by a blank frame 60% of the time
  (always between repeated letters), about 25 frames a second of speech.
  With probability `error_rate` a random wrong letter peaks and the right
  one scores 1 lower; every frame carries unit Gaussian noise.
  """
  blank = vocabulary.blank_index(labels)
  frames, previous = [], None
  for char in text:
    k = labels.index(char)
    if k == previous:
      frames.append((blank, None))
    wrong = None
    if rng.random() < error_rate:
      wrong = rng.choice([j for j in range(1, blank) if j != k])
    frames.append((k, wrong))
    if rng.random() < 0.6:
      frames.append((blank, None))
    previous = k
  logits = np.random.RandomState(rng.randrange(2**31)).normal(
      size=(len(frames), len(labels)))
  for t, (k, wrong) in enumerate(frames):
    if wrong is None:
      logits[t, k] += strength
    else:
      logits[t, wrong] += strength
      logits[t, k] += strength - 1.0
  logits -= logits.max(axis=1, keepdims=True)
  probs = np.exp(logits)
  return (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)


def pad(matrices, blank):
  """Stacks [time, classes] matrices into [batch, max_time, classes]."""
  lengths = np.array([m.shape[0] for m in matrices])
  batch = np.zeros((len(matrices), lengths.max(), matrices[0].shape[1]),
                   np.float32)
  batch[..., blank] = 1.0
  for i, m in enumerate(matrices):
    batch[i, :m.shape[0]] = m
  return batch, lengths


# Forked workers inherit these (set before the pool starts).
_SHARED = {}


def _decode_shard(bounds):
  start, end = bounds
  probs, lengths = _SHARED["probs"], _SHARED["lengths"]
  return _SHARED["decode"](probs[start:end], lengths[start:end])


def timed_decode(decode, probs, lengths, processes):
  """Decodes the batch in `processes` shards; returns (texts, seconds)."""
  if processes <= 1:
    start = time.perf_counter()
    texts = decode(probs, lengths)
    return texts, time.perf_counter() - start
  _SHARED.update(probs=probs, lengths=lengths, decode=decode)
  edges = np.linspace(0, len(lengths), processes + 1).astype(int)
  with multiprocessing.get_context("fork").Pool(processes) as pool:
    start = time.perf_counter()
    parts = pool.map(_decode_shard, list(zip(edges[:-1], edges[1:])))
    seconds = time.perf_counter() - start
  return [t for part in parts for t in part], seconds


def pyctcdecode_decode(labels, lm_path, words, alpha, beta, beam_width):
  """pyctcdecode's beam+LM as a decode_batch-like function."""
  import pyctcdecode  # pylint: disable=g-import-not-at-top
  # pyctcdecode marks the blank with "" (a "-" would be a 30th label).
  search = pyctcdecode.build_ctcdecoder(
      list(labels[:-1]) + [""], kenlm_model_path=lm_path, unigrams=words,
      alpha=alpha, beta=beta)

  def decode(probs, lengths):
    return [" ".join(search.decode(np.log(np.maximum(p[:n], 1e-30)),
                                   beam_width=beam_width).split())
            for p, n in zip(probs, lengths)]
  return decode


def build_lm(sentences, folder, order):
  """Runs data/build_lm.py on the sentences; returns (arpa, words file)."""
  text = os.path.join(folder, "lm.txt")
  with open(text, "w") as f:
    f.write("\n".join(sentences) + "\n")
  arpa, words = os.path.join(folder, "lm.arpa"), os.path.join(folder,
                                                              "words.txt")
  subprocess.run([sys.executable, os.path.join(ROOT, "data", "build_lm.py"),
                  "--text_file=" + text, "--order=%d" % order,
                  "--lm_out=" + arpa, "--vocab_out=" + words], check=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  return arpa, words


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--utts", type=int, default=200)
  parser.add_argument("--beam_width", type=int,
                      default=decoder.DEFAULT_BEAM_WIDTH)
  parser.add_argument("--order", type=int, default=4)
  parser.add_argument("--alpha", type=float, default=1.0)
  parser.add_argument("--beta", type=float, default=1.0)
  parser.add_argument("--error_rate", type=float, default=0.08,
                      help="Fraction of letters whose frame peaks wrong.")
  parser.add_argument("--vocab_size", type=int, default=6000,
                      help="Sentences use only the most frequent words.")
  parser.add_argument("--processes", type=int, default=2)
  parser.add_argument("--compare_pyctcdecode", action="store_true")
  parser.add_argument("--seed", type=int, default=0)
  return parser.parse_args(argv)


def main(argv=None):
  args = parse_args(argv)
  labels = vocabulary.read_tokens(vocabulary.VOCABULARY_FILE)
  lm_sentences, references = split_sentences(args.seed, args.utts,
                                             args.vocab_size)
  rng = random.Random(args.seed + 1)
  probs, lengths = pad([synthesize(r, labels, rng, args.error_rate)
                        for r in references], vocabulary.blank_index(labels))
  print("CPU: %s, %d cores (shared with other work: figures vary)"
        % (cpu.cpu_kind(), os.cpu_count()))
  print("%d utterances, %.1f s of speech each on average, beam width %d, "
        "%d processes" % (len(references), lengths.mean() / FRAMES_PER_SECOND,
                          args.beam_width, args.processes))
  with tempfile.TemporaryDirectory() as folder:
    arpa, words = build_lm(lm_sentences, folder, args.order)
    lm = dict(lm_path=arpa, alpha=args.alpha, beta=args.beta)
    setups = [("greedy", dict(kind="greedy")),
              ("beam", dict(kind="beam")),
              ("beam+lm", dict(kind="beam", **lm)),
              ("beam+lm+lexicon", dict(kind="beam", lexicon=words, **lm))]
    results = {}
    for name, kwargs in setups:
      if kwargs["kind"] == "beam":
        kwargs["beam_width"] = args.beam_width
      decode = decoder.make_decoder(labels=labels, **kwargs).decode_batch
      results[name] = run_setup(name, decode, probs, lengths, references,
                                args.processes)
    if args.compare_pyctcdecode:
      with open(words) as f:
        unigrams = f.read().split()
      decode = pyctcdecode_decode(labels, arpa, unigrams, args.alpha,
                                  args.beta, args.beam_width)
      results["pyctcdecode beam+lm"] = run_setup(
          "pyctcdecode beam+lm", decode, probs, lengths, references,
          args.processes)
  print(json.dumps({"cpu": cpu.cpu_kind(), "utts": len(references),
                    "mean_audio_s": round(float(lengths.mean()) /
                                          FRAMES_PER_SECOND, 2),
                    "beam_width": args.beam_width,
                    "processes": args.processes, "results": results}))
  return 0


def run_setup(name, decode, probs, lengths, references, processes):
  texts, seconds = timed_decode(decode, probs, lengths, processes)
  rates = scoring.compute_error_rates(texts, references)
  figures = {"utt_per_s": round(len(texts) / seconds, 2),
             "corpus_WER": round(rates["corpus_WER"], 4),
             "corpus_CER": round(rates["corpus_CER"], 4)}
  print("%-20s %8.1f utt/s   WER %.4f   CER %.4f" % (
      name, figures["utt_per_s"], figures["corpus_WER"],
      figures["corpus_CER"]), flush=True)
  return figures


if __name__ == "__main__":
  raise SystemExit(main())

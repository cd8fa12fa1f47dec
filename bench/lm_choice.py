"""Benchmark: which language model serves a trained model best, per dev set.

Runs an export once over a tuning manifest and each evaluation manifest
(acoustic outputs cached in --cache_dir), then for every LM given (word
n-grams and character n-grams, data/build_lm.py --unit) tunes alpha and
beta on the tuning manifest only and reports WER/CER of each evaluation set
at the tuned weights, next to greedy decoding. Tune on rows held out of
training, never on a set you report (decoding/tuning.py).

  python bench/lm_choice.py --saved_model=demo_data/export \\
      --tune_manifest=demo_data/lm/sample-train-tune.csv \\
      --eval=dev=demo_data/LibriSpeech/sample-dev.csv \\
      --eval=real-dev=demo_data/uqm/uqm-dev.csv \\
      --lm=word4=demo_data/lm/4gram.arpa --lm=char6=/tmp/char6.arpa

The last line printed is one JSON object with the figures.
"""

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
# pylint: disable=g-import-not-at-top,wrong-import-position
from common import cpu
import decoder
from decoding import char_lm
from decoding import scoring
from decoding import tuning


def _named(value):
  name, sep, path = value.partition("=")
  if not sep or not name or not path:
    raise argparse.ArgumentTypeError("expected NAME=PATH, got %r" % value)
  return name, path


def _axis(value):
  """"min,max,steps" of a grid axis."""
  try:
    low, high, steps = value.split(",")
    return float(low), float(high), int(steps)
  except ValueError:
    raise argparse.ArgumentTypeError(
        "expected min,max,steps, got %r" % value) from None


def _args(argv):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--saved_model", required=True)
  parser.add_argument("--tune_manifest", required=True)
  parser.add_argument("--eval", type=_named, action="append", required=True,
                      help="NAME=MANIFEST, repeatable")
  parser.add_argument("--lm", type=_named, action="append", required=True,
                      help="NAME=ARPA, repeatable")
  parser.add_argument("--cache_dir", default=None,
                      help="where the acoustic outputs are cached")
  parser.add_argument("--num", type=int, default=0,
                      help="rows per manifest (0: all)")
  parser.add_argument("--beam_width", type=int, default=decoder.DEFAULT_BEAM_WIDTH)
  parser.add_argument("--alpha", type=_axis, default="0.25,2.0,8",
                      help="min,max,steps of the LM weight")
  parser.add_argument("--beta", type=_axis, default="-2.0,2.0,5",
                      help="min,max,steps of the word bonus")
  parser.add_argument("--processes", type=int, default=2)
  return parser.parse_args(argv)


def _outputs(model, name, path, args):
  """(probabilities, lengths, references), from the cache when it fits."""
  paths, references, _ = tuning.manifest_rows(
      path, model.settings.labels, model.settings.text_policy, args.num)
  cache = (os.path.join(args.cache_dir, name + ".npz") if args.cache_dir
           else None)
  identity = tuning.model_identity(args.saved_model)
  cached = tuning.cached_outputs(cache, references, identity)
  if cached is not None:
    return cached[0], cached[1], references
  print("acoustic outputs of %s (%d utterances)" % (name, len(paths)),
        flush=True)
  probs, lengths, labels = tuning.acoustic_outputs(model, paths)
  if cache:
    os.makedirs(args.cache_dir, exist_ok=True)
    tuning.save_outputs(cache, probs, lengths, references, labels, identity)
  return probs, lengths, references


def _rates(search, outputs):
  probs, lengths, references = outputs
  rates = scoring.compute_error_rates(search.decode_batch(probs, lengths),
                                      references)
  return {"wer": round(rates["corpus_WER"], 4),
          "cer": round(rates["corpus_CER"], 4)}


def _tuned(labels, lm_path, tune, evals, args):
  """One LM's tuned weights and its figures on every evaluation set."""
  base = decoder.make_decoder("beam", labels, beam_width=args.beam_width,
                              lm_path=lm_path)
  points = tuning.grid(*args.alpha, *args.beta)
  scored = tuning.search(base, *tune, points, processes=args.processes)
  best = tuning.best_point(scored)
  search = base.with_weights(best.alpha, best.beta)
  return {"kind": "char" if char_lm.is_character_lm(lm_path) else "word",
          "alpha": best.alpha, "beta": best.beta,
          "tune_wer": round(best.wer, 4),
          "edge": tuning.on_edge(best, scored),
          "eval": {name: _rates(search, outputs)
                   for name, outputs in evals.items()}}


def main(argv=None):
  args = _args(argv)
  model = tuning.load_model(saved_model=args.saved_model)
  labels = list(model.settings.labels)
  tune = _outputs(model, "tune", args.tune_manifest, args)
  evals = {name: _outputs(model, name, path, args)
           for name, path in args.eval}
  greedy = decoder.make_decoder("greedy", labels)
  results = {"greedy": {name: _rates(greedy, outputs)
                        for name, outputs in evals.items()}}
  print("%-10s %6s %6s  %s" % ("decoder", "alpha", "beta", "  ".join(
      "%s WER/CER" % name for name in evals)))
  print("%-10s %6s %6s  %s" % ("greedy", "", "", "  ".join(
      "%.3f/%.3f" % (r["wer"], r["cer"]) for r in results["greedy"].values())))
  for name, path in args.lm:
    result = results[name] = _tuned(labels, path, tune, evals, args)
    print("%-10s %6.2f %6.2f  %s%s" % (
        name, result["alpha"], result["beta"], "  ".join(
            "%.3f/%.3f" % (r["wer"], r["cer"])
            for r in result["eval"].values()),
        "  (best on the grid's %s)" % ", ".join(result["edge"])
        if result["edge"] else ""), flush=True)
  print(json.dumps({"bench": "lm_choice", "cpu_kind": cpu.cpu_kind(),
                    "beam_width": args.beam_width, "results": results}))


if __name__ == "__main__":
  main()

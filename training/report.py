"""The evaluation report: per decoder, its figures and telling utterances.

After each cycle and each evaluation-only run, `<model_dir>/eval/` gets a
JSON report (written atomically), `report-step-<N>.json` for a cycle or
`report-step-<N>-<manifest>.json` for `--eval_only`, and the same content as
`latest.json`. (TensorBoard event files may share the folder; they are
named events.out.*.) Its shape:

    {"global_step": N, "checkpoint": prefix, "eval_data": manifest,
     "cycle": k or null, "utterances": count,
     "decoders": {"greedy": SECTION, "beam": SECTION (when configured)},
     "extra_eval": {NAME: {"eval_data": manifest, "utterances": count,
                           "decoders": {...as above}}}
                   (only with --extra_eval_data_dir)}

    SECTION = {"decoder": "greedy" | "beam" | "beam+LM" | "beam+lexicon" |
                          "beam+LM+lexicon",
               "settings": {"beam_width", "alpha", "beta", "lm_path",
                            "lexicon"} (beam only),
               "WER", "CER": the original's means over utterances,
               "corpus_WER", "corpus_CER": total errors / total length,
               "words", "chars": {"substitutions", "deletions",
                                  "insertions", "errors", "ref_length",
                                  "rate"} (corpus totals),
               "best", "median", "worst": UTTERANCE}

    UTTERANCE = {"wav_filename", "reference", "prediction", "WER", "CER",
                 "words": counts, "chars": counts}

Utterances are ranked by their WER, then CER, then manifest order; the
median is the lower middle one.
"""

import os

from common import atomic_file
from decoding import scoring

REPORT_DIR = "eval"
LATEST_FILE = "latest.json"


def eval_only_name(step, manifest_path):
  """The report name of an evaluation-only run: step and manifest."""
  stem = os.path.splitext(os.path.basename(manifest_path))[0]
  return "report-step-%d-%s.json" % (step, stem)


def _utterance(entry, scored):
  return {"wav_filename": entry.wav_filename,
          "reference": scored["reference"],
          "prediction": scored["hypothesis"],
          "WER": scored["words"]["rate"], "CER": scored["chars"]["rate"],
          "words": scored["words"], "chars": scored["chars"]}


def decoder_section(results, targets, entries, the_decoder=None):
  """One decoder's part of the report.

  Args:
    results: the decoder's `evaluate_model` figures, with "decoded" and
      "decoder" (its label).
    targets: the references, in entry order.
    entries: the evaluation entries (for the file names).
    the_decoder: the decoder object; a beam decoder's settings are recorded.
  """
  breakdown = scoring.compute_error_breakdown(results["decoded"], targets)
  scored = breakdown["utterances"]
  order = sorted(range(len(scored)), key=lambda i: (
      scored[i]["words"]["rate"], scored[i]["chars"]["rate"], i))
  section = {"decoder": results["decoder"]}
  if hasattr(the_decoder, "beam_width"):
    section["settings"] = {
        "beam_width": the_decoder.beam_width, "alpha": the_decoder.alpha,
        "beta": the_decoder.beta, "lm_path": the_decoder.lm_path,
        "lexicon": the_decoder.lexicon}
  for key in ("WER", "CER", "corpus_WER", "corpus_CER"):
    section[key] = results[key]
  section["words"] = breakdown["words"]
  section["chars"] = breakdown["chars"]
  for name, rank in (("best", 0), ("median", (len(order) - 1) // 2),
                     ("worst", len(order) - 1)):
    section[name] = _utterance(entries[order[rank]], scored[order[rank]])
  return section


def _decoder_sections(eval_results, entries, decoders):
  targets = eval_results["targets"]
  return {name: decoder_section(results, targets, entries,
                                (decoders or {}).get(name))
          for name, results in eval_results["decoders"].items()}


def build_report(eval_results, entries, decoders, global_step, checkpoint,
                 eval_data, cycle=None, extra_sets=None):
  """The report of one evaluation (see the module docstring).

  Args:
    eval_results: `evaluation.evaluate_model`'s result.
    entries: the evaluation entries, in the order they were decoded.
    decoders: the decoders by name (or None).
    global_step, checkpoint, eval_data, cycle: what was evaluated.
    extra_sets: the extra evaluation sets, name -> (their `evaluate_model`
      result, entries, manifest path); None or empty: no "extra_eval".
  """
  report = {
      "global_step": int(global_step), "checkpoint": checkpoint,
      "eval_data": eval_data, "cycle": cycle,
      "utterances": len(eval_results["targets"]),
      "decoders": _decoder_sections(eval_results, entries, decoders),
  }
  if extra_sets:
    report["extra_eval"] = {
        name: {"eval_data": path, "utterances": len(results["targets"]),
               "decoders": _decoder_sections(results, set_entries, decoders)}
        for name, (results, set_entries, path) in extra_sets.items()}
  return report


def write_report(model_dir, report, name=None):
  """Writes the report and latest.json into `<model_dir>/eval/`.

  Args:
    model_dir: the model directory.
    report: `build_report`'s dict.
    name: the file name (default `report-step-<N>.json`).

  Returns:
    The report's path.
  """
  folder = os.path.join(model_dir, REPORT_DIR)
  os.makedirs(folder, exist_ok=True)
  path = os.path.join(folder, name or "report-step-%d.json"
                      % report["global_step"])
  atomic_file.write_json(path, report)
  atomic_file.write_json(os.path.join(folder, LATEST_FILE), report)
  return path

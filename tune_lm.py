r"""Tunes the beam decoder's LM weight (alpha) and word bonus (beta).

    python tune_lm.py --saved_model=/tmp/deep_speech_saved_model \
        --manifest=/tmp/data/tune.csv --exclude_manifest=/tmp/data/dev.csv \
        --exclude_manifest=/tmp/data/train.csv --lm_path=/tmp/lm/4gram.arpa \
        --lm_settings_out=/tmp/lm/lm_settings.json

The exported model (or, with --model_dir instead of --saved_model, a
training directory's latest checkpoint) runs once over --manifest; then every point of the
alpha x beta grid beam-decodes the same outputs (--processes forked workers)
and is scored by corpus WER (CER breaks ties). The table is printed and the
best point is written to --lm_settings_out, the file deep_speech.py and
transcribe.py take as --lm_settings.

Tune on utterances held out of training (the model knows its training
transcripts by heart, so the LM seems to help less there than it does) and
never on the dev or test set whose figures you report (those would come out
optimistic). Name those manifests with --exclude_manifest: a tuning set that
shares an utterance with one of them is refused.
"""

import os
import sys

from absl import app
from absl import flags
from absl import logging

import beam_decoder
import decoder
import lm_tuning
from data import featurizer
from data import manifest as manifest_lib
from data import output_paths
from data import vocabulary


def _manifest_rows(path, num=0):
  """(audio paths, transcripts) of a manifest's usable rows (first `num`)."""
  tokens = featurizer.TextFeaturizer(vocabulary.VOCABULARY_FILE).token_to_index
  entries, skipped = manifest_lib.read_manifest(path, tokens)
  if skipped:
    logging.warning("%s: %d rows left out (%s).", path, len(skipped),
                    manifest_lib.format_skipped(skipped[0]))
  if num:
    entries = entries[:num]
  return [e.wav_filename for e in entries], [e.transcript for e in entries]


def _outputs(flags_obj, paths, references):
  """The acoustic outputs, from the cache when it holds these utterances."""
  cache = flags_obj.outputs_cache
  model = lm_tuning.model_identity(flags_obj.saved_model, flags_obj.model_dir)
  if cache and os.path.exists(cache):
    probabilities, lengths, cached_refs, labels, cached_model = (
        lm_tuning.load_outputs(cache))
    if cached_refs == references and cached_model == model:
      print("Acoustic outputs of %d utterances from %s." % (len(references),
                                                          cache))
      return probabilities, lengths, labels
    print("%s holds outputs of other utterances or another export; running "
          "the model again." % cache)
  print("Running the acoustic model over %d utterances..." % len(paths),
        flush=True)
  probabilities, lengths, labels = lm_tuning.acoustic_outputs(
      lm_tuning.load_model(flags_obj.saved_model, flags_obj.model_dir),
      paths, flags_obj.batch_size)
  if cache:
    lm_tuning.save_outputs(cache, probabilities, lengths, references, labels,
                           model)
  return probabilities, lengths, labels


def run_tune_lm(flags_obj):
  """Tunes alpha and beta for the parsed flags; the only reader of flags.

  Returns:
    The best `lm_tuning.Point`.
  """
  output_paths.check_outputs(
      [("--lm_settings_out", flags_obj.lm_settings_out),
       ("--outputs_cache", flags_obj.outputs_cache)],
      [("--manifest", flags_obj.manifest), ("--lm_path", flags_obj.lm_path),
       ("--lexicon", flags_obj.lexicon)] +
      [("--exclude_manifest", m) for m in flags_obj.exclude_manifest])
  paths, references = _manifest_rows(flags_obj.manifest, flags_obj.num)
  if not paths:
    raise lm_tuning.TuningError("%s has no usable row" % flags_obj.manifest)
  others = {m: _manifest_rows(m)[0] for m in flags_obj.exclude_manifest}
  lm_tuning.check_held_out(paths, flags_obj.manifest, others)
  if not flags_obj.exclude_manifest:
    logging.warning("No --exclude_manifest: make sure %s is held out of "
                    "training and is not the set you report.",
                    flags_obj.manifest)
  points = lm_tuning.grid(
      flags_obj.alpha_min, flags_obj.alpha_max, flags_obj.alpha_steps,
      flags_obj.beta_min, flags_obj.beta_max, flags_obj.beta_steps)
  probabilities, lengths, labels = _outputs(flags_obj, paths, references)
  greedy = decoder.make_decoder("greedy", labels).decode_batch(
      probabilities, lengths)
  greedy_rates = decoder.compute_error_rates(greedy, references)
  base = decoder.make_decoder(
      "beam", labels, beam_width=flags_obj.beam_width,
      lm_path=flags_obj.lm_path, lexicon=flags_obj.lexicon)
  processes = flags_obj.processes or len(os.sched_getaffinity(0))
  print("Decoding %d grid points x %d utterances at beam width %d "
        "(%d processes)..." % (len(points), len(references),
                               flags_obj.beam_width, processes), flush=True)
  scored = lm_tuning.search(base, probabilities, lengths, references, points,
                            processes)
  print(lm_tuning.format_table(
      scored, (greedy_rates["corpus_WER"], greedy_rates["corpus_CER"])))
  best = lm_tuning.best_point(scored)
  edges = lm_tuning.on_edge(best, scored)
  if edges:
    print("The best point lies on the grid's edge (%s): a wider --alpha/--beta "
          "range may do better." % ", ".join(edges))
  decoder.write_lm_settings(
      flags_obj.lm_settings_out, os.path.abspath(flags_obj.lm_path),
      best.alpha, best.beta, beam_width=flags_obj.beam_width,
      lexicon=(os.path.abspath(flags_obj.lexicon) if flags_obj.lexicon
               else None))
  print("Best: alpha %g, beta %g: corpus WER %.4f, CER %.4f (greedy %.4f, "
        "%.4f) on %d utterances; wrote %s." % (
            best.alpha, best.beta, best.wer, best.cer,
            greedy_rates["corpus_WER"], greedy_rates["corpus_CER"],
            len(references), flags_obj.lm_settings_out))
  return best


def define_tune_lm_flags():
  """Declares the flags; called from `__main__` only, never on import."""
  flags.DEFINE_string("saved_model", None,
                      "An export of deep_speech.py (or its --export_dir).")
  flags.DEFINE_string("model_dir", None,
                      "Instead of --saved_model: a deep_speech.py "
                      "--model_dir; its latest checkpoint runs, no export "
                      "needed.")
  flags.DEFINE_string(
      "manifest", None, "The tuning utterances: held out of training, and "
      "not the dev/test set you report.")
  flags.DEFINE_multi_string(
      "exclude_manifest", [], "A manifest the tuning set must share no "
      "utterance with (the reported dev/test set, the training set); repeat "
      "for several.")
  flags.DEFINE_integer("num", 0, "Use the first N rows of --manifest (0: all).",
                       lower_bound=0)
  flags.DEFINE_string("lm_path", None, "The KenLM-format n-gram (ARPA).")
  flags.DEFINE_string("lexicon", None, "Optional words file restricting the "
                      "decoder's words (default: the LM's words).")
  flags.DEFINE_integer("beam_width", 100, "Beam width.", lower_bound=1)
  flags.DEFINE_float("alpha_min", 0.0, "Smallest LM weight tried.")
  flags.DEFINE_float("alpha_max", 2.0, "Largest LM weight tried.")
  flags.DEFINE_integer("alpha_steps", 5, "LM weights tried, evenly spaced.")
  flags.DEFINE_float("beta_min", -1.0, "Smallest word bonus tried.")
  flags.DEFINE_float("beta_max", 3.0, "Largest word bonus tried.")
  flags.DEFINE_integer("beta_steps", 5, "Word bonuses tried, evenly spaced.")
  flags.DEFINE_integer("processes", None, "Decoding processes (default: the "
                       "available CPU cores).", lower_bound=1)
  flags.DEFINE_integer("batch_size", 16, "Utterances per model call.",
                       lower_bound=1)
  flags.DEFINE_string(
      "outputs_cache", None, "Optional .npz file keeping the acoustic "
      "outputs: a re-run over the same utterances skips the model.")
  flags.DEFINE_string("lm_settings_out", None,
                      "Where to write the best settings (JSON; pass it to "
                      "deep_speech.py or transcribe.py as --lm_settings).")
  for name in ("manifest", "lm_path", "lm_settings_out"):
    flags.mark_flag_as_required(name)
  flags.register_multi_flags_validator(
      ["saved_model", "model_dir"],
      lambda values: bool(values["saved_model"]) != bool(values["model_dir"]),
      message="give the model with --saved_model or --model_dir (one of them)")


def main(_):
  logging.set_verbosity(logging.WARNING)
  try:
    run_tune_lm(flags.FLAGS)
  except (lm_tuning.TuningError, manifest_lib.ManifestError,
          output_paths.OutputIsInputError) as e:
    sys.stderr.write("tune_lm.py: error: %s\n" % e)
    sys.exit(2)
  except (ValueError, OSError) as e:
    sys.stderr.write("tune_lm.py: error: %s\n" % e)
    sys.exit(1)
  except beam_decoder.DecoderLibraryError as e:
    sys.stderr.write("tune_lm.py: error: %s\n" % e)
    sys.exit(1)


if __name__ == "__main__":
  define_tune_lm_flags()
  app.run(main)

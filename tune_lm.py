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
transcribe.py take as --lm_settings. The LM (and --lexicon, --beam_width)
come from the flags, else --lm_settings, else the decoder the model records
(an export of a run with an LM carries it), as in the other CLIs
(decoding/flags.py).

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

from common import output_paths
from data import manifest as manifest_lib
from data import vocabulary
import decoder
from decoding import beam_search
from decoding import flags as decoder_flags
from decoding import lm_settings
from decoding import scoring
from decoding import tuning
from transcription import model_flags


def _text_settings(flags_obj):
  """(labels, text policy) the model was trained with, without loading it:
  its references are read as its training read transcripts."""
  from training import export  # pylint: disable=g-import-not-at-top
  recorded, _ = tuning.recorded_settings(flags_obj.saved_model,
                                         flags_obj.model_dir)
  labels = (recorded["speech_labels"] if recorded else
            vocabulary.read_tokens(vocabulary.VOCABULARY_FILE))
  return labels, export.recorded_text_policy(recorded)


def _all_paths(path):
  """The audio paths of every row of a manifest."""
  return [e.wav_filename for e in manifest_lib.read_manifest(path, None)[0]]


def _manifest_rows(path, text_settings, num=0):
  """(audio paths, transcripts) of a manifest's usable rows (first `num`)."""
  labels, policy = text_settings
  paths, transcripts, skipped = tuning.manifest_rows(path, labels, policy, num)
  if skipped:
    logging.warning("%s: %d rows left out (%s).", path, len(skipped),
                    manifest_lib.format_skipped(skipped[0]))
  return paths, transcripts


def _outputs(flags_obj, paths, references):
  """The acoustic outputs, from the cache when it holds these utterances."""
  cache = flags_obj.outputs_cache
  model = tuning.model_identity(flags_obj.saved_model, flags_obj.model_dir)
  cached = tuning.cached_outputs(cache, references, model)
  if cached is not None:
    print("Acoustic outputs of %d utterances from %s." % (len(references),
                                                        cache))
    return cached
  if cache and os.path.exists(cache):
    print("%s holds outputs of other utterances or another export; running "
          "the model again." % cache)
  print("Running the acoustic model over %d utterances..." % len(paths),
        flush=True)
  probabilities, lengths, labels = tuning.acoustic_outputs(
      tuning.load_model(flags_obj.saved_model, flags_obj.model_dir),
      paths, flags_obj.batch_size)
  if cache:
    tuning.save_outputs(cache, probabilities, lengths, references, labels,
                        model)
  return probabilities, lengths, labels


def _search_options(flags_obj):
  """The LM beam search to tune: flags, --lm_settings, the model's record.

  Raises:
    TuningError: no LM from any of them.
  """
  recorded, source = tuning.recorded_decoder(flags_obj.saved_model,
                                             flags_obj.model_dir)
  options = decoder_flags.decoder_options(flags_obj, recorded, source,
                                          kind="beam")
  if not options["lm_path"]:
    raise tuning.TuningError(
        "no language model to tune: give --lm_path or --lm_settings (or a "
        "model that records its LM)")
  return options


def run_tune_lm(flags_obj):
  """Tunes alpha and beta for the parsed flags; the only reader of flags.

  Returns:
    The best `tuning.Point`.
  """
  output_paths.check_outputs(
      [("--lm_settings_out", flags_obj.lm_settings_out),
       ("--outputs_cache", flags_obj.outputs_cache)],
      [("--manifest", flags_obj.manifest), ("--lm_path", flags_obj.lm_path),
       ("--lexicon", flags_obj.lexicon)] +
      [("--exclude_manifest", m) for m in flags_obj.exclude_manifest])
  # Held out is checked on every row, before the model (whose labels pick
  # the usable rows) is read: an utterance is shared whatever its text.
  tuning.check_held_out(
      _all_paths(flags_obj.manifest), flags_obj.manifest,
      {m: _all_paths(m) for m in flags_obj.exclude_manifest})
  paths, references = _manifest_rows(flags_obj.manifest,
                                     _text_settings(flags_obj), flags_obj.num)
  if not paths:
    raise tuning.TuningError("%s has no usable row" % flags_obj.manifest)
  if not flags_obj.exclude_manifest:
    logging.warning("No --exclude_manifest: make sure %s is held out of "
                    "training and is not the set you report.",
                    flags_obj.manifest)
  points = tuning.grid(
      flags_obj.alpha_min, flags_obj.alpha_max, flags_obj.alpha_steps,
      flags_obj.beta_min, flags_obj.beta_max, flags_obj.beta_steps)
  options = _search_options(flags_obj)
  probabilities, lengths, labels = _outputs(flags_obj, paths, references)
  greedy = decoder.make_decoder("greedy", labels).decode_batch(
      probabilities, lengths)
  greedy_rates = scoring.compute_error_rates(greedy, references)
  base = decoder.make_decoder(
      "beam", labels, beam_width=options["beam_width"],
      lm_path=options["lm_path"], lexicon=options["lexicon"])
  processes = flags_obj.processes or len(os.sched_getaffinity(0))
  print("Decoding %d grid points x %d utterances at beam width %d "
        "(%d processes)..." % (len(points), len(references),
                               options["beam_width"], processes), flush=True)
  scored = tuning.search(base, probabilities, lengths, references, points,
                            processes)
  print(tuning.format_table(
      scored, (greedy_rates["corpus_WER"], greedy_rates["corpus_CER"])))
  best = tuning.best_point(scored)
  edges = tuning.on_edge(best, scored)
  if edges:
    print("The best point lies on the grid's edge (%s): a wider --alpha/--beta "
          "range may do better." % ", ".join(edges))
  lm_settings.write(
      flags_obj.lm_settings_out, os.path.abspath(options["lm_path"]),
      best.alpha, best.beta, beam_width=options["beam_width"],
      lexicon=(os.path.abspath(options["lexicon"]) if options["lexicon"]
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
  # --lm_path, --lexicon, --beam_width, --lm_settings: the other CLIs'
  # flags; without --lm_path, the LM of --lm_settings or of the model.
  decoder_flags.define_decoder_flags(for_tuning=True)
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
  for name in ("manifest", "lm_settings_out"):
    flags.mark_flag_as_required(name)
  model_flags.register_one_model_validator()


def main(_):
  logging.set_verbosity(logging.WARNING)
  try:
    run_tune_lm(flags.FLAGS)
  except (tuning.TuningError, manifest_lib.ManifestError,
          output_paths.OutputIsInputError) as e:
    sys.stderr.write("tune_lm.py: error: %s\n" % e)
    sys.exit(2)
  except (ValueError, OSError, beam_search.DecoderLibraryError) as e:
    sys.stderr.write("tune_lm.py: error: %s\n" % e)
    sys.exit(1)


if __name__ == "__main__":
  define_tune_lm_flags()
  app.run(main)

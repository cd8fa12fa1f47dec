r"""Builds an n-gram language model (ARPA) for the beam-search decoder.

Run from the repository root, e.g. a 4-gram of the training transcripts that
keeps the sentences of the dev set out:

  python data/build_lm.py --manifest=/tmp/data/train.csv \
      --exclude_manifest=/tmp/data/dev.csv --order=4 \
      --lm_out=/tmp/lm/4gram.arpa --vocab_out=/tmp/lm/words.txt

or from a text file with one sentence per line (lower-cased; lines holding
characters outside --vocabulary_file, data/vocabulary.txt by default, are
left out and counted):

  python data/build_lm.py --text_file=librispeech-lm-norm.txt --order=3 \
      --min_counts=1,1,2 --prune_threshold=1e-8 --lm_out=3gram.arpa

For another alphabet, give the model's vocabulary and text policy
(--vocabulary_file and --unicode_form, --strip_accents, --lowercase), or
take both from the trained model with --model_settings=<export or
model_dir>.

The model is back-off Kneser-Ney (see decoding/lm.py). A source that is the
--exclude_manifest is refused (exit status 2), and sentences that also occur
in it are dropped from the other sources. --vocab_out writes the LM's words,
one per line, the lexicon the decoder's --lexicon accepts.

--unit=char builds a character n-gram instead (decoding/char_lm.py): the
beam search then spells any word, scored letter by letter, e.g.

  python data/build_lm.py --manifest=train.csv --exclude_manifest=dev.csv \
      --unit=char --order=6 --lm_out=char6.arpa

--synthesis_text adds the English sentences the demo's corpus is drawn
from (WordNet's usage examples and the fortune files, Debian's wordnet-base
and fortunes-min), for an LM that knows more than the training transcripts.
"""

import os
import sys

if __name__ == "__main__" and not __package__:
  # Run as `python data/build_lm.py`: put the repository root on the path.
  sys.path.insert(0, os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))))

# pylint: disable=g-import-not-at-top,wrong-import-position
from absl import app
from absl import flags
from absl import logging

from common import output_paths
from data import manifest
from data import text_flags
from data import vocabulary
from decoding import char_lm
from decoding import lm


def _recorded_text(path):
  """(labels, text policy) a deep_speech.py export or model_dir records."""
  # pylint: disable=g-import-not-at-top
  # Imported here: they load TensorFlow, which nothing else here needs.
  from training import export
  from transcription import model as model_lib
  try:
    if os.path.isfile(path):
      recorded = export.load_settings(path)
    else:
      recorded, _ = model_lib.read_recorded_settings(path)
      if recorded is None:
        recorded, _ = model_lib.read_recorded_settings(
            model_lib.find_saved_model(path))
  except (export.SettingsError, model_lib.ModelError) as e:
    raise lm.LmError("--model_settings: %s" % e) from None
  if recorded is None:
    raise lm.LmError("--model_settings: %s records no settings (%s)" % (
        path, export.EXPORT_SETTINGS_FILE))
  return (list(recorded["speech_labels"]),
          export.recorded_text_policy(recorded))


def _text_settings(flags_obj):
  """The labels and text policy the LM's text must fit, from the flags."""
  if flags_obj.model_settings:
    labels, policy = _recorded_text(flags_obj.model_settings)
    logging.info("Labels %r and text policy %s from %s.", "".join(labels),
                 policy.describe(), flags_obj.model_settings)
    return labels, policy
  try:
    labels = vocabulary.read_tokens(flags_obj.vocabulary_file)
  except vocabulary.VocabularyError as e:
    raise lm.LmError("--vocabulary_file: %s" % e) from None
  return labels, text_flags.text_policy(flags_obj)


def _read_sources(manifests, text_files, labels, policy):
  """All sentences of the sources, logging what each contributed."""
  sentences = []
  for path in manifests:
    found, skipped = lm.manifest_sentences(path, labels, policy)
    logging.info("%s: %d transcripts%s.", path, len(found),
                 " (%d rows left out)" % len(skipped) if skipped else "")
    sentences.extend(found)
  for path in text_files:
    found, bad_lines = lm.text_file_sentences(path, labels, policy)
    logging.info("%s: %d sentences.", path, len(found))
    if bad_lines:
      line_no, text = bad_lines[0]
      logging.warning(
          "%s: %d lines left out: characters outside the vocabulary (first: "
          "line %d, %r).", path, len(bad_lines), line_no, text[:80])
    sentences.extend(found)
  return sentences


def _synthesis_sentences(labels, policy):
  """The demo corpus's sentence pool, under the text policy and labels."""
  # pylint: disable=g-import-not-at-top
  # Imported here: only this source needs the synthesis package.
  from data.synthesis import text as synthesis_text
  try:
    pool = synthesis_text.load_sentences(use_dictionary=False)
  except OSError as e:
    raise lm.LmError(
        "--synthesis_text needs Debian's wordnet-base and fortunes-min "
        "(apt-get install wordnet-base fortunes-min): %s" % e) from None
  allowed = set(labels[:vocabulary.blank_index(labels)])
  sentences = [s for s in (lm.normalize(p, policy) for p in pool)
               if s and set(s) <= allowed]
  logging.info("--synthesis_text: %d of %d sentences fit the labels.",
               len(sentences), len(pool))
  return sentences


def _check_flags(flags_obj, manifests, text_files):
  """Refuses flags that name no source or output, or write over an input."""
  if not manifests and not text_files and not flags_obj.synthesis_text:
    raise lm.LmError("give at least one --manifest, --text_file or "
                     "--synthesis_text")
  if not flags_obj.lm_out:
    raise lm.LmError("--lm_out (the ARPA file to write) is required")
  output_paths.check_outputs(
      [("--lm_out", flags_obj.lm_out), ("--vocab_out", flags_obj.vocab_out)],
      [("--manifest", p) for p in manifests] +
      [("--text_file", p) for p in text_files] +
      [("--exclude_manifest", p) for p in flags_obj.exclude_manifest] +
      [("--vocabulary_file", flags_obj.vocabulary_file),
       ("--model_settings", flags_obj.model_settings)])
  try:
    lm.check_sources(manifests + text_files, flags_obj.exclude_manifest)
  except lm.LmError as e:
    raise lm.LmError("%s. Leave it out, or pass another "
                     "--exclude_manifest." % e) from e


def run_build_lm(flags_obj):
  """Builds the LM for the parsed flags; the only reader of flags."""
  manifests = flags_obj.manifest or []
  text_files = flags_obj.text_file or []
  _check_flags(flags_obj, manifests, text_files)
  labels, policy = _text_settings(flags_obj)
  sentences = _read_sources(manifests, text_files, labels, policy)
  if flags_obj.synthesis_text:
    sentences += _synthesis_sentences(labels, policy)
  for path in flags_obj.exclude_manifest:
    excluded, _ = lm.manifest_sentences(path, labels, policy)
    sentences, dropped = lm.drop_excluded(sentences, set(excluded))
    logging.info("Dropped %d sentences that occur in %s.", dropped, path)
  min_counts = [int(c) for c in flags_obj.min_counts or []]
  units = ([char_lm.to_units(s) for s in sentences]
           if flags_obj.unit == "char" else sentences)
  counts = lm.build_arpa(units, flags_obj.order, flags_obj.lm_out,
                         min_counts=min_counts,
                         prune_threshold=flags_obj.prune_threshold)
  logging.info("Wrote %s from %d sentences: %s.", flags_obj.lm_out,
               len(sentences), ", ".join("%d-grams %d" % c for c in counts))
  if flags_obj.vocab_out:
    num_words = lm.write_vocabulary(lm.word_counts(sentences),
                                    flags_obj.vocab_out)
    logging.info("Wrote %s (%d words).", flags_obj.vocab_out, num_words)


def define_build_lm_flags():
  """Declares the flags; called from `__main__` only, never on import."""
  flags.DEFINE_multi_string(
      "manifest", [], "A manifest whose transcripts the LM learns from; "
      "repeat for several.")
  flags.DEFINE_multi_string(
      "text_file", [], "A text file, one sentence per line, the LM learns "
      "from; repeat for several.")
  flags.DEFINE_multi_string(
      "exclude_manifest", [],
      "A manifest the decoder will be evaluated on: refused as a source, "
      "and its sentences are dropped from the other sources; repeat for "
      "several dev sets.")
  flags.DEFINE_integer("order", 4, "The n-gram order.", lower_bound=1,
                       upper_bound=lm.MAX_ORDER)
  flags.DEFINE_enum(
      "unit", "word", ["word", "char"],
      "word: an n-gram of words (the beam search spells only its words). "
      "char: an n-gram of characters, for the lexicon-free search that "
      "spells any word; give it a high --order (6).")
  flags.DEFINE_bool(
      "synthesis_text", False,
      "Also learn from the demo corpus's sentence pool (WordNet's usage "
      "examples and fortunes; Debian's wordnet-base and fortunes-min), "
      "less the --exclude_manifest sentences.")
  flags.DEFINE_list(
      "min_counts", None,
      "Per-order minimum counts, unigrams first, e.g. 1,1,2,2: rarer n-grams "
      "are dropped before estimation. Default: keep all.")
  flags.register_validator(
      "min_counts", lambda counts: all(
          c.isascii() and c.isdigit() for c in counts or []),
      message="--min_counts must be integers >= 0, e.g. 1,1,2,2")
  flags.DEFINE_float(
      "prune_threshold", 0.0,
      "Entropy pruning: drop n-grams (order >= 2) whose removal raises the "
      "perplexity by less than this relative amount, e.g. 1e-8. 0: none.",
      lower_bound=0.0)
  flags.DEFINE_string("lm_out", None, "The ARPA file to write.")
  flags.DEFINE_string(
      "vocabulary_file", vocabulary.VOCABULARY_FILE,
      "The model's vocabulary (any alphabet): sentences holding other "
      "characters, after the text policy, are left out.")
  flags.DEFINE_string(
      "model_settings", None,
      "A deep_speech.py export, --export_dir or --model_dir (or its "
      "deep_speech_features.json): take the labels and text policy the "
      "model was trained with, instead of --vocabulary_file and the text "
      "policy flags.")
  text_flags.define_text_policy_flags()
  flags.DEFINE_string(
      "vocab_out", None,
      "Optional: also write the words, one per line, most frequent first "
      "(a lexicon for the decoder).")


def _fail(message, code):
  sys.stderr.write("build_lm.py: error: %s\n" % message)
  sys.exit(code)


def main(_):
  try:
    run_build_lm(flags.FLAGS)
  except (lm.LmError, manifest.ManifestError,
          output_paths.OutputIsInputError) as e:
    _fail(str(e), 2)
  except ImportError as e:
    _fail(str(e), 1)
  except OSError as e:
    _fail(str(e), 1)


if __name__ == "__main__":
  define_build_lm_flags()
  app.run(main)

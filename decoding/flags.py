"""The decoder flags of deep_speech.py, transcribe.py and tune_lm.py.

`define_decoder_flags` declares them once for the three CLIs, and
`decoder_options` turns their values into `decoder.make_decoder`'s arguments
("kind" included). Where a setting comes from, highest first:

  1. a flag given on the command line;
  2. the --lm_settings file (what tune_lm.py writes);
  3. the decoder an export records (transcribe.py and tune_lm.py; used only
     when the search is the beam search);
  4. decoder.DEFAULTS.

The decoder kind is --decoder when given; else a language model or lexicon
from 1 or 2 selects the beam search (said on a log line); else the export's
recorded kind; else greedy. An explicit --decoder=greedy with an LM or a
lexicon from 1 or 2 is an error: greedy decoding would silently ignore them.

The flags default to None, meaning "not given", so that a value equal to a
default still overrides the settings file; the defaults themselves live in
decoder.DEFAULTS and the help texts name them.
"""

import os

from absl import flags
from absl import logging

import decoder
from decoding import lm_settings

# make_decoder's argument -> the flag that sets it.
FLAG_NAMES = {"kind": "decoder", "beam_width": "beam_width",
              "lm_path": "lm_path", "alpha": "lm_alpha", "beta": "lm_beta",
              "lexicon": "lexicon"}
# The flags tune_lm.py defines: it always runs the LM beam search and
# searches alpha and beta itself.
TUNING_FLAGS = ("beam_width", "lm_path", "lexicon", "lm_settings")

SELECTS_BEAM = ("Giving --lm_path or --lexicon (or an --lm_settings file) "
                "selects --decoder=beam; --decoder=greedy with them is an "
                "error.")


class DecoderOptionsError(ValueError):
  """Decoder settings that do not fit together; the message names flags."""


def _help(text, key=None):
  if key is None:
    return text
  return "%s (default %s)" % (text, decoder.DEFAULTS[key])


def define_decoder_flags(for_tuning=False, decoder_help="",
                         flag_values=flags.FLAGS):
  """Declares the decoder flags; from a CLI's `__main__` only.

  Args:
    for_tuning: tune_lm.py's subset (TUNING_FLAGS): no --decoder, --lm_alpha
      or --lm_beta.
    decoder_help: what --decoder means to this CLI, added to its help.
    flag_values: where to define them (tests use their own).
  """
  definitions = [
      ("decoder", lambda: flags.DEFINE_enum(
          "decoder", None, list(decoder.DECODERS), _help(
              "CTC decoder: greedy (the original's only decoder) or beam "
              "(CTC beam search, optionally with an n-gram LM; needs "
              "flashlight-text). " + decoder_help + SELECTS_BEAM,
              "kind"), flag_values=flag_values)),
      ("beam_width", lambda: flags.DEFINE_integer(
          "beam_width", None, _help("Hypotheses the beam search keeps per "
                                    "frame.", "beam_width"), lower_bound=1,
          flag_values=flag_values)),
      ("lm_path", lambda: flags.DEFINE_string(
          "lm_path", None, "A KenLM-format word n-gram (ARPA or KenLM "
          "binary, e.g. from data/build_lm.py) for the beam search. " +
          SELECTS_BEAM, flag_values=flag_values)),
      ("lm_alpha", lambda: flags.DEFINE_float(
          "lm_alpha", None, _help("Weight of the LM's log10 probabilities "
                                  "in the beam search.", "alpha"),
          flag_values=flag_values)),
      ("lm_beta", lambda: flags.DEFINE_float(
          "lm_beta", None, _help("Score added per word by the beam search "
                                 "(word insertion bonus).", "beta"),
          flag_values=flag_values)),
      ("lexicon", lambda: flags.DEFINE_string(
          "lexicon", None, "A words file (one word per line) the beam "
          "search must spell from; with an LM but no lexicon, the LM's "
          "unigrams. " + SELECTS_BEAM, flag_values=flag_values)),
      ("lm_settings", lambda: flags.DEFINE_string(
          "lm_settings", None, "An LM settings file (JSON: lm_path, alpha, "
          "beta and optionally beam_width and lexicon) as tune_lm.py writes "
          "it; it overrides an export's recorded decoder, and the decoder "
          "flags given on the command line override it. " + SELECTS_BEAM,
          flag_values=flag_values)),
  ]
  for name, define in definitions:
    if not for_tuning or name in TUNING_FLAGS:
      define()


def given_options(flags_obj):
  """make_decoder's arguments given on the command line (None: not given).

  Works on absl's FlagValues and on a plain namespace of the same values
  (bench/convergence.py); flags a CLI does not define count as not given.
  """
  given = {}
  for key, name in FLAG_NAMES.items():
    value = getattr(flags_obj, name, None) if _defines(flags_obj, name) \
        else None
    if value is not None:
      given[key] = value
  return given


def _defines(flags_obj, name):
  if isinstance(flags_obj, flags.FlagValues):
    return name in flags_obj
  return hasattr(flags_obj, name)


def decoder_options(flags_obj, recorded=None, recorded_source=None,
                    log=logging.info, kind=None):
  """make_decoder's arguments, "kind" included, from the flags.

  The CLIs' one reader of the decoder flags; see the module docstring for
  the precedence.

  Args:
    flags_obj: the parsed flags (or a namespace of their values).
    recorded: the decoder an export records (training/export.py's
      `recorded_decoder`), or None.
    recorded_source: the export's settings file, for messages.
    log: where the note that an LM selected the beam search goes.
    kind: the decoder kind when the CLI fixes it (tune_lm.py: "beam").

  Raises:
    DecoderOptionsError: an unreadable --lm_settings, an LM or lexicon with
      --decoder=greedy, or an LM or lexicon file that does not exist (naming
      the flag or file it came from).
  """
  given = given_options(flags_obj)
  if kind:
    given["kind"] = kind
  return resolve(given, getattr(flags_obj, "lm_settings", None), recorded,
                 recorded_source, log)


def resolve(given, settings_path=None, recorded=None, recorded_source=None,
            log=logging.info):
  """`decoder_options` on plain values: given options, files, recorded.

  Args:
    given: make_decoder's arguments given on the command line.
    settings_path: an LM settings file, or None.
    recorded, recorded_source, log: as for `decoder_options`.
  """
  sources = {key: "--%s" % FLAG_NAMES[key] for key in given}
  from_file = {}
  if settings_path:
    try:
      from_file = lm_settings.read(settings_path)
    except ValueError as e:
      raise DecoderOptionsError("--lm_settings: %s" % e) from None
  chosen = dict(from_file, **given)
  sources.update((key, "--lm_settings=%s" % settings_path)
                 for key in from_file if key not in given)
  names_lm = chosen.get("lm_path") or chosen.get("lexicon")
  kind = given.get("kind")
  if kind == "greedy" and names_lm:
    raise DecoderOptionsError(
        "--decoder=greedy takes no LM or lexicon (%s gives one); drop "
        "--decoder=greedy for the beam search" % sources.get(
            "lm_path" if chosen.get("lm_path") else "lexicon"))
  if kind is None and names_lm:
    kind = "beam"
    log("%s selects the beam search (--decoder=beam)." % sources.get(
        "lm_path" if chosen.get("lm_path") else "lexicon"))
  if kind is None:
    kind = (recorded or {}).get("kind") or decoder.DEFAULTS["kind"]
  options = dict(decoder.DEFAULTS)
  if kind == "beam" and recorded and recorded.get("kind") == "beam":
    options.update(recorded)
    sources.update((key, "the decoder recorded in %s" % recorded_source)
                   for key in recorded if key not in chosen)
  options.update(chosen)
  options["kind"] = kind
  for key in ("lm_path", "lexicon"):
    if options[key] and not os.path.isfile(options[key]):
      source = sources.get(key, key)
      raise DecoderOptionsError(
          "%s=%s: no such file" % (source, options[key])
          if source.startswith("--%s" % key) else
          "%s: no such file (named by %s)" % (options[key], source))
  return options

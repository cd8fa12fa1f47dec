"""The decoder transcription uses: decoder.make_decoder when it exists.

decoder.py's `make_decoder(kind, labels, beam_width, lm_path, alpha, beta,
lexicon)` (issue 13) builds every decoder behind one interface,
`decode(probabilities, lengths) -> list of str`. Until it is there, greedy
decoding goes through the seed's `DeepSpeechDecoder` with the same
interface, and asking for a beam search is one clear error.
"""

import decoder
from data import vocabulary


class DecoderUnavailable(ValueError):
  """The requested decoder cannot be built here."""


class _Greedy(object):
  """The seed's greedy decoder behind the `decode(probs, lengths)` interface."""

  def __init__(self, labels):
    self._decoder = decoder.DeepSpeechDecoder(labels,
                                              vocabulary.blank_index(labels))

  def decode(self, probabilities, lengths):
    return self._decoder.decode_batch(probabilities, lengths)


def make_decoder(kind, labels, beam_width=100, lm_path=None, alpha=None,
                 beta=None, lexicon=None):
  """A decoder object with `decode(probabilities, lengths) -> texts`.

  Args:
    kind: "greedy" or "beam".
    labels: the speech labels in class order (blank last).
    beam_width, lm_path, alpha, beta, lexicon: for the beam search (see
      decoder.make_decoder); alpha/beta None keep its defaults.

  Raises:
    DecoderUnavailable: a beam search without decoder.make_decoder.
  """
  factory = getattr(decoder, "make_decoder", None)
  if factory is None:
    if kind == "greedy":
      return _Greedy(labels)
    raise DecoderUnavailable(
        "the %s decoder needs decoder.make_decoder (issue 13), which this "
        "checkout does not have yet" % kind)
  options = {"beam_width": beam_width, "lm_path": lm_path,
             "lexicon": lexicon}
  if alpha is not None:
    options["alpha"] = alpha
  if beta is not None:
    options["beta"] = beta
  return factory(kind, labels, **options)


def read_lm_settings(path):
  """decoder.read_lm_settings(path): the tuned LM settings file as a dict."""
  reader = getattr(decoder, "read_lm_settings", None)
  if reader is None:
    raise DecoderUnavailable(
        "reading an LM settings file needs decoder.read_lm_settings "
        "(issue 13), which this checkout does not have yet")
  return reader(path)

"""Tests for beam_search.py (flashlight-text) through decoder.make_decoder.

The n-gram is built in each test session by the project's own builder
(decoding/lm.py) from a few sentences; the probability matrices are made by hand.
"""

import sys

import numpy as np
import pytest

from decoding import beam_search
import decoder
from decoding import lm

LABELS = " abcdefghijklmnopqrstuvwxyz'-"
BLANK = 28
SENTENCES = ["the cat sat on the mat", "the cat ate the fish",
             "a cat sat on a log", "the dog sat on the mat",
             "the cat and the dog"]


@pytest.fixture(scope="module")
def lm_files(tmp_path_factory):
  folder = tmp_path_factory.mktemp("lm")
  arpa, words = str(folder / "3gram.arpa"), str(folder / "words.txt")
  lm.build_arpa(SENTENCES, 3, arpa)
  lm.write_vocabulary(lm.word_counts(SENTENCES), words)
  return arpa, words


def _spell(frames, labels=LABELS):
  """A [time, classes] softmax matrix from (char, runner-up char, its share).

  Each frame puts most mass on `char`; a runner-up takes `share` of the
  frame (so with share > 0.5 it wins the argmax). "-" is the blank.
  """
  probs = np.full((len(frames), len(labels)), 1e-4, np.float32)
  for t, (char, other, share) in enumerate(frames):
    probs[t, labels.index(char)] = 1.0 - share
    if other:
      probs[t, labels.index(other)] = share
  return probs / probs.sum(axis=1, keepdims=True)


def _misspelt_cat():
  """'the cat sat' whose greedy path reads 'the cet sat'."""
  frames = []
  for char in "the c":
    frames += [(char, None, 0.0), ("-", None, 0.0)]
  frames += [("e", "a", 0.45), ("-", None, 0.0)]  # "e" on top, "a" close.
  for char in "t sat":
    frames += [(char, None, 0.0), ("-", None, 0.0)]
  return _spell(frames)[np.newaxis]


def _random_batch(seed, batch=4, frames=40):
  rng = np.random.RandomState(seed)
  logits = rng.normal(size=(batch, frames, len(LABELS)))
  logits[..., BLANK] += 1.5
  logits[..., 8:BLANK] -= 2.0  # Few letters, so words repeat.
  probs = np.exp(logits)
  probs /= probs.sum(axis=2, keepdims=True)
  return probs.astype(np.float32), rng.randint(1, frames + 1, size=batch)


def test_greedy_misspells_and_the_lm_corrects(lm_files):
  arpa, _ = lm_files
  probs, lengths = _misspelt_cat(), [_misspelt_cat().shape[1]]
  greedy = decoder.make_decoder("greedy", LABELS)
  assert greedy.decode_batch(probs, lengths) == ["the cet sat"]
  plain = decoder.make_decoder("beam", LABELS, beam_width=20)
  assert plain.decode_batch(probs, lengths) == ["the cet sat"]
  with_lm = decoder.make_decoder("beam", LABELS, beam_width=20, lm_path=arpa,
                                 alpha=1.0, beta=0.5)
  assert with_lm.decode_batch(probs, lengths) == ["the cat sat"]


def test_lexicon_keeps_out_non_words(lm_files, tmp_path):
  _, words = lm_files
  probs, lengths = _misspelt_cat(), [_misspelt_cat().shape[1]]
  restricted = decoder.make_decoder("beam", LABELS, beam_width=20,
                                    lexicon=words)
  (text,) = restricted.decode_batch(probs, lengths)
  assert text == "the cat sat"
  # On noise, every word it writes is a lexicon word.
  allowed = set(open(words).read().split())
  batch, lens = _random_batch(3, batch=6, frames=60)
  texts = restricted.decode_batch(batch, lens)
  assert all(set(t.split()) <= allowed for t in texts)
  assert any(texts)
  greedy = decoder.make_decoder("greedy", LABELS).decode_batch(batch, lens)
  assert any(not set(t.split()) <= allowed for t in greedy)


# German and Russian letters, the blank last.
OTHER_LABELS = (" abcdefghijklmnopqrstuvwxyz\u00e4\u00f6\u00fc\u00df" +
                "".join(chr(c) for c in range(0x430, 0x450)) + "\u0451-")
OTHER_SENTENCES = ["die straße ist groß", "große äpfel", "süße äpfel",
                   "привет мир", "мир и дружба"]


def _frames(text, misspelt_at, runner_up):
  """Frames spelling `text` with a blank after each character, the one at
  `misspelt_at` losing narrowly to `runner_up`."""
  frames = []
  for i, char in enumerate(text):
    frames.append((runner_up, char, 0.45) if i == misspelt_at
                  else (char, None, 0.0))
    frames.append(("-", None, 0.0))
  return frames


@pytest.mark.parametrize("text,wrong,misspelt_at,runner_up", [
    ("große äpfel", "große epfel", 6, "e"),
    ("die straße", "die strase", 8, "s"),
    ("привет мир", "привет мор", 8, "о"),
])
def test_other_alphabets_decode_greedy_and_with_an_lm(tmp_path, text, wrong,
                                                      misspelt_at, runner_up):
  arpa = str(tmp_path / "other.arpa")
  lm.build_arpa(OTHER_SENTENCES, 2, arpa)
  probs = _spell(_frames(text, misspelt_at, runner_up),
                 OTHER_LABELS)[np.newaxis]
  lengths = [probs.shape[1]]
  assert decoder.make_decoder("greedy", OTHER_LABELS).decode_batch(
      probs, lengths) == [wrong]
  assert decoder.make_decoder("beam", OTHER_LABELS, beam_width=8).decode_batch(
      probs, lengths) == [wrong]
  with_lm = decoder.make_decoder("beam", OTHER_LABELS, beam_width=20,
                                 lm_path=arpa, alpha=1.0, beta=0.5)
  assert with_lm.decode_batch(probs, lengths) == [text]


def test_lexicon_words_are_spelt_as_the_labels_write_them(tmp_path):
  path = tmp_path / "lexicon.txt"
  # Capitals, a decomposed "Ä" and an NFC "ß": the labels are lower-case.
  path.write_text("STRASSE\nStraße\nA\u0308pfel\näpfel\nМИР\nx1\n",
                  encoding="utf-8")
  search = decoder.make_decoder("beam", OTHER_LABELS, lexicon=str(path))
  assert search._spellable(lm.read_lexicon(str(path)),  # pylint: disable=protected-access
                           respell=True) == ["strasse", "straße", "äpfel",
                                             "мир"]
  # Labels holding the combining mark instead of "ä" (--unicode_form=NFKD).
  decomposed = OTHER_LABELS.replace("\u00e4", "").replace(
      "-", "\u0308-")
  search = decoder.make_decoder("beam", decomposed, lexicon=str(path))
  assert "a\u0308pfel" in search._spellable(  # pylint: disable=protected-access
      lm.read_lexicon(str(path)), respell=True)


@pytest.mark.parametrize("seed", range(3))
def test_beam_width_one_equals_greedy(seed):
  probs, lengths = _random_batch(seed, batch=8, frames=50)
  greedy = decoder.make_decoder("greedy", LABELS).decode_batch(probs, lengths)
  beam = decoder.make_decoder("beam", LABELS, beam_width=1).decode_batch(
      probs, lengths)
  # Greedy keeps the raw spacing; the beam normalizes runs of spaces.
  assert beam == [" ".join(t.split()) for t in greedy]


def test_alpha_zero_equals_the_beam_without_lm(lm_files):
  arpa, words = lm_files
  probs, lengths = _random_batch(7, batch=6, frames=60)
  probs = np.concatenate([probs[:, :33], _misspelt_cat()[:, :33].repeat(
      6, axis=0)], axis=1)
  lengths = np.full(6, probs.shape[1])
  # With an LM the LM's words are the lexicon; alpha = beta = 0 leaves only
  # the acoustic scores, as the same lexicon without an LM.
  lm_zero = decoder.make_decoder("beam", LABELS, beam_width=16, lm_path=arpa,
                                 alpha=0.0, beta=0.0)
  no_lm = decoder.make_decoder("beam", LABELS, beam_width=16, lexicon=words)
  assert lm_zero.decode_batch(probs, lengths) == no_lm.decode_batch(
      probs, lengths)
  with_lm = decoder.make_decoder("beam", LABELS, beam_width=16, lm_path=arpa,
                                 alpha=2.0, beta=0.0)
  assert with_lm.decode_batch(probs, lengths) != no_lm.decode_batch(
      probs, lengths)


def test_lengths_cut_the_padding():
  probs = _misspelt_cat()
  padded = np.concatenate([probs, _spell([("z", None, 0.0)] * 5)[None]], 1)
  beam = decoder.make_decoder("beam", LABELS, beam_width=8)
  assert beam.decode_batch(padded, [probs.shape[1]]) == ["the cet sat"]
  assert beam.decode_batch(padded, [0]) == [""]
  with pytest.raises(ValueError, match="lengths must lie"):
    beam.decode_batch(padded, [padded.shape[1] + 1])
  with pytest.raises(ValueError, match=r"\[batch, time, 29\]"):
    beam.decode_batch(padded[0], [3])


def test_missing_flashlight_names_the_pip_line(monkeypatch):
  for name in ("flashlight", "flashlight.lib", "flashlight.lib.text",
               "flashlight.lib.text.decoder",
               "flashlight.lib.text.dictionary"):
    monkeypatch.setitem(sys.modules, name, None)
  with pytest.raises(ImportError, match="pip install flashlight-text"):
    decoder.make_decoder("beam", LABELS)
  # Greedy needs nothing new.
  assert decoder.make_decoder("greedy", LABELS).decode_batch(
      _misspelt_cat(), [5]) == ["the"]


def test_an_lm_file_that_is_not_one_is_named(lm_files, tmp_path):
  arpa, words = lm_files
  junk = tmp_path / "junk.arpa"
  junk.write_bytes(np.random.default_rng(0).bytes(3000))
  for lexicon in (None, words):
    with pytest.raises(lm.LmError, match=r"^%s is not a language model"
                       % junk):
      decoder.make_decoder("beam", LABELS, lm_path=str(junk), lexicon=lexicon)
  # A right first line over a broken body: KenLM's complaint, in our terms.
  broken = tmp_path / "broken.arpa"
  broken.write_bytes(b"\\data\\\nngram 1=x\n" + b"\xff" * 50)
  with pytest.raises(lm.LmError, match=r"^%s: KenLM cannot read it: "
                     % broken):
    decoder.make_decoder("beam", LABELS, lm_path=str(broken), lexicon=words)
  with pytest.raises(lm.LmError, match=r"^%s:3: bytes that are not UTF-8"
                     % broken):
    decoder.make_decoder("beam", LABELS, lm_path=str(broken))
  # A lexicon of random bytes, likewise.
  with pytest.raises(ValueError, match=r"^%s:1: bytes that are not UTF-8"
                     % junk):
    lm.read_lexicon(str(junk))
  with pytest.raises(lm.LmError, match="cannot read the language model"):
    decoder.make_decoder("beam", LABELS, lm_path=str(tmp_path / "none"))


@pytest.mark.parametrize("with_lm", [False, True])
def test_a_search_fed_in_pieces_ends_with_decode_batch_s_text(lm_files,
                                                             with_lm):
  arpa, _ = lm_files
  options = dict(lm_path=arpa, alpha=1.0, beta=0.5) if with_lm else {}
  search = decoder.make_decoder("beam", LABELS, beam_width=20, **options)
  probs, lengths = _random_batch(7, batch=3, frames=120)
  offline = search.decode_batch(probs, lengths)
  assert all(offline) and any(" " in text for text in offline)
  seen = []  # the partials
  for row, length in enumerate(lengths):
    for chunk in (1, 7, 50, int(length)):
      # Two decodes at once, interleaved: each has a search of its own.
      decodes = [search.begin(), search.begin()]
      length = int(length)
      partials = []
      for start in range(0, int(length), chunk):
        for decode in decodes:
          decode.step(probs[row, start:min(start + chunk, length)])
        partials.append(decodes[0].partial())
      assert [d.finish() for d in decodes] == [offline[row]] * 2, chunk
      seen += partials
  assert all(isinstance(p, str) for p in seen) and any(seen)
  with pytest.raises(ValueError, match="probabilities must be"):
    search.begin().step(probs[0, :, :5])
  empty = search.begin()
  assert (empty.partial(), empty.finish()) == ("", "")


def test_a_long_search_is_pruned_and_still_decodes(lm_files, monkeypatch):
  arpa, _ = lm_files
  monkeypatch.setattr(beam_search, "PRUNE_LOOKBACK_FRAMES", 8)
  search = decoder.make_decoder("beam", LABELS, beam_width=20, lm_path=arpa,
                                alpha=1.0, beta=0.5)
  probs = _misspelt_cat()[0]
  decode = search.begin()
  for frame in probs:  # pruned every 16 frames, 8 kept behind the best
    decode.step(frame[np.newaxis])
  assert decode.finish() == "the cat sat"

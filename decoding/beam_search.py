"""CTC beam search with an optional KenLM word n-gram LM, by flashlight-text.

flashlight-text (the C++ decoder torchaudio wraps, KenLM built in) does the
search; this module turns our labels, LM file and lexicon into its objects and
its results into text. Chosen over pyctcdecode by bench/decoding.py
--compare_pyctcdecode: on the same outputs and 4-gram it decoded an order of
magnitude faster at a lower WER (figures in docs/benchmarks.md).

Four searches, by what is given:
  * no LM, no lexicon: lexicon-free beam search over characters;
  * a character LM (decoding/char_lm.py): the same search, scored by it
    (`alpha` * log10 probability of each label + `beta` per word), so it
    can spell words no text held;
  * a lexicon (a words file): every word must be one of its words;
  * an LM: the same word-restricted search, scored by the LM
    (`alpha` * log10 LM probability + `beta` per word); without a lexicon
    file the LM's own unigrams are the lexicon. flashlight's lexicon-free
    search takes only a character-level LM, so with a word LM the decoder
    cannot spell words the LM has never seen.
"""

import copy
import unicodedata

import numpy as np

import decoder
from decoding import char_lm
from decoding import lm as lm_lib

PIP_LINE = ("pip install flashlight-text (or pip install -r "
            "requirements-extras.txt)")

# Tokens per frame the search extends (the best ones; a trained CTC model
# puts nearly all mass on a few), and the score window below the best
# hypothesis that stays in the beam (natural-log units). On bench/decoding.py's
# synthetic outputs 5 tokens already gave the WER of all 29, but on a real,
# half-trained model's outputs 10 tokens lowered dev WER and CER clearly,
# while more tokens and a wider window gained almost nothing at a fraction of
# the speed; 10 decode somewhat slower than 5 (docs/benchmarks.md).
DEFAULT_BEAM_SIZE_TOKEN = 10
DEFAULT_BEAM_THRESHOLD = 10.0

# A stream's search keeps this many frames of alternatives behind the best
# hypothesis (output frames: 20 s at the model's 40 ms).
PRUNE_LOOKBACK_FRAMES = 500

# log(0) would be -inf; flashlight adds scores, so floor the probabilities.
_MIN_PROB = 1e-30


class DecoderLibraryError(ImportError):
  """flashlight-text is not installed; the message names the pip line."""


def _flashlight():
  """Imports flashlight-text's decoder and dictionary modules."""
  try:
    # pylint: disable=g-import-not-at-top
    from flashlight.lib.text import decoder as fl_decoder
    from flashlight.lib.text import dictionary as fl_dictionary
  except ImportError as e:
    raise DecoderLibraryError(
        "the beam-search decoder needs the flashlight-text package: %s"
        % PIP_LINE) from e
  return fl_decoder, fl_dictionary


def _load_kenlm(path, word_dict):
  """flashlight's KenLM model of `path`; its errors as LmErrors naming it."""
  from flashlight.lib.text.decoder import kenlm  # pylint: disable=g-import-not-at-top
  try:
    return kenlm.KenLM(path, word_dict)
  except (RuntimeError, UnicodeDecodeError) as e:
    # KenLM's message starts with its source file and line: keep the
    # reason, the part after "threw".
    reason = str(e).split("threw", 1)[-1].strip().splitlines()
    raise lm_lib.LmError("%s: KenLM cannot read it: %s"
                         % (path, " ".join(reason)[:300])) from None


class BeamSearchDecoder(decoder.Decoder):
  """CTC beam-search decoder: `decode_batch(probabilities, lengths)`.

  Attributes:
    labels: the model's labels in class order; the blank is the last one
      and " " separates words.
    beam_width, alpha, beta, lm_path, lexicon: as given.
  """

  def __init__(self, labels, beam_width=decoder.DEFAULT_BEAM_WIDTH,
               lm_path=None, alpha=0.0, beta=0.0, lexicon=None,
               beam_size_token=DEFAULT_BEAM_SIZE_TOKEN,
               beam_threshold=DEFAULT_BEAM_THRESHOLD):
    """Builds the search (loads the LM and the lexicon once).

    Args:
      labels: string or sequence of one-character labels, blank last, with
        " " among them.
      beam_width: hypotheses kept per frame.
      lm_path: a KenLM-format n-gram (ARPA or KenLM binary) of words, or an
        ARPA character n-gram (decoding/char_lm.py), or None.
      alpha: LM weight (on log10 probabilities); used with an LM.
      beta: score added per word (word insertion bonus); used with an LM or
        a lexicon.
      lexicon: path of a words file (see lm.read_lexicon), or None.
      beam_size_token: best tokens per frame the search extends.
      beam_threshold: hypotheses scoring this far below the best are dropped.

    Raises:
      DecoderLibraryError: flashlight-text is missing.
      lm_lib.LmError: an LM file that is not an ARPA file or KenLM binary
        (naming it).
      ValueError: bad labels, a beam width below 1, no usable word, a
        lexicon with a character LM.
    """
    fl_decoder, fl_dictionary = _flashlight()
    self.labels = list(labels)
    self.beam_width = int(beam_width)
    self.alpha, self.beta = float(alpha), float(beta)
    self.lm_path, self.lexicon = lm_path, lexicon
    if self.beam_width < 1:
      raise ValueError("the beam width must be at least 1, got %d"
                       % self.beam_width)
    if " " not in self.labels:
      raise ValueError("the labels hold no space (the word separator)")
    self._blank = len(self.labels) - 1
    self._space = self.labels.index(" ")
    token_beam = min(int(beam_size_token), len(self.labels))
    self._word_dict = None
    units = None
    if lm_path is not None:
      lm_lib.check_lm_file(lm_path)
      units = char_lm.character_units(lm_path)
    self._char_lm = units is not None
    if self._char_lm or lexicon is None and lm_path is None:
      free_lm = self._free_lm(fl_decoder, fl_dictionary, lexicon, units)
      self._parts = (fl_decoder, None, free_lm, token_beam, beam_threshold)
      self._search = self._new_search()
      return
    # A lexicon's words may be written otherwise than the labels (OpenSLR's
    # is upper-case); an LM's must stay as they are, KenLM looks them up.
    words = (self._spellable(lm_lib.read_lexicon(lexicon), respell=True)
             if lexicon else self._spellable(lm_lib.arpa_words(lm_path)))
    if not words:
      raise ValueError("no word of %s can be spelled with the labels"
                       % (lexicon or lm_path))
    lexicon_map = {w: [list(w)] for w in words}
    # flashlight's word dictionary must know the unknown word.
    lexicon_map["<unk>"] = []
    self._word_dict = fl_dictionary.create_word_dict(lexicon_map)
    language_model = (fl_decoder.ZeroLM() if lm_path is None
                      else _load_kenlm(lm_path, self._word_dict))
    trie = self._trie(fl_decoder, words, language_model)
    # Kept so that with_weights can re-weight without reloading the LM.
    self._parts = (fl_decoder, trie, language_model, token_beam,
                   beam_threshold)
    self._search = self._lexicon_search(self.alpha, self.beta)

  def _free_lm(self, fl_decoder, fl_dictionary, lexicon, units):
    """The lexicon-free search's LM: the character LM, or none."""
    if not self._char_lm:
      return fl_decoder.ZeroLM()
    if lexicon is not None:
      raise ValueError("%s is a character LM, which spells any word; it "
                       "takes no lexicon" % self.lm_path)
    char_lm.check_labels(self.lm_path, units, self.labels, self._blank)
    return _load_kenlm(self.lm_path,
                       char_lm.token_dictionary(fl_dictionary, self.labels))

  def _free_search(self, alpha, beta):
    """flashlight's lexicon-free search over characters."""
    fl_decoder, _, language_model, token_beam, threshold = self._parts
    options = fl_decoder.LexiconFreeDecoderOptions(
        beam_size=self.beam_width, beam_size_token=token_beam,
        beam_threshold=threshold, lm_weight=float(alpha),
        sil_score=float(beta), log_add=False,
        criterion_type=fl_decoder.CriterionType.CTC)
    return fl_decoder.LexiconFreeDecoder(options, language_model, self._space,
                                         self._blank, [])

  def _new_search(self, alpha=None, beta=None):
    """A search of its own (flashlight's decoders hold one utterance's
    hypotheses), sharing the LM, the lexicon and its prefix tree; with
    this decoder's weights unless others are given."""
    alpha = self.alpha if alpha is None else alpha
    beta = self.beta if beta is None else beta
    if self._word_dict is not None:
      return self._lexicon_search(alpha, beta)
    # Without an LM the weights mean nothing: the plain search ignores them.
    return self._free_search(alpha, beta) if self._char_lm else (
        self._free_search(0.0, 0.0))

  def _lexicon_search(self, alpha, beta):
    """flashlight's word-restricted search with these LM weights."""
    fl_decoder, trie, language_model, token_beam, threshold = self._parts
    options = fl_decoder.LexiconDecoderOptions(
        beam_size=self.beam_width, beam_size_token=token_beam,
        beam_threshold=threshold, lm_weight=float(alpha),
        word_score=float(beta), unk_score=float("-inf"), sil_score=0.0,
        log_add=False, criterion_type=fl_decoder.CriterionType.CTC)
    return fl_decoder.LexiconDecoder(
        options, trie, language_model, self._space, self._blank,
        self._word_dict.get_index("<unk>"), [], False)

  def with_weights(self, alpha, beta):
    """The same search with another LM weight and word bonus.

    Shares the loaded LM, the lexicon and its prefix tree (none of which
    depends on alpha or beta), so trying many weights, as tuning does, loads
    the LM once.

    Raises:
      ValueError: this decoder searches without an LM or lexicon, where
        alpha and beta mean nothing.
    """
    if self._word_dict is None and not self._char_lm:
      raise ValueError("alpha and beta need an LM or a lexicon")
    other = copy.copy(self)
    other.alpha, other.beta = float(alpha), float(beta)
    other._search = self._new_search(alpha, beta)  # pylint: disable=protected-access
    return other

  def _spellable(self, words, respell=False):
    """The words made only of labels (not the blank, not the space).

    With `respell`, a word the labels cannot spell as written is tried
    lower-cased and in the composed and decomposed Unicode forms (the
    labels hold "ä" or "a" and a combining mark, by the text policy).
    """
    allowed = set(self.labels[:self._blank]) - {" "}
    spelt, seen = [], set()
    for word in words:
      candidates = [word]
      if respell:
        candidates += [unicodedata.normalize(form, w) for w in
                       (word, word.lower()) for form in ("NFC", "NFKD")]
      for candidate in candidates:
        if set(candidate) <= allowed:
          if candidate not in seen:
            seen.add(candidate)
            spelt.append(candidate)
          break
    return spelt

  def _trie(self, fl_decoder, words, language_model):
    """The prefix tree of the words' spellings, with LM unigram lookahead."""
    trie = fl_decoder.Trie(len(self.labels), self._space)
    start = language_model.start(False)
    index = {c: i for i, c in enumerate(self.labels)}
    for word in words:
      word_index = self._word_dict.get_index(word)
      _, score = language_model.score(start, word_index)
      trie.insert([index[c] for c in word], word_index, score)
    # Each node carries the best unigram score below it, so partial words
    # are pruned by the best word they can still become.
    trie.smear(fl_decoder.SmearingMode.MAX)
    return trie

  def _path_text(self, words, tokens):
    """The transcript of a path's per-frame words and tokens."""
    if self._word_dict is not None:
      return " ".join(self._word_dict.get_entry(w) for w in words if w >= 0)
    chars = []
    previous = None
    for token in tokens:
      # The token path is per frame: merge repeats, then drop blanks.
      if token != previous and token != self._blank and token >= 0:
        chars.append(self.labels[token])
      previous = token
    return " ".join("".join(chars).split())

  def decode_batch(self, probabilities, lengths):
    """Beam-search decodes a padded batch.

    Args:
      probabilities: float array [batch, time, num_classes], the model's
        softmax outputs.
      lengths: int array [batch], each utterance's number of real frames.

    Returns:
      A list of `batch` transcripts.

    Raises:
      ValueError: wrong shapes or lengths outside [0, time].
    """
    probabilities, lengths = self.check_batch(probabilities, lengths,
                                              len(self.labels))
    texts = []
    for probs, length in zip(probabilities, lengths):
      if length == 0:
        texts.append("")
        continue
      emissions = _emissions(probs[:length])
      results = self._search.decode(emissions.ctypes.data, int(length),
                                    len(self.labels))
      texts.append(self._path_text(results[0].words, results[0].tokens)
                   if results else "")
    return texts

  def begin(self):
    """An `IncrementalDecode` of one utterance, fed as its frames come.

    Each call gets a search of its own, so any number may run at once (one
    thread each); they share this decoder's LM and lexicon, read only.
    """
    return IncrementalDecode(self, self._new_search())


def _emissions(probabilities):
  """flashlight's input: C-contiguous float32 log-probabilities [time,
  classes]."""
  return np.ascontiguousarray(
      np.log(np.maximum(probabilities, _MIN_PROB)), dtype=np.float32)


class IncrementalDecode(object):
  """The beam search of one utterance whose frames arrive in pieces.

  flashlight's search is incremental (decode_begin, decode_step per piece,
  decode_end), so the pieces' sizes do not change the result: `finish`
  gives `decode_batch`'s text of all the frames. To bound a long stream's
  memory, once `2 * PRUNE_LOOKBACK_FRAMES` frames are searched the best
  path up to `PRUNE_LOOKBACK_FRAMES` back (and back to a word's end) is
  kept as settled and the hypotheses before it are dropped; only an
  utterance longer than that can come out otherwise than offline.
  """

  def __init__(self, beam_decoder, search):
    self._decoder = beam_decoder
    self._search = search
    self._frames = 0
    self._pruned_at = 0
    # The settled path's per-frame words and tokens; after a prune each
    # later path starts with the frame the settled one ends at.
    self._words, self._tokens = [], []
    self._partial = ""
    self._finished = False
    search.decode_begin()

  def step(self, probabilities):
    """Searches the next frames, float [time, classes] softmax outputs."""
    self._check_open()
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2 or probabilities.shape[1] != len(
        self._decoder.labels):
      raise ValueError("probabilities must be [time, %d], got shape %s"
                       % (len(self._decoder.labels), probabilities.shape))
    if not probabilities.shape[0]:
      return
    emissions = _emissions(probabilities)
    self._search.decode_step(emissions.ctypes.data, emissions.shape[0],
                             emissions.shape[1])
    self._frames += emissions.shape[0]
    self._partial = None
    if self._frames - self._pruned_at >= 2 * PRUNE_LOOKBACK_FRAMES:
      self._prune()

  def _prune(self):
    """Settles the best path's older part and drops the hypotheses there."""
    self._pruned_at = self._frames
    # flashlight's prune and get_best_hypothesis find the same frame; it
    # prunes only when that path holds more than the first frame.
    settled = self._search.get_best_hypothesis(PRUNE_LOOKBACK_FRAMES)
    if len(settled.tokens) < 2:
      return
    self._search.prune(PRUNE_LOOKBACK_FRAMES)
    self._add_path(settled)

  def _add_path(self, result):
    first = 1 if self._tokens else 0
    self._words.extend(result.words[first:])
    self._tokens.extend(result.tokens[first:])

  def _path_text(self, result):
    first = 1 if self._tokens else 0
    return self._decoder._path_text(  # pylint: disable=protected-access
        self._words + list(result.words[first:]),
        self._tokens + list(result.tokens[first:]))

  def partial(self):
    """The best hypothesis's text so far (words still being spelled are
    left out by a word-restricted search)."""
    if self._partial is None:
      self._partial = self._path_text(self._search.get_best_hypothesis(0))
    return self._partial

  def finish(self):
    """Ends the utterance; its transcript, as `decode_batch` gives it."""
    self._check_open()
    self._finished = True
    if not self._frames:
      return ""
    self._search.decode_end()
    results = self._search.get_all_final_hypothesis()
    return self._path_text(results[0]) if results else ""

  def _check_open(self):
    if self._finished:
      raise ValueError("the decode is finished; begin another")

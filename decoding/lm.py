"""Word n-gram language models for the beam-search decoder: text in, ARPA out.

The decoder (decoder.py) scores word sequences with a KenLM-format n-gram
model. This module gathers the LM's training sentences (manifest transcripts
or a plain text file), keeps the evaluation set out of them, and writes the
ARPA file with `kaldingram`, a pure-Python Kneser-Ney builder from the Kaldi
authors (SRILM's `ngram-count -ukndiscount`: back-off Kneser-Ney with one
discount per order, count cutoffs, Stolcke entropy pruning). Debian has no
KenLM `lmplz`; kaldingram installs from PyPI on any platform.

Keeping the evaluation set out: an LM that saw the evaluation transcripts
makes its WER meaningless (the decoder can recall whole sentences). So a
source that *is* the excluded manifest is refused, and every sentence that
also occurs in the excluded manifest is dropped from the others (and counted),
since corpora built by sampling one sentence pool can share sentences.
"""

import collections
import os

from common import atomic_file
from common import output_paths
from data import manifest
from data import text_normalization
from data import vocabulary

PIP_LINE = "pip install kaldingram (or pip install -r requirements-extras.txt)"
# The KenLM that flashlight-text builds in reads up to 6-grams.
MAX_ORDER = 6


class LmError(ValueError):
  """The LM cannot be built as asked (bad source, evaluation data leaking)."""


def _kaldingram():
  """Imports kaldingram's training and pruning modules, or says how to."""
  try:
    # pylint: disable=g-import-not-at-top
    from kaldingram import prune
    from kaldingram import train
  except ImportError as e:
    raise ImportError("building an n-gram LM needs the kaldingram package: "
                      "%s" % PIP_LINE) from e
  return train, prune


def normalize(sentence, text_policy=text_normalization.DEFAULT):
  """A sentence under the text policy (by default lower-cased, as the
  original's) with its whitespace collapsed: the LM's units."""
  return " ".join(text_policy.apply(sentence).split())


def manifest_sentences(path, labels=None,
                       text_policy=text_normalization.DEFAULT):
  """The normalized, non-empty transcripts of a manifest.

  Args:
    path: a manifest written by data/download.py (tab-separated, header
      data/manifest.HEADER).
    labels: the model's labels (blank last), any alphabet; defaults to the
      tokens of data/vocabulary.txt. Rows with other characters (after the
      text policy) are left out, as training leaves them out.
    text_policy: the `text_normalization.TextPolicy` training used.

  Returns:
    (sentences, skipped): a list of str, and the rows not used
    (data/manifest.Skipped records naming their lines).

  Raises:
    manifest.ManifestError: a missing file or a wrong header.
  """
  labels = labels or vocabulary.read_tokens(vocabulary.VOCABULARY_FILE)
  token_to_index = {token: i for i, token in enumerate(labels)}
  entries, skipped = manifest.read_manifest(path, token_to_index,
                                            text_policy=text_policy)
  return [" ".join(e.transcript.split()) for e in entries], skipped


def decode_line(raw, path, line_no):
  """A line's bytes as text, or an LmError naming the file and line."""
  try:
    return raw.decode("utf-8")
  except UnicodeDecodeError as e:
    raise LmError("%s:%d: bytes that are not UTF-8 at column %d"
                  % (path, line_no, e.start + 1)) from None


def text_file_sentences(path, labels=None,
                        text_policy=text_normalization.DEFAULT):
  """The sentences of a text file, one per line, under the text policy.

  Lines holding characters outside the labels (digits, punctuation) are left
  out rather than guessed at; the caller reports them.

  Args:
    path: a UTF-8 text file, e.g. librispeech-lm-norm.txt.
    labels: the model's labels (blank last); defaults to data/vocabulary.txt.
    text_policy: the `text_normalization.TextPolicy` training used.

  Returns:
    (sentences, bad_lines): a list of str, and a list of (line number,
    line) for the lines left out.

  Raises:
    LmError: the file is missing or not UTF-8 (naming the line).
  """
  labels = labels or vocabulary.read_tokens(vocabulary.VOCABULARY_FILE)
  allowed = set(labels[:vocabulary.blank_index(labels)])
  if not os.path.isfile(path):
    raise LmError("text file not found: %s" % path)
  sentences, bad_lines = [], []
  with open(path, "rb") as f:
    for line_no, raw in enumerate(f, start=1):
      sentence = normalize(decode_line(raw, path, line_no), text_policy)
      if not sentence:
        continue
      if set(sentence) <= allowed:
        sentences.append(sentence)
      else:
        bad_lines.append((line_no, sentence))
  return sentences, bad_lines


def check_sources(sources, exclude_manifests):
  """Refuses a source that is a manifest being evaluated.

  Args:
    sources: paths of the manifests and text files the LM is built from.
    exclude_manifests: the evaluation manifests (a path, a list, or None).

  Raises:
    LmError: a source is one of `exclude_manifests` (the same file).
  """
  if isinstance(exclude_manifests, str):
    exclude_manifests = [exclude_manifests]
  for source in sources:
    if any(output_paths.same_file(source, excluded)
           for excluded in exclude_manifests or []):
      raise LmError(
          "%s is the evaluation manifest; an LM trained on the transcripts "
          "it is scored on would make the WER meaningless" % source)


def drop_excluded(sentences, excluded):
  """Removes the sentences that occur in the excluded set.

  Args:
    sentences: list of normalized sentences.
    excluded: a set of normalized sentences (the evaluation transcripts).

  Returns:
    (kept sentences, number dropped).
  """
  kept = [s for s in sentences if s not in excluded]
  return kept, len(sentences) - len(kept)


def word_counts(sentences):
  """Word -> count over the sentences (a collections.Counter)."""
  return collections.Counter(w for s in sentences for w in s.split())


def write_vocabulary(counts, path):
  """Writes the words, one per line, most frequent first (ties by spelling).

  This is the lexicon format `read_lexicon` reads.
  """
  words = sorted(counts, key=lambda w: (-counts[w], w))
  atomic_file.write_text(path, "".join(w + "\n" for w in words))
  return len(words)


def read_lexicon(path):
  """The words of a lexicon or vocabulary file, in file order.

  One word per line; further fields on a line (a pronunciation or a count)
  are ignored, so OpenSLR's librispeech-vocab.txt and data/build_lm.py's
  --vocab_out both work. Words are kept as written (the decoder spells
  them with its labels: see `beam_search.BeamSearchDecoder`).

  Raises:
    ValueError: the file holds no word, or bytes that are not UTF-8 (naming
      it).
  """
  words = []
  seen = set()
  with open(path, "rb") as f:
    for line_no, raw in enumerate(f, start=1):
      fields = decode_line(raw, path, line_no).split()
      if fields and fields[0] not in seen:
        seen.add(fields[0])
        words.append(fields[0])
  if not words:
    raise ValueError("%s holds no word" % path)
  return words


def build_arpa(sentences, order, path, min_counts=None, prune_threshold=0.0):
  """Writes a Kneser-Ney back-off n-gram model of the sentences as ARPA.

  Args:
    sentences: list of normalized sentences (words separated by spaces).
    order: the n-gram order, 1 to MAX_ORDER.
    path: the ARPA file to write (atomically).
    min_counts: optional list of per-order minimum counts (index 0 for
      unigrams); n-grams seen fewer times are dropped before estimation
      (SRILM's -gtNmin). Missing orders keep everything.
    prune_threshold: Stolcke entropy pruning: drop n-grams (order >= 2)
      whose removal raises the training perplexity by less than this
      relative amount (e.g. 1e-8); 0 keeps them all.

  Returns:
    A list of (order, n-gram count) as written.

  Raises:
    LmError: no sentences, or an order outside 1..MAX_ORDER.
    ImportError: kaldingram is missing (the message names the pip line).
  """
  if not 1 <= order <= MAX_ORDER:
    raise LmError("the n-gram order must lie in 1..%d, got %d"
                  % (MAX_ORDER, order))
  if not sentences:
    raise LmError("no sentences to build the LM from")
  train, prune = _kaldingram()
  counts = train.NgramCounts(order)
  for sentence in sentences:
    counts.add_raw_counts_from_line(sentence)
  cutoffs = list(min_counts or [])[:order]
  cutoffs += [0] * (order - len(cutoffs))
  if any(cutoffs):
    counts.apply_count_cutoffs(cutoffs)
  counts.cal_discounting_constants()
  counts.cal_f()
  counts.cal_bow()
  # The unpruned model is pruned in its temporary file: only the finished
  # model ever takes `path`, and a failed pruning leaves an older one there.
  with atomic_file.atomic_write(path) as f:
    counts.print_as_arpa(fout=f)
    if prune_threshold > 0 and order > 1:
      f.flush()
      parser = prune.ArpaParser()
      lm = parser.loadf(f.name, encoding="utf-8")[0]
      prune.prune(lm, prune_threshold, 2)
      f.seek(0)
      f.truncate()
      parser.dump(lm, f)
      f.flush()
      # kaldingram keeps the old header count of an order pruned to nothing,
      # an ARPA file KenLM refuses: say so in our terms instead.
      empty = [n for n, count in _section_sizes(f.name) if count == 0]
      if empty:
        raise LmError("pruning with threshold %g removed every %d-gram; use "
                      "a smaller threshold or a lower order"
                      % (prune_threshold, empty[0]))
  return arpa_counts(path)


def _section_sizes(path):
  """(N, number of entries) for each \\N-grams: section of an ARPA file."""
  sizes = []
  with open(path, encoding="utf-8") as f:
    for line in f:
      line = line.strip()
      if line.endswith("-grams:") and line.startswith("\\"):
        sizes.append([int(line[1:-len("-grams:")]), 0])
      elif sizes and line and not line.startswith("\\"):
        sizes[-1][1] += 1
  return [tuple(s) for s in sizes]


def arpa_counts(path):
  """The `ngram N=count` lines of an ARPA file's header, as (N, count)."""
  result = []
  with open(path, encoding="utf-8") as f:
    for line in f:
      line = line.strip()
      if line.startswith("ngram ") and "=" in line:
        n, count = line[len("ngram "):].split("=")
        result.append((int(n), int(count)))
      elif line.startswith("\\1-grams:"):
        break
  return result


# The first bytes of a KenLM binary model (build_binary's header).
KENLM_BINARY_MAGIC = b"mmap lm http://kheafield.com/code"


def check_lm_file(path):
  """Refuses a file that is neither an ARPA file nor a KenLM binary.

  Only the start is read, so a multi-gigabyte LM costs nothing here; what
  KenLM finds wrong further in is reported by the decoder.

  Raises:
    LmError: a missing file, or one whose start is neither (naming it).
  """
  try:
    with open(path, "rb") as f:
      start = f.read(4096)
  except OSError as e:
    raise LmError("cannot read the language model %s: %s"
                  % (path, e.strerror or e)) from None
  if start.startswith(KENLM_BINARY_MAGIC):
    return
  first = start.lstrip().split(b"\n", 1)[0].strip()
  if first != b"\\data\\":
    raise LmError("%s is not a language model: an ARPA file starts with a "
                  "\\data\\ line, a KenLM binary with %r"
                  % (path, KENLM_BINARY_MAGIC.decode()))


def arpa_words(path):
  """The words of an ARPA file's unigram section (without <s>, </s>, <unk>).

  Raises:
    LmError: the file has no unigram section, or bytes that are not UTF-8
      (naming the line).
  """
  words = []
  in_unigrams = False
  with open(path, "rb") as f:
    for line_no, raw in enumerate(f, start=1):
      line = decode_line(raw, path, line_no).strip()
      if line == "\\1-grams:":
        in_unigrams = True
        continue
      if in_unigrams:
        if not line:
          continue
        if line.startswith("\\"):
          break
        fields = line.split()
        if len(fields) >= 2 and fields[1] not in ("<s>", "</s>", "<unk>"):
          words.append(fields[1])
  if not in_unigrams:
    raise LmError("%s is not an ARPA file: it has no \\1-grams: section"
                  % path)
  return words

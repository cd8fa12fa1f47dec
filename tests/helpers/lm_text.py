"""Sentences, manifests and ARPA n-grams for the LM builder's tests."""

from data import manifest


SENTENCES = ["the cat sat on the mat", "the dog sat on the log",
             "a cat and a dog", "the cat ate the fish"]


def write_manifest(path, transcripts):
  rows = ["\t".join(manifest.HEADER)] + [
      "/data/u%d.wav\t1000\t%s" % (i, t) for i, t in enumerate(transcripts)]
  path.write_text("\n".join(rows) + "\n")
  return str(path)


def arpa_ngrams(path):
  """The n-grams of an ARPA file's sections, as a set of word tuples."""
  ngrams, section = set(), False
  for line in open(path):
    line = line.rstrip("\n")
    if line.endswith("-grams:"):
      section = True
    elif section and line and not line.startswith("\\"):
      ngrams.add(tuple(line.split("\t")[1].split()))
  return ngrams

"""The synthesis behind `data/sample_corpus.py`, one module per job.

  text     the sentence pool: WordNet examples and fortunes, normalized
  plan     which speaker says which sentence, how; reuse across re-runs
  voices   speakers, the engines that voice them, FLAC rendering
  runner   many chapters in parallel, festival's batched per voice
  archive  LibriSpeech-layout transcripts, archives and md5sum.txt
"""

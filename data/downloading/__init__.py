"""The steps of `data/download.py`, one module per job.

  fetch        download and verify: resumable transfers, checksums
  archive      extract: safe, resumable tar extraction
  convert      convert and manifest: sox to 16 kHz wav, atomic manifests
  steps        the five steps for one archive, each skipped when done
  librispeech  LibriSpeech's subsets, layout, transcripts; its steps in order
  ljspeech     LJSpeech's layout, metadata, train/dev split; its steps in order
  librispeech_lm  the LibriSpeech LM files (OpenSLR resource 11)
  common       the error every step raises and the progress bar
"""

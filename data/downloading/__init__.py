"""The steps of `data/download.py`, one module per job.

  fetch        download and verify: resumable transfers, checksums
  archive      extract: safe, resumable tar extraction
  convert      convert and manifest: sox to 16 kHz wav, atomic manifests
  librispeech  LibriSpeech's subsets, layout and transcripts
  ljspeech     LJSpeech's layout, metadata and train/dev split
  common       the error every step raises and the progress bar
"""

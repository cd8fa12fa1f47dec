"""Decoding: from the model's per-frame probabilities to scored text.

decoder.py (the seed's interface) holds the greedy decoder and
`make_decoder`; this package holds the rest, one module per role:
beam_search (CTC beam search with a KenLM n-gram), lm (building and reading
n-gram LMs), lm_settings (the tuned-LM settings file), tuning (the
alpha/beta grid search), scoring (WER/CER and their error breakdown).
"""

"""Tests for training/evaluation.py: the seed's log line and the record."""

from absl import logging

from training import evaluation


def test_the_seeds_iteration_line_and_samples(monkeypatch):
  lines = []
  monkeypatch.setattr(logging, "info",
                      lambda fmt, *args: lines.append(fmt % args if args
                                                      else fmt))
  results = {"WER": 0.5, "CER": 0.25, "corpus_WER": 0.4, "corpus_CER": 0.2,
             "targets": ["a cat", "a dog"], "decoded": ["a cat", "a dg"]}
  evaluation.log_evaluation(3, results, 1.5, show_samples=1)
  assert lines[0] == "Iteration 3: WER = 0.5000, CER = 0.2500"
  assert lines[1] == ("Iteration 3: corpus WER = 0.4000, corpus CER = "
                      "0.2000, mean train loss = 1.5000")
  assert lines[2:] == ["  reference : a cat\n  prediction: a cat"]

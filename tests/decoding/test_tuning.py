"""Tests for decoding/tuning.py: the alpha/beta grid search, its outputs
cache and loading a model (hand-made outputs, a real n-gram, a real export)."""

import os
import threading

import numpy as np
import pytest

import decoder
from decoding import scoring
from decoding import tuning
from tests.helpers import durability
from tests.helpers import tuning_data
# Module-scoped fixtures, shared with the other tuning tests.
from tests.helpers.tuning_data import arpa, outputs  # noqa: F401


def test_grid_is_alpha_major_and_checks_its_ranges():
  assert tuning.grid(0, 1, 3, -1, 1, 2) == [
      (0.0, -1.0), (0.0, 1.0), (0.5, -1.0), (0.5, 1.0), (1.0, -1.0),
      (1.0, 1.0)]
  assert tuning.grid(0.5, 0.5, 1, 2, 9, 1) == [(0.5, 2.0)]
  with pytest.raises(tuning.TuningError, match="alpha range is empty"):
    tuning.grid(2, 1, 3, 0, 1, 2)
  with pytest.raises(tuning.TuningError, match="beta needs at least"):
    tuning.grid(0, 1, 3, 0, 1, 0)


@pytest.mark.parametrize("processes", [1, 2])
def test_search_scores_every_point_as_a_fresh_decoder_would(arpa, outputs,
                                                            processes):
  probabilities, lengths, references = outputs
  greedy = decoder.make_decoder("greedy", tuning_data.LABELS).decode_batch(probabilities,
                                                                lengths)
  greedy_wer = scoring.compute_error_rates(greedy, references)["corpus_WER"]
  assert greedy_wer > 0.15  # Every sentence has a wrong word.
  base = decoder.make_decoder("beam", tuning_data.LABELS, beam_width=16, lm_path=arpa)
  points = tuning.grid(0.0, 2.0, 3, 0.0, 2.0, 2)
  scored = tuning.search(base, probabilities, lengths, references, points,
                            processes=processes, show_progress=False)
  assert [(p.alpha, p.beta) for p in scored] == points
  for point in scored:
    fresh = decoder.make_decoder("beam", tuning_data.LABELS, beam_width=16, lm_path=arpa,
                                 alpha=point.alpha, beta=point.beta)
    rates = scoring.compute_error_rates(
        fresh.decode_batch(probabilities, lengths), references)
    assert (point.wer, point.cer) == (rates["corpus_WER"], rates["corpus_CER"])
  best = tuning.best_point(scored)
  assert best.wer == min(p.wer for p in scored)
  # The LM repairs the misspellings that its lexicon alone cannot.
  assert best.wer == 0.0 and best.alpha > 0.0
  assert max(p.wer for p in scored if p.alpha == 0.0) > 0.0
  table = tuning.format_table(scored, (greedy_wer, 0.1))
  assert table.count("<- best") == 1 and "greedy" in table


def test_best_point_breaks_ties_by_cer_then_smaller_alpha():
  points = [tuning.Point(1.0, 0.0, 0.2, 0.10),
            tuning.Point(0.5, 1.0, 0.2, 0.10),
            tuning.Point(2.0, 0.0, 0.2, 0.05),
            tuning.Point(0.0, 0.0, 0.3, 0.01)]
  assert tuning.best_point(points) == points[2]
  assert tuning.best_point(points[:2]) == points[1]


def test_on_edge_names_the_bounds_the_best_point_sits_on():
  points = [tuning.Point(a, b, 0.5, 0.5) for a in (0.0, 1.0, 2.0)
            for b in (0.0, 1.0, 2.0)]
  assert tuning.on_edge(points[4], points) == []
  assert tuning.on_edge(points[8], points) == ["alpha max", "beta max"]
  assert tuning.on_edge(points[1], points) == ["alpha min"]
  assert tuning.on_edge(points[0], points[:1]) == []


def test_with_weights_needs_an_lm_or_lexicon():
  plain = decoder.make_decoder("beam", tuning_data.LABELS, beam_width=4)
  with pytest.raises(ValueError, match="need an LM or a lexicon"):
    plain.with_weights(1.0, 0.0)


def test_held_out_check_refuses_shared_utterances(tmp_path):
  tune = str(tmp_path / "tune.csv")
  tuning.check_held_out(["/a/1.wav", "/a/2.wav"], tune,
                           {str(tmp_path / "dev.csv"): ["/a/3.wav"]})
  with pytest.raises(tuning.TuningError,
                     match=r"1 of the 2 tuning utterances .*dev\.csv"):
    tuning.check_held_out(["/a/1.wav", "/a/2.wav"], tune,
                             {str(tmp_path / "dev.csv"): ["/a/2.wav"]})
  with pytest.raises(tuning.TuningError, match="is the manifest it must"):
    tuning.check_held_out(["/a/1.wav"], tune, {tune: []})


def test_outputs_cache_round_trips_and_names_a_bad_file(tmp_path, outputs):
  probabilities, lengths, references = outputs
  path = str(tmp_path / "outputs.npz")
  tuning.save_outputs(path, probabilities, lengths, references, tuning_data.LABELS,
                         "/m/1")
  got = tuning.load_outputs(path)
  np.testing.assert_array_equal(got[0], probabilities)
  np.testing.assert_array_equal(got[1], lengths)
  assert got[2] == references and "".join(got[3]) == tuning_data.LABELS
  assert got[4] == "/m/1"
  bad = tmp_path / "bad.npz"
  bad.write_text("not numpy")
  with pytest.raises(tuning.TuningError, match="bad.npz"):
    tuning.load_outputs(str(bad))


def test_outputs_cache_writes_are_durable_and_never_follow_links(
    tmp_path, outputs, monkeypatch):
  probabilities, lengths, references = outputs
  path = str(tmp_path / "outputs.npz")
  synced = durability.record_fsyncs(monkeypatch)
  # Two runs sharing one cache: each has its own temporary.
  threads = [threading.Thread(target=tuning.save_outputs, args=(
      path, probabilities, lengths, references, tuning_data.LABELS, "/m/%d" % i))
             for i in range(4)]
  for thread in threads:
    thread.start()
  for thread in threads:
    thread.join()
  assert durability.durably_renamed(synced, path)
  assert tuning.load_outputs(path)[4] in ["/m/%d" % i for i in range(4)]
  assert os.listdir(str(tmp_path)) == ["outputs.npz"]
  precious = tmp_path / "precious.bin"
  precious.write_bytes(b"keep me")
  link = str(tmp_path / "linked.npz")
  os.symlink(str(precious), link)
  with pytest.raises(tuning.TuningError, match="is a symbolic link"):
    tuning.load_outputs(link)
  tuning.save_outputs(link, probabilities, lengths, references, tuning_data.LABELS)
  assert precious.read_bytes() == b"keep me"
  assert not os.path.islink(link)


@pytest.mark.slow
def test_loading_an_export_shows_no_custom_gradient_warning(tmp_path, caplog):
  # The CPU GRU's training loop has a written-out gradient, which TensorFlow
  # warns about on every load of a graph holding it; an export's graph is
  # built for inference and must not hold it.
  export_path = tuning_data.tiny_export(str(tmp_path))
  with caplog.at_level("WARNING"):
    model = tuning.load_model(export_path)
  assert model.settings.sample_rate == 16000
  assert not [r for r in caplog.records
              if "custom gradients" in r.getMessage()], caplog.text

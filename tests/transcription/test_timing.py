"""Word timings from hand-made CTC probability matrices."""

import numpy as np
import pytest

import decoder
from transcription import timing

LABELS = " abcdefghijklmnopqrstuvwxyz'-"
BLANK = 28
CLOCK = timing.FrameClock(stride_ms=10, window_ms=20, time_reduction=4)


def _matrix(path, peak=0.9):
  """[len(path), 29] probabilities whose argmax spells `path` ('-' blank)."""
  probs = np.full((len(path), 29), (1 - peak) / 28, np.float32)
  for t, char in enumerate(path):
    probs[t, LABELS.index(char)] = peak
  return probs


def test_frame_clock_centres_output_frames_on_every_fourth_input_frame():
  # Output frame j is centred on input frame 4j, whose window is centred
  # 4j * 10 ms + 10 ms into the audio; it spans 40 ms.
  assert CLOCK.frame_sec == pytest.approx(0.04)
  assert CLOCK.start(5) == pytest.approx(0.2 + 0.01 - 0.02)
  assert CLOCK.end(5) == pytest.approx(0.2 + 0.01 + 0.02)
  assert CLOCK.start(0) == 0.0


def test_words_follow_the_greedy_path_and_text_equals_the_greedy_decoder():
  path = "--cc-aa-t---  --dd-o-gg--"
  probs = _matrix(path)
  text, words = timing.greedy_words(probs, len(path), LABELS, BLANK, CLOCK,
                                    offset_sec=10.0)
  assert text == decoder.DeepSpeechDecoder(LABELS, BLANK).decode(probs)
  assert [w.word for w in words] == ["cat", "dog"]
  cat, dog = words
  assert cat.start == pytest.approx(10.0 + CLOCK.start(2))
  assert cat.end == pytest.approx(10.0 + CLOCK.end(8))
  assert dog.start == pytest.approx(10.0 + CLOCK.start(16))
  assert dog.end == pytest.approx(10.0 + CLOCK.end(22))
  assert cat.end < dog.start


def test_confidence_is_the_mean_of_each_characters_best_probability():
  probs = _matrix("ab-", peak=0.6)
  probs[0, LABELS.index("a")] = 0.8
  probs[1, LABELS.index("b")] = 0.4
  _, (word,) = timing.greedy_words(probs, 3, LABELS, BLANK, CLOCK)
  assert word.word == "ab"
  assert word.confidence == pytest.approx(0.6)


def test_padding_frames_are_ignored_and_ends_clip_to_the_chunk():
  probs = _matrix("-a-" + "zzzz")
  text, words = timing.greedy_words(probs, 3, LABELS, BLANK, CLOCK,
                                    end_sec=0.05)
  assert text == "a"
  assert words[0].end == pytest.approx(0.05)
  assert timing.greedy_words(probs[:0], 0, LABELS, BLANK, CLOCK) == ("", [])


def test_times_increase_monotonically_over_many_words():
  rng = np.random.default_rng(0)
  path = "".join("-" * rng.integers(1, 4) + "abc"[i % 3] * rng.integers(1, 3)
                 + "-" + (" " if i % 2 else "") for i in range(60))
  _, words = timing.greedy_words(_matrix(path), len(path), LABELS, BLANK,
                                 CLOCK)
  starts = [w.start for w in words]
  assert len(words) == 30
  assert all(w.start < w.end for w in words)
  assert all(a.end <= b.start for a, b in zip(words, words[1:]))
  assert starts == sorted(starts)


def test_another_decoders_words_take_the_greedy_times():
  _, greedy = timing.greedy_words(_matrix("-the-- -cat--  -sat-"), 20,
                                  LABELS, BLANK, CLOCK)
  aligned = timing.align_words("the cap sat down", greedy)
  assert [w.word for w in aligned] == ["the", "cap", "sat", "down"]
  assert aligned[0].start == greedy[0].start
  assert (aligned[1].start, aligned[1].end) == (greedy[1].start,
                                                greedy[1].end)
  assert aligned[2].end == greedy[2].end
  assert aligned[3].confidence is None
  assert all(a.start <= b.start for a, b in zip(aligned, aligned[1:]))

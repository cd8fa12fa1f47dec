"""The model worker's queue and batching, with a transcriber that records
its passes (the real pipeline is tested through serve.py in test_app.py)."""

import threading

import pytest

from serving import worker
from transcription import output
from transcription import pipeline


class RecordingTranscriber(object):
  """Transcribes "name" as "text of name"; the first pass waits for `go`."""

  def __init__(self, fail=()):
    self.passes = []
    self.started = threading.Event()
    self.go = threading.Event()
    self._fail = fail

  def transcribe(self, paths):
    self.passes.append(list(paths))
    self.started.set()
    self.go.wait(10)
    for path in paths:
      if path == "explode":
        raise RuntimeError("the model broke")
      result = pipeline.Result(path)
      if path in self._fail:
        result.error = "%s: not a readable audio file" % path
      else:
        result.transcript = output.FileTranscript(path, "text of " + path,
                                                  1.0, [])
      yield result


def _held_worker(max_queue, max_files, **kwargs):
  """A started worker busy with request "first" until `.go` is set."""
  transcriber = RecordingTranscriber(**kwargs)
  model_worker = worker.ModelWorker(transcriber, max_queue, max_files).start()
  first = model_worker.submit("first")
  assert transcriber.started.wait(10)
  return transcriber, model_worker, first


def test_requests_waiting_during_a_pass_run_together_in_the_next():
  transcriber, model_worker, first = _held_worker(max_queue=8, max_files=3)
  futures = [model_worker.submit(name) for name in "abcde"]
  assert model_worker.waiting == 5
  transcriber.go.set()
  assert [f.result(10).text for f in [first] + futures] == [
      "text of " + n for n in ["first"] + list("abcde")]
  model_worker.stop(10)
  assert transcriber.passes == [["first"], ["a", "b", "c"], ["d", "e"]]
  assert (model_worker.passes, model_worker.files) == (3, 6)


def test_one_file_per_pass_keeps_each_request_alone():
  transcriber, model_worker, first = _held_worker(max_queue=8, max_files=1)
  futures = [model_worker.submit(name) for name in "ab"]
  transcriber.go.set()
  assert [f.result(10).text for f in [first] + futures] == [
      "text of first", "text of a", "text of b"]
  model_worker.stop(10)
  assert transcriber.passes == [["first"], ["a"], ["b"]]


def test_a_full_queue_refuses_at_once_and_loses_nothing_queued():
  transcriber, model_worker, first = _held_worker(max_queue=2, max_files=4)
  queued = [model_worker.submit("a"), model_worker.submit("b")]
  with pytest.raises(worker.Busy, match="the server is busy: 2 requests are "
                     "waiting; try again later"):
    model_worker.submit("c")
  transcriber.go.set()
  assert [f.result(10).text for f in [first] + queued] == [
      "text of first", "text of a", "text of b"]
  model_worker.stop(10)
  assert transcriber.passes == [["first"], ["a", "b"]]


def test_a_bad_file_fails_its_request_and_a_model_error_only_its_pass():
  transcriber, model_worker, first = _held_worker(
      max_queue=8, max_files=2, fail=("bad",))
  bad, good = model_worker.submit("bad"), model_worker.submit("good")
  transcriber.go.set()
  assert first.result(10).text == "text of first"
  with pytest.raises(worker.TranscriptionFailed,
                     match="^bad: not a readable audio file$"):
    bad.result(10)
  assert good.result(10).text == "text of good"
  broken = model_worker.submit("explode")
  with pytest.raises(RuntimeError, match="the model broke"):
    broken.result(10)
  after = model_worker.submit("after")
  assert after.result(10).text == "text of after"
  model_worker.stop(10)
  assert transcriber.passes == [["first"], ["bad", "good"], ["explode"],
                                ["after"]]


def test_stop_finishes_what_is_queued_then_ends_the_thread():
  transcriber, model_worker, first = _held_worker(max_queue=8, max_files=8)
  queued = model_worker.submit("queued")
  threading.Timer(0.2, transcriber.go.set).start()
  model_worker.stop(10)
  assert first.result(0).text == "text of first"
  assert queued.result(0).text == "text of queued"
  assert not model_worker._thread.is_alive()  # pylint: disable=protected-access


def test_the_call_worker_runs_calls_in_order_and_refuses_past_its_queue():
  go, started, order = threading.Event(), threading.Event(), []

  def held():
    started.set()
    go.wait(10)
    order.append("held")
    return "first"
  calls = worker.CallWorker(max_queue=2).start()
  try:
    first = calls.submit(held)
    assert started.wait(10)  # running, so no longer waiting in the queue
    queued = [calls.submit(lambda n=n: order.append(n) or n) for n in (1, 2)]
    with pytest.raises(worker.Busy, match="2 stream pieces are waiting"):
      calls.submit(lambda: None)
    assert calls.waiting == 2
    go.set()
    assert [f.result(10) for f in [first] + queued] == ["first", 1, 2]
    assert order == ["held", 1, 2]

    def broken():
      raise ValueError("a bad piece")
    with pytest.raises(ValueError, match="a bad piece"):
      calls.submit(broken).result(10)
    assert calls.submit(lambda: "still running").result(10) == "still running"
  finally:
    calls.stop(timeout=10)

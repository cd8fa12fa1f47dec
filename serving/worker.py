"""The model worker: one thread owns the model and batches queued requests.

Policy: requests wait in a bounded FIFO queue (`max_queue`); a request that
finds it full is refused at once (`Busy`, the server's 503) rather than
waiting without bound. The worker takes the oldest request and every other
one already waiting, up to `max_files`, and transcribes them in one pass of
`pipeline.Transcriber`, whose chunks from all of them share model calls of up
to its batch size. No request waits for others to arrive: under light load a
request runs alone at once, under heavy load the next pass takes everything
that queued during the last one, so model calls fill up exactly when there
is a backlog.

With `max_files=1` (serve.py's default) each pass is one request, its chunks
batched together exactly as transcribe.py batches that file alone, so the
answer never depends on the load. The model does not mask the padding of a
batch (its backward RNN reads the padded frames), so a chunk batched with a
longer one can come out a little different; more files per pass trade that
for throughput.

The model runs only on this thread: TensorFlow's own thread pools
parallelize each call, and one caller keeps the batches whole.
"""

import concurrent.futures
import queue
import threading

_STOP = object()


class Busy(Exception):
  """The queue is full: the request was not accepted."""


class TranscriptionFailed(ValueError):
  """The pipeline could not transcribe the file; the message says why."""


class _QueuedThread(object):
  """A thread that runs queued jobs; `submit` refuses with `Busy` when
  `max_queue` jobs wait. Subclasses define `_run` and name what waits."""

  WAITING = "jobs"

  def __init__(self, max_queue, name):
    self._queue = queue.Queue(maxsize=max_queue)
    self._thread = threading.Thread(target=self._run, name=name, daemon=True)

  def start(self):
    self._thread.start()
    return self

  @property
  def waiting(self):
    """Jobs in the queue (not yet taken by the worker)."""
    return self._queue.qsize()

  def submit(self, item):
    """Queues `item`; returns a concurrent Future of its result.

    Raises:
      Busy: the queue is full.
    """
    future = concurrent.futures.Future()
    try:
      self._queue.put_nowait((item, future))
    except queue.Full:
      raise Busy("the server is busy: %d %s are waiting; try again later"
                 % (self._queue.maxsize, self.WAITING)) from None
    return future

  def stop(self, timeout=None):
    """Lets the worker finish what is queued, then ends its thread."""
    if self._thread.is_alive():
      self._queue.put(_STOP)
      self._thread.join(timeout)


class ModelWorker(_QueuedThread):
  """Runs a `pipeline.Transcriber` on a thread, over a bounded queue."""

  def __init__(self, transcriber, max_queue=32, max_files=16):
    """Args:

      transcriber: a `pipeline.Transcriber` (used only by the worker).
      max_queue: requests that may wait; more are refused with `Busy`.
      max_files: the most requests transcribed in one pass.
    """
    super().__init__(max_queue, "model-worker")
    self._transcriber = transcriber
    self._max_files = max_files
    self.passes = 0  # transcription passes run (each one or more files)
    self.files = 0  # files transcribed

  # submit(path): a concurrent Future of its `FileTranscript`, failing with
  # `TranscriptionFailed` naming the reason.
  WAITING = "requests"

  def _take(self):
    """The next jobs: the oldest, then all waiting (None: stop)."""
    first = self._queue.get()
    if first is _STOP:
      return None
    jobs = [first]
    while len(jobs) < self._max_files:
      try:
        job = self._queue.get_nowait()
      except queue.Empty:
        break
      if job is _STOP:
        self._queue.put(_STOP)  # after this pass
        break
      jobs.append(job)
    return jobs

  def _run(self):
    while True:
      jobs = self._take()
      if jobs is None:
        return
      jobs = [(p, f) for p, f in jobs if f.set_running_or_notify_cancel()]
      if jobs:
        self._transcribe(jobs)

  def _transcribe(self, jobs):
    futures = dict(jobs)
    try:
      for result in self._transcriber.transcribe([p for p, _ in jobs]):
        future = futures.pop(result.path)
        if result.error:
          future.set_exception(TranscriptionFailed(result.error))
        else:
          future.set_result(result.transcript)
        self.files += 1
    except Exception as e:  # pylint: disable=broad-except
      # A failure of the model itself fails this pass's requests, not the
      # server: the next pass starts afresh.
      for future in futures.values():
        future.set_exception(e)
    for future in futures.values():
      if not future.done():
        future.set_exception(RuntimeError("no transcript came out"))
    self.passes += 1


class CallWorker(_QueuedThread):
  """Runs callables in order on one thread, over a bounded queue.

  The streams' work (serving/stream.py): each call is one stream's next
  piece, so a stream's calls never overlap, and the model's other thread
  keeps the file requests. The policy is `ModelWorker`'s: a call that finds
  `max_queue` waiting is refused with `Busy`.
  """

  # submit(call): a concurrent Future of call()'s result.
  WAITING = "stream pieces"

  def __init__(self, max_queue=32, name="stream-worker"):
    super().__init__(max_queue, name)

  def _run(self):
    while True:
      job = self._queue.get()
      if job is _STOP:
        return
      call, future = job
      if not future.set_running_or_notify_cancel():
        continue
      try:
        future.set_result(call())
      except BaseException as e:  # pylint: disable=broad-except
        future.set_exception(e)

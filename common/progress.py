"""One progress display for every long job: count, rate and ETA on stderr.

Downloads, extraction, conversion, corpus synthesis, manifest checks and
evaluation all report through `Progress`, so they read the same way:

    converting dev-clean  42.0% 1134/2703 61.3 files/s ETA 0:25

On a terminal the line is redrawn in place (at most every `interval_s`). When
stderr is a file or a pipe (CI, batch jobs, `2> log`) a plain line is written
every `log_interval_s` instead, and at the end: log files get a few complete
lines and never a carriage return.

tqdm was considered: it writes carriage returns to files too and has no
periodic-line mode, and this module is all the project needs of it.
"""

import sys
import threading
import time


def format_bytes(num_bytes):
  """Formats a byte count with an SI unit, e.g. `337.9 MB`.

  Args:
    num_bytes: a count of bytes (int or float, >= 0).

  Returns:
    A short string; SI units because OpenSLR quotes archive sizes that way.
  """
  value = float(num_bytes)
  if value < 1000.0:
    return "%d B" % value
  for unit in ("kB", "MB", "GB"):
    value /= 1000.0
    if value < 1000.0:
      return "%.1f %s" % (value, unit)
  return "%.1f TB" % (value / 1000.0)


def format_duration(seconds):
  """Formats seconds as `H:MM:SS` (or `M:SS` under an hour) for ETAs."""
  seconds = int(round(max(seconds, 0)))
  hours, rest = divmod(seconds, 3600)
  minutes, secs = divmod(rest, 60)
  if hours:
    return "%d:%02d:%02d" % (hours, minutes, secs)
  return "%d:%02d" % (minutes, secs)


class Progress(object):
  """A progress display on stderr: done/total, rate and ETA.

  Thread-safe: worker threads may call `update` concurrently. Use it as a
  context manager, or call `close` to draw the final line.

  Args:
    label: what is progressing, e.g. `dev-clean.tar.gz` or `evaluating`.
    total: the expected final count, or None when unknown (a download
      without Content-Length).
    unit: "bytes" to format counts as sizes; any other unit name is printed
      after the rate, e.g. "files" gives `61.3 files/s`.
    initial: the count already done, e.g. the size of a resumed partial
      download; it is not counted in the rate.
    stream: where to write; stderr by default so stdout stays clean.
    interval_s: seconds between redraws on a terminal.
    log_interval_s: seconds between lines when `stream` is not a terminal.
    delay_s: draw nothing during the first `delay_s` seconds, so a job that
      ends sooner (a small dev set, a test) stays silent.
  """

  def __init__(self, label, total, unit="bytes", initial=0, stream=None,
               interval_s=0.2, log_interval_s=10.0, delay_s=0.0):
    self._label = label
    self._total = total
    self._unit = unit
    self._initial = initial
    self._done = initial
    self._stream = stream if stream is not None else sys.stderr
    self._is_tty = hasattr(self._stream, "isatty") and self._stream.isatty()
    self._interval_s = interval_s if self._is_tty else log_interval_s
    self._start = time.monotonic()
    self._first_draw = self._start + delay_s
    # The first update after the delay draws at once, so a log shows when
    # the job started.
    self._last_draw = None
    self._closed = False
    self._lock = threading.Lock()

  @property
  def done(self):
    """The count reached so far."""
    return self._done

  def _format_count(self, count):
    if self._unit == "bytes":
      return format_bytes(count)
    return "%d" % count

  def line(self):
    """The current state as one line of text (no line ending)."""
    elapsed = max(time.monotonic() - self._start, 1e-6)
    rate = (self._done - self._initial) / elapsed
    if self._unit == "bytes":
      rate_text = "%s/s" % format_bytes(rate)
    else:
      rate_text = "%.1f %s/s" % (rate, self._unit)
    if self._total:
      percent = 100.0 * self._done / self._total
      remaining = self._total - self._done
      eta = format_duration(remaining / rate) if rate > 0 else "?"
      return "%s %5.1f%% %s/%s %s ETA %s" % (
          self._label, percent, self._format_count(self._done),
          self._format_count(self._total), rate_text, eta)
    return "%s %s %s" % (self._label, self._format_count(self._done),
                         rate_text)

  def _draw(self, final=False):
    line = self.line()
    if self._is_tty:
      # Pad so a shorter line fully covers the previous one.
      self._stream.write("\r" + line.ljust(79) + ("\n" if final else ""))
    else:
      self._stream.write(line + "\n")
    self._stream.flush()

  def update(self, count=1):
    """Adds `count` to the done total and draws if the interval has passed."""
    with self._lock:
      self._done += count
      now = time.monotonic()
      if now < self._first_draw:
        return
      if self._last_draw is None or now - self._last_draw >= self._interval_s:
        self._last_draw = now
        self._draw()

  def reset(self, done=0, total=None):
    """Restarts the count (and the rate) at `done`, e.g. on a new request.

    Args:
      done: the count already reached.
      total: a new expected total; None keeps the current one.
    """
    with self._lock:
      self._done = done
      self._initial = done
      if total is not None:
        self._total = total
      self._start = time.monotonic()

  def break_line(self):
    """Ends the line being redrawn, so a log message gets a line of its own."""
    with self._lock:
      if self._is_tty and self._last_draw is not None:
        self._stream.write("\n")
        self._stream.flush()

  def close(self):
    """Draws the final state and ends the line; safe to call twice.

    Nothing is drawn when the job ended within `delay_s`.
    """
    with self._lock:
      if not self._closed:
        self._closed = True
        if time.monotonic() >= self._first_draw:
          self._draw(final=True)

  def __enter__(self):
    return self

  def __exit__(self, *exc_info):
    self.close()
    return False

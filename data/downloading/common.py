"""Plumbing shared by the download steps: errors and progress bars.

Every failure a user can cause (no network, a bad checksum, an unsafe archive,
sox missing, a full disk) is raised as a `DownloadError` whose message is one
complete sentence in the library's own terms; `data/download.py` prints it
(adding which flag to change, where one applies) and exits non-zero instead of
showing a traceback.
"""

import sys
import time


class DownloadError(Exception):
  """A failure the user can act on; its message is the whole error report."""


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


class ProgressBar(object):
  """A one-line progress display on stderr: done/total, rate and ETA.

  On a terminal the line is redrawn in place at most every `interval_s`; when
  stderr is a file or a pipe (CI logs) a fresh line is printed every
  `log_interval_s` instead, so logs stay short but still show that a
  20-minute download is moving.

  Args:
    label: what is progressing, e.g. `dev-clean.tar.gz`.
    total: the expected final count, or None when unknown (no
      Content-Length).
    unit: "bytes" to format counts as sizes; any other unit name is printed
      after plain counts, e.g. "files".
    initial: the count already done, e.g. the size of a resumed partial
      download; it is not counted in the rate.
    stream: where to draw; stderr by default so stdout stays clean.
  """

  def __init__(self, label, total, unit="bytes", initial=0, stream=None,
               interval_s=0.2, log_interval_s=10.0):
    self._label = label
    self._total = total
    self._unit = unit
    self._initial = initial
    self._done = initial
    self._stream = stream if stream is not None else sys.stderr
    self._is_tty = hasattr(self._stream, "isatty") and self._stream.isatty()
    self._interval_s = interval_s if self._is_tty else log_interval_s
    self._start = time.monotonic()
    self._last_draw = 0.0
    self._closed = False

  def _format_count(self, count):
    if self._unit == "bytes":
      return format_bytes(count)
    return "%d" % count

  def _line(self):
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
    return "%s %s %s" % (self._label, self._format_count(self._done), rate_text)

  def _draw(self, final=False):
    line = self._line()
    if self._is_tty:
      # Pad so a shorter line fully covers the previous one.
      self._stream.write("\r" + line.ljust(79) + ("\n" if final else ""))
    else:
      self._stream.write(line + "\n")
    self._stream.flush()

  def update(self, count):
    """Adds `count` to the done total and redraws if the interval has passed."""
    self._done += count
    now = time.monotonic()
    if now - self._last_draw >= self._interval_s:
      self._last_draw = now
      self._draw()

  def reset(self, done=0, total=None):
    """Restarts the count (and the rate) at `done`, e.g. on a new request.

    Args:
      done: the count already reached.
      total: a new expected total; None keeps the current one.
    """
    self._done = done
    self._initial = done
    if total is not None:
      self._total = total
    self._start = time.monotonic()

  def break_line(self):
    """Ends the line being redrawn, so a log message gets a line of its own."""
    if self._is_tty and self._last_draw:
      self._stream.write("\n")
      self._stream.flush()

  def close(self):
    """Draws the final state and ends the line; safe to call twice."""
    if not self._closed:
      self._closed = True
      self._draw(final=True)

"""Progress of long work on standard error.

On a terminal one line is rewritten in place; otherwise (a log file, a
pipe) a plain line is printed at most every `interval_sec` seconds.
"""

import sys
import time


class Progress(object):
  """Reports files done, audio seconds and the real-time factor."""

  def __init__(self, total_files, stream=None, interval_sec=10.0,
               clock=time.monotonic):
    self._total = total_files
    self._stream = stream or sys.stderr
    self._tty = hasattr(self._stream, "isatty") and self._stream.isatty()
    self._interval = 0.5 if self._tty else interval_sec
    self._clock = clock
    self._start = clock()
    self._last = self._start
    self._shown = False

  def line(self, files_done, audio_sec):
    """The progress line for `files_done` files and `audio_sec` of audio."""
    elapsed = max(1e-9, self._clock() - self._start)
    return "transcribe: %d/%d files, %.1f s of audio in %.1f s (%.1fx real time)" % (
        files_done, self._total, audio_sec, elapsed, audio_sec / elapsed)

  def update(self, files_done, audio_sec, final=False):
    """Shows the line when the interval has passed (or at the end)."""
    now = self._clock()
    if not final and now - self._last < self._interval:
      return
    if final and not self._shown:
      return  # short work: no progress needed
    self._last = now
    self._shown = True
    if self._tty:
      self._stream.write("\r" + self.line(files_done, audio_sec) +
                         ("\n" if final else ""))
    else:
      self._stream.write(self.line(files_done, audio_sec) + "\n")
    self._stream.flush()

"""Tests for common/progress.py: lines in logs, a redrawn line on terminals."""

import io
import os
import subprocess
import sys
import threading

from common import progress

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


class FakeTerminal(io.StringIO):

  def isatty(self):
    return True


def test_formats_sizes_and_durations():
  assert progress.format_bytes(999) == "999 B"
  assert progress.format_bytes(337.9e6) == "337.9 MB"
  assert progress.format_duration(59.6) == "1:00"
  assert progress.format_duration(3725) == "1:02:05"


def test_a_log_file_gets_whole_lines_with_rate_and_eta():
  stream = io.StringIO()
  with progress.Progress("converting dev", 4, unit="files", stream=stream,
                         log_interval_s=0.0) as bar:
    for _ in range(4):
      bar.update()
  text = stream.getvalue()
  assert "\r" not in text
  lines = text.splitlines()
  # One line per update (the interval is 0 here) and the final one.
  assert len(lines) == 5 and text.endswith("\n")
  assert lines[0].startswith("converting dev  25.0% 1/4 ")
  assert lines[-1].startswith("converting dev 100.0% 4/4 ")
  assert all(" files/s ETA " in line for line in lines)


def test_a_log_file_gets_a_line_per_interval_not_per_update():
  stream = io.StringIO()
  bar = progress.Progress("evaluating", 1000, unit="utterances",
                          stream=stream, log_interval_s=3600.0)
  for _ in range(1000):
    bar.update()
  bar.close()
  bar.close()
  lines = stream.getvalue().splitlines()
  # The first update (the job started) and the end; nothing in between.
  assert [line.split()[2] for line in lines] == ["1/1000", "1000/1000"]


def test_a_terminal_gets_one_line_redrawn_in_place():
  stream = FakeTerminal()
  bar = progress.Progress("dev-clean.tar.gz", None, stream=stream,
                          interval_s=0.0)
  bar.update(2000)
  bar.update(1500000)
  bar.close()
  text = stream.getvalue()
  assert text.count("\n") == 1 and text.endswith("\n")
  assert text.count("\r") == 3
  assert text.rstrip().endswith("/s")
  assert "dev-clean.tar.gz 1.5 MB " in text.split("\r")[-1]


def test_a_short_job_within_the_delay_stays_silent():
  stream = io.StringIO()
  with progress.Progress("checking", 3, unit="files", stream=stream,
                         log_interval_s=0.0, delay_s=60.0) as bar:
    bar.update(3)
  assert stream.getvalue() == ""


def test_concurrent_updates_are_all_counted():
  stream = io.StringIO()
  bar = progress.Progress("synthesizing", 4000, unit="utterances",
                          stream=stream, log_interval_s=0.0)
  threads = [threading.Thread(target=lambda: [bar.update() for _ in
                                              range(1000)])
             for _ in range(4)]
  for thread in threads:
    thread.start()
  for thread in threads:
    thread.join()
  bar.close()
  assert bar.done == 4000
  # Lines were not interleaved mid-line by the threads.
  assert all(line.startswith("synthesizing ")
             for line in stream.getvalue().splitlines())


def test_stderr_redirected_to_a_file_gets_no_carriage_returns(tmp_path):
  script = ("from common import progress\n"
            "with progress.Progress('extracting x', 10 ** 6) as bar:\n"
            "  for _ in range(100):\n"
            "    bar.update(10 ** 4)\n")
  log = tmp_path / "log.txt"
  with open(log, "w") as f:
    subprocess.run([sys.executable, "-c", script], stderr=f, check=True,
                   cwd=str(tmp_path.parent), env={"PYTHONPATH": ROOT})
  text = log.read_text()
  assert "\r" not in text
  assert text.splitlines()[-1].startswith("extracting x 100.0% 1.0 MB/1.0 MB")


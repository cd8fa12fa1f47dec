"""serve.py as a subprocess on 127.0.0.1, and what to compare it with.

`Served` starts the server on a free port (--port=0; it prints the URL it
took) with its own TMPDIR, so a test can see that no request file is left
behind; `offline_json` is what transcribe.py prints for the same file.
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
_URL = re.compile(r"serving on (http://\S+)/")


class Served(object):
  """A running serve.py; use as a context manager (stops it on exit)."""

  def __init__(self, export_dir, temp_dir, *flags, timeout=120):
    self.temp_dir = str(temp_dir)
    os.makedirs(self.temp_dir, exist_ok=True)
    env = dict(os.environ, TMPDIR=self.temp_dir, TF_CPP_MIN_LOG_LEVEL="2")
    self.process = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "serve.py"),
         "--saved_model=" + export_dir, "--port=0"] + list(flags),
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    self.stderr = []
    self.terminated = False
    threading.Thread(target=self._drain, daemon=True).start()
    self.lines = []
    self.url = self._wait_for_url(timeout)

  def _drain(self):
    for line in self.process.stderr:
      self.stderr.append(line)

  def _wait_for_url(self, timeout):
    timer = threading.Timer(timeout, self.process.kill)
    timer.start()
    try:
      for line in self.process.stdout:
        self.lines.append(line.rstrip("\n"))
        match = _URL.search(line)
        if match:
          return match.group(1)
    finally:
      timer.cancel()
    self.process.wait()
    raise AssertionError("serve.py did not start (exit %s): %s" % (
        self.process.returncode, "".join(self.stderr)[-3000:]))

  def terminate(self):
    """Sends SIGTERM (once: the test may have sent it already)."""
    self.terminated = True
    self.process.send_signal(signal.SIGTERM)

  def stop(self, timeout=60):
    """SIGTERM; returns (exit status, the stdout lines after the URL)."""
    if self.process.poll() is None and not self.terminated:
      self.terminate()
    try:
      out, _ = self.process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
      self.process.kill()
      out, _ = self.process.communicate()
    self.lines += out.splitlines()
    return self.process.returncode, self.lines[1:]

  def __enter__(self):
    return self

  def __exit__(self, *unused):
    self.stop()


def offline_json(export_dir, path):
  """transcribe.py --output_format=json's object for `path`."""
  result = subprocess.run(
      [sys.executable, os.path.join(ROOT, "transcribe.py"),
       "--saved_model=" + export_dir, "--output_format=json", path],
      cwd=ROOT, capture_output=True, text=True,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
  assert result.returncode == 0, result.stderr
  return json.loads(result.stdout)


def without_path(answer):
  """A transcript object without its "path" (the server's has none)."""
  return {k: v for k, v in answer.items() if k != "path"}

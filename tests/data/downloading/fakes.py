"""Small LibriSpeech-layout archives and an HTTP mirror for the download tests.

Everything is real and local: FLAC files written with soundfile, tar.gz
archives in the real layout, and an `http.server` on 127.0.0.1 with Range
support that can drop a connection half-way. No network beyond loopback.
"""

import hashlib
import http.server
import os
import re
import tarfile
import threading
import time

import numpy as np
import soundfile

# Two speakers in dev-clean (one with two utterances), one in dev-other.
LIBRISPEECH_TEXTS = {
    "dev-clean": {
        ("84", "121123"): ["GO DO YOU HEAR", "BUT IN LESS THAN FIVE MINUTES"],
        ("174", "50561"): ["FORGOTTEN TOO THE NAME OF GILLIAN'S LOVER"],
    },
    "dev-other": {
        ("116", "288045"): ["AS I APPROACHED THE CITY", "NOTHING ELSE"],
    },
}


class MirrorHandler(http.server.BaseHTTPRequestHandler):
  """Serves files under `server.root`; honours `Range: bytes=N-`.

  The server's attributes shape the answers: `drop_once` (names whose next
  answer hangs up half-way), `ignore_range`, and `chunk_delay_s` /
  `chunk_bytes` for a slow or trickling body.
  """

  def do_GET(self):  # pylint: disable=invalid-name
    server = self.server
    server.requests.append((self.path, self.headers.get("Range")))
    path = os.path.join(server.root, self.path.lstrip("/"))
    if not os.path.isfile(path):
      self.send_error(404)
      return
    with open(path, "rb") as f:
      data = f.read()
    start = 0
    match = re.match(r"bytes=(\d+)-$", self.headers.get("Range") or "")
    if match and not server.ignore_range:
      start = int(match.group(1))
      if start >= len(data):
        self.send_response(416)
        self.send_header("Content-Range", "bytes */%d" % len(data))
        self.send_header("Content-Length", "0")
        self.end_headers()
        return
      self.send_response(206)
      self.send_header("Content-Range",
                       "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
    else:
      self.send_response(200)
    body = data[start:]
    self.send_header("Content-Length", str(len(body)))
    self.end_headers()
    if server.drop_once.pop(self.path.lstrip("/"), False):
      # Promise the whole body, send half, hang up: a dropped connection.
      self.wfile.write(body[:len(body) // 2])
      self.wfile.flush()
      self.close_connection = True
      return
    if server.chunk_delay_s:
      # A slow (or, with tiny chunks, trickling) server.
      try:
        for start in range(0, len(body), server.chunk_bytes):
          self.wfile.write(body[start:start + server.chunk_bytes])
          self.wfile.flush()
          time.sleep(server.chunk_delay_s)
      except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up on us, as it should
      return
    self.wfile.write(body)

  def log_message(self, *args):  # Keep pytest output clean.
    pass


def start_mirror(root):
  """A threaded HTTP server on 127.0.0.1 serving `root`; call shutdown()."""
  server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), MirrorHandler)
  server.root = str(root)
  server.requests = []
  server.drop_once = {}
  server.ignore_range = False
  server.chunk_delay_s = 0  # > 0: send chunk_bytes, then wait this long
  server.chunk_bytes = 4096
  server.url = "http://127.0.0.1:%d" % server.server_address[1]
  # A short poll interval keeps shutdown (and so each test) fast.
  thread = threading.Thread(target=server.serve_forever, args=(0.05,),
                            daemon=True)
  thread.start()
  return server


def closed_port_url():
  """An http URL on 127.0.0.1 where nothing listens."""
  server = http.server.HTTPServer(("127.0.0.1", 0),
                                  http.server.BaseHTTPRequestHandler)
  port = server.server_address[1]
  server.server_close()
  return "http://127.0.0.1:%d" % port


# ---------------------------------------------------------------------------
# Corpus builders.
# ---------------------------------------------------------------------------


def tone(seconds, rate, freq=440.0):
  t = np.arange(int(seconds * rate)) / float(rate)
  return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def md5(path):
  return hashlib.md5(open(path, "rb").read()).hexdigest()


def make_librispeech_archive(mirror_dir, work_dir, subset, texts=None,
                             seconds=None, extra_line=None, top_flac=None):
  """Writes `<mirror_dir>/<subset>.tar.gz` in the real LibriSpeech layout.

  Args:
    mirror_dir, work_dir: where the archive and its files go.
    subset: the subset's name.
    texts: {(speaker, chapter): [transcript, ...]}; default
      LIBRISPEECH_TEXTS[subset].
    seconds: {utterance id: seconds}; any other utterance lasts 0.3 s.
    extra_line: a line appended to the last chapter's transcript.
    top_flac: a FLAC file name added at the top of the archive, beside
      `LibriSpeech/`.

  Returns:
    dict utterance id -> upper-case transcript.
  """
  top = os.path.join(work_dir, subset, "LibriSpeech")
  utterances = {}
  for (speaker, chapter), chapter_texts in (
      texts or LIBRISPEECH_TEXTS[subset]).items():
    chapter_dir = os.path.join(top, subset, speaker, chapter)
    os.makedirs(chapter_dir)
    lines = []
    for number, text in enumerate(chapter_texts):
      utt = "%s-%s-%04d" % (speaker, chapter, number)
      soundfile.write(os.path.join(chapter_dir, utt + ".flac"),
                      tone((seconds or {}).get(utt, 0.3), 16000,
                           300 + 50 * number), 16000,
                      format="FLAC", subtype="PCM_16")
      lines.append("%s %s\n" % (utt, text))
      utterances[utt] = text
    with open(os.path.join(chapter_dir, "%s-%s.trans.txt" % (speaker, chapter)),
              "w") as f:
      f.writelines(lines)
      if extra_line and (speaker, chapter) == list(
          texts or LIBRISPEECH_TEXTS[subset])[-1]:
        f.write(extra_line + "\n")
  with tarfile.open(os.path.join(mirror_dir, subset + ".tar.gz"),
                    "w:gz") as tar:
    tar.add(top, arcname="LibriSpeech")
    if top_flac:
      flac = os.path.join(work_dir, subset, top_flac)
      soundfile.write(flac, tone(0.3, 16000), 16000, format="FLAC")
      tar.add(flac, arcname=top_flac)
  return utterances


def write_md5sum(mirror_dir, names):
  path = os.path.join(mirror_dir, "md5sum.txt")
  with open(path, "w") as f:
    for name in names:
      f.write("%s  %s\n" % (md5(os.path.join(mirror_dir, name)), name))
  return path


def read_manifest(path):
  with open(path) as f:
    lines = f.read().splitlines()
  return lines[0], [line.split("\t") for line in lines[1:]]

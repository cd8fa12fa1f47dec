"""The transcription server's HTTP routes (aiohttp).

    POST /transcribe  audio in (the raw body, or a multipart form's `audio`
                      field), transcribe.py --output_format=json's object out
    GET  /health      {"ok": true, "model_loaded": true, "waiting": n}
    GET  /model       the model's settings, decoder and source
    GET  /stream      websocket streaming (serving/stream.py)
    GET  /            the page (serving/static/)

Every error is one JSON object {"error": "..."} with its status: 413 for a
body over the size limit, 400 for a body that is no audio, 422 for audio
over the duration limit, 503 when the model worker's queue is full.

A body is written, as it arrives, to a private directory (mode 0700) under
the server's temporary directory, under the fixed name `audio`: the
client's file name is only echoed in the answer's "path", never used as a
path. Readers probe the content, so the name needs no extension.
"""

import asyncio
import json
import logging
import os
import shutil
import tempfile

from aiohttp import web

from serving import worker as worker_lib
from transcription import audio
from transcription import output

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "static")
# The page's files: a fixed table, so no request names a file to open.
STATIC_FILES = {"/": ("index.html", "text/html"),
                "/app.js": ("app.js", "text/javascript"),
                "/recorder.js": ("recorder.js", "text/javascript")}
UPLOAD_NAME = "audio"
_READ_BYTES = 1 << 16

log = logging.getLogger("serve")
SERVER = web.AppKey("server", object)


class Limits(object):
  """What one request may ask for.

  Attributes:
    max_request_bytes: the largest body (upload or stream), in bytes.
    max_audio_sec: the longest audio, in seconds.
  """

  def __init__(self, max_request_bytes, max_audio_sec):
    self.max_request_bytes = int(max_request_bytes)
    self.max_audio_sec = float(max_audio_sec)


class RequestError(Exception):
  """A request the server refuses: an HTTP status and a reason."""

  def __init__(self, status, reason):
    super().__init__(reason)
    self.status = status
    self.reason = reason


def error_response(status, reason):
  return web.json_response({"error": reason}, status=status)


class Server(object):
  """The state the routes share: the worker, the limits, the temp space."""

  def __init__(self, model_worker, limits, temp_root, model_info,
               streamer=None):
    """Args:

      model_worker: a started `worker.ModelWorker`.
      limits: `Limits`.
      temp_root: a private directory for request bodies (the caller's).
      model_info: the JSON-able dict GET /model answers.
      streamer: a `stream.Streamer` for a unidirectional model, whose
        streams /stream then uses; None re-transcribes buffered audio.
    """
    self.worker = model_worker
    self.streamer = streamer
    self.limits = limits
    self.temp_root = temp_root
    self.model_info = model_info
    self.sample_rate = model_info["sample_rate"]
    self.sockets = set()  # open websockets, closed on shutdown

  def private_dir(self):
    """A new private directory for one request (the caller removes it)."""
    return tempfile.mkdtemp(prefix="request_", dir=self.temp_root)

  async def transcribe_file(self, path, wait_sec=0.0):
    """The `FileTranscript` of `path` from the worker.

    Args:
      wait_sec: how long to retry while the queue is full.

    Raises:
      RequestError: 503 when the queue stays full, 400 when the file cannot
        be transcribed.
    """
    future = await submit(lambda: self.worker.submit(path), wait_sec)
    try:
      return await asyncio.wrap_future(future)
    except worker_lib.TranscriptionFailed as e:
      raise RequestError(400, _without_path(str(e), path)) from None


async def submit(call, wait_sec):
  """`call()`'s concurrent future, retrying while a worker is `Busy`.

  Raises:
    RequestError: 503 when the worker stays busy for `wait_sec`.
  """
  loop = asyncio.get_running_loop()
  deadline = loop.time() + wait_sec
  while True:
    try:
      return call()
    except worker_lib.Busy as e:
      if loop.time() >= deadline:
        raise RequestError(503, str(e)) from None
      await asyncio.sleep(0.05)


def _without_path(message, path):
  """The pipeline's message without the private path it starts with."""
  prefix = path + ": "
  return message[len(prefix):] if message.startswith(prefix) else message


async def _receive(request, path, max_bytes):
  """Writes the request's audio to `path`; returns the client's name or None.

  Raises:
    RequestError: 413 past `max_bytes`, 400 for a form without `audio`.
  """
  if request.content_length is not None and (
      request.content_length > max_bytes):
    raise _too_large(max_bytes)
  if request.content_type.startswith("multipart/"):
    reader = await request.multipart()
    while True:
      part = await reader.next()
      if part is None:
        raise RequestError(400, "the form has no `audio` field")
      if part.name == UPLOAD_NAME:
        await _copy(lambda: part.read_chunk(_READ_BYTES), path, max_bytes)
        return part.filename
  await _copy(request.content.readany, path, max_bytes)
  return None


async def _copy(read, path, max_bytes):
  """Copies chunks from `await read()` into `path` until an empty one."""
  written = 0
  with open(path, "xb") as f:
    while True:
      data = await read()
      if not data:
        return
      written += len(data)
      if written > max_bytes:
        raise _too_large(max_bytes)
      f.write(data)


def _too_large(max_bytes):
  return RequestError(413, "the request is larger than the limit of %g MB "
                      "(--max_request_mb)" % (max_bytes / 1e6))


async def transcribe(request):
  """POST /transcribe."""
  server = request.app[SERVER]
  directory = server.private_dir()
  try:
    path = os.path.join(directory, UPLOAD_NAME)
    name = await _receive(request, path, server.limits.max_request_bytes)
    loop = asyncio.get_running_loop()
    try:
      info = await loop.run_in_executor(None, audio.probe, path)
    except audio.AudioError as e:
      raise RequestError(400, "the body is not audio: %s" % e.reason) from None
    _check_duration(info.duration, server.limits.max_audio_sec)
    transcript = await server.transcribe_file(path)
    # A format whose header gives no length is measured after decoding.
    _check_duration(transcript.duration, server.limits.max_audio_sec)
    transcript.path = name
    return web.Response(text=output.json_line(transcript),
                        content_type="application/json")
  finally:
    shutil.rmtree(directory, ignore_errors=True)


def _check_duration(seconds, max_sec):
  if seconds is not None and seconds > max_sec:
    raise RequestError(422, "the audio is %.1f s long, over the limit of "
                       "%g s (--max_audio_sec)" % (seconds, max_sec))


async def health(request):
  server = request.app[SERVER]
  return web.json_response({"ok": True, "model_loaded": True,
                            "waiting": server.worker.waiting})


async def model(request):
  return web.json_response(request.app[SERVER].model_info)


async def static(request):
  name, content_type = STATIC_FILES[request.path]
  with open(os.path.join(STATIC_DIR, name), "rb") as f:
    body = f.read()
  return web.Response(body=body, content_type=content_type,
                      headers={"Cache-Control": "no-cache"})


@web.middleware
async def json_errors(request, handler):
  """Refusals and aiohttp's own errors (404, 405, 413) as JSON objects."""
  try:
    return await handler(request)
  except RequestError as e:
    return error_response(e.status, e.reason)
  except web.HTTPException as e:
    if e.status < 400:
      raise
    return error_response(e.status, e.reason)
  except (asyncio.CancelledError, ConnectionResetError):
    raise
  except Exception:  # pylint: disable=broad-except
    log.exception("%s %s failed", request.method, request.path)
    return error_response(500, "internal error (logged by the server)")


async def _close_sockets(app):
  """On shutdown: open streams end with 1001 (going away)."""
  for ws in list(app[SERVER].sockets):
    await ws.close(code=1001, message=b"server shutdown")


def make_app(server):
  """The aiohttp application of `server`."""
  from serving import stream  # pylint: disable=g-import-not-at-top
  app = web.Application(middlewares=[json_errors],
                        client_max_size=server.limits.max_request_bytes)
  app[SERVER] = server
  app.router.add_post("/transcribe", transcribe)
  app.router.add_get("/health", health)
  app.router.add_get("/model", model)
  app.router.add_get("/stream", stream.stream)
  for route in STATIC_FILES:
    app.router.add_get(route, static)
  app.on_shutdown.append(_close_sockets)
  return app


def dumps(obj):
  """JSON for websocket messages, as the HTTP answers write it."""
  return json.dumps(obj, ensure_ascii=False)

"""The /stream websocket: PCM in, partial and final transcripts out.

The protocol:
  1. The client opens /stream?rate=16000 or sends the rate first as a text
     message {"rate": 16000}.
  2. It sends binary frames of 16-bit little-endian mono PCM at that rate.
     The server answers {"partial": text} now and then.
  3. It sends the text message "end" (or {"end": true}); the server answers
     {"final": text, "words": [...], "duration": s}, as POST /transcribe
     would for the same audio, and closes.
Errors are {"error": "..."} before a close with code 1008 (policy).

With --endpoint_silence_sec (a streaming model only), a pause that long
ends an utterance: the server answers its {"final": ..., "words": [...],
"duration": s} (words timed and "duration" counted from the stream's
start) and the stream goes on; the last final, at "end", is the last
utterance's.

A `Session` turns audio into messages; the handler knows only its two
coroutines, `feed(samples) -> messages` and `finish() -> messages` (the
last one the final), and `close()`. `BufferedSession` works with any
model: it keeps the audio and re-transcribes all of it through the model
worker every `PARTIAL_EVERY_SEC` for partials, and once more at the end,
so its cost per partial grows with the stream (bounded by --max_audio_sec).
`StreamingSession`, which `make_session` picks when the server has a
`Streamer` (a unidirectional model), feeds each frame to a
transcription/streaming.py `Stream` on the streamer's thread: its cost per
frame stays the same, and its partials follow the audio as it comes.
"""

import asyncio
import json
import os
import shutil

import numpy as np
import soundfile
from aiohttp import web

from serving import app as app_lib

PARTIAL_EVERY_SEC = 1.0
# A final waits this long for room in a full queue; partials never wait.
FINAL_WAIT_SEC = 30.0
MIN_RATE, MAX_RATE = 8000, 192000
MAX_FRAME_BYTES = 1 << 20


def final_message(transcript):
  """The {"final", "duration", "words"} message of a `FileTranscript`."""
  return {"final": transcript.text, "duration": round(transcript.duration, 3),
          "words": [w.to_dict() for w in transcript.words]}


class Streamer(object):
  """What the streams of a unidirectional model share.

  Attributes:
    transcriber: a `streaming.StreamingTranscriber` (built once per server).
    worker: a started `worker.CallWorker`, the thread its streams run on.
    endpoint_silence_sec: the pause that ends an utterance, or None.
  """

  def __init__(self, transcriber, call_worker, endpoint_silence_sec=None):
    self.transcriber = transcriber
    self.worker = call_worker
    self.endpoint_silence_sec = endpoint_silence_sec


class StreamingSession(object):
  """A stream transcribed as it arrives, on the streamer's thread."""

  def __init__(self, server, rate):
    self._streamer = server.streamer
    self._stream = self._streamer.transcriber.start(
        sample_rate=rate, name=None,
        endpoint_silence_sec=self._streamer.endpoint_silence_sec)
    self.samples = 0
    self._shown = ""  # the last partial sent

  async def _run(self, call):
    """`call(stream)` on the streamer's thread (a full queue: 503)."""
    stream = self._stream
    future = await app_lib.submit(
        lambda: self._streamer.worker.submit(lambda: call(stream)),
        FINAL_WAIT_SEC)
    return await asyncio.wrap_future(future)

  async def feed(self, samples):
    """Adds int16 samples; returns the messages they complete."""
    self.samples += len(samples)
    text, finals = await self._run(
        lambda stream: (stream.feed(samples), stream.pop_finals()))
    messages = [final_message(f) for f in finals]
    if finals:
      self._shown = ""
    if text != self._shown:
      self._shown = text
      messages.append({"partial": text})
    return messages

  async def finish(self):
    """The finals left, the stream's last one last."""
    last, finals = await self._run(
        lambda stream: (stream.finish(), stream.pop_finals()))
    return [final_message(f) for f in finals + [last]]

  def close(self):
    self._stream = None


class BufferedSession(object):
  """Streaming by re-transcribing the audio so far with the offline model."""

  def __init__(self, server, rate, partial_every_sec=PARTIAL_EVERY_SEC):
    self._server = server
    self._rate = rate
    self._every = int(partial_every_sec * rate)
    self._blocks = []
    self.samples = 0
    self._next_partial = self._every
    self._partial = None  # the task of the partial being transcribed
    self._directory = server.private_dir()

  async def feed(self, samples):
    """Adds int16 samples; returns [{"partial": text}] when one is ready."""
    self._blocks.append(samples)
    self.samples += len(samples)
    text = None
    if self._partial is not None and self._partial.done():
      text = self._partial.result()
      self._partial = None
    if self._partial is None and self.samples >= self._next_partial:
      self._next_partial = self.samples + self._every
      self._partial = asyncio.ensure_future(self._transcribe("partial", 0.0))
    return [] if text is None else [{"partial": text}]

  async def _transcribe(self, name, wait_sec):
    """The transcript of the audio so far, or None if the queue is full."""
    path = os.path.join(self._directory, name + ".wav")
    samples = np.concatenate(self._blocks) if self._blocks else np.zeros(
        0, np.int16)
    await asyncio.get_running_loop().run_in_executor(
        None, lambda: soundfile.write(path, samples, self._rate,
                                      subtype="PCM_16"))
    try:
      transcript = await self._server.transcribe_file(path, wait_sec)
    except app_lib.RequestError:
      if name == "final":
        raise
      return None  # no partial this time: the queue is full
    return transcript.text if name == "partial" else transcript

  async def finish(self):
    """[the final message of the whole stream]."""
    if self._partial is not None:
      await self._partial  # it reads a file of this session's directory
      self._partial = None
    return [final_message(await self._transcribe("final", FINAL_WAIT_SEC))]

  def close(self):
    if self._partial is not None:
      self._partial.cancel()
    shutil.rmtree(self._directory, ignore_errors=True)


def make_session(server, rate):
  """The session of one stream: streamed if the server has a `Streamer`."""
  if server.streamer is not None:
    return StreamingSession(server, rate)
  return BufferedSession(server, rate)


class StreamError(Exception):
  """A protocol violation; the message goes to the client."""


def _parse_rate(value):
  try:
    rate = int(value)
  except (TypeError, ValueError):
    raise StreamError("the rate must be an integer number of Hz, not %r"
                      % (value,)) from None
  if not MIN_RATE <= rate <= MAX_RATE:
    raise StreamError("the rate must be %d-%d Hz, not %d"
                      % (MIN_RATE, MAX_RATE, rate))
  return rate


def _text_message(data):
  """A text message as a dict ("end" alone means {"end": true})."""
  if data.strip() == "end":
    return {"end": True}
  try:
    message = json.loads(data)
  except ValueError:
    message = None
  if not isinstance(message, dict):
    raise StreamError('text messages are {"rate": Hz}, {"end": true} or '
                      '"end"')
  return message


async def _receive(ws, server, rate):
  """Reads the stream; returns its session at "end", or None if it closed."""
  session = None
  limits = server.limits
  try:
    async for msg in ws:
      if msg.type == web.WSMsgType.TEXT:
        message = _text_message(msg.data)
        if "rate" in message:
          if session is not None:
            raise StreamError("the rate cannot change during a stream")
          rate = _parse_rate(message["rate"])
        if message.get("end"):
          if session is None:
            raise StreamError("the stream ended before any audio")
          return session
      elif msg.type == web.WSMsgType.BINARY:
        if rate is None:
          raise StreamError("send the rate first: /stream?rate=16000 or "
                            '{"rate": 16000}')
        if len(msg.data) % 2:
          raise StreamError("audio frames are 16-bit samples: an odd "
                            "number of bytes")
        session = session or make_session(server, rate)
        if (session.samples + len(msg.data) // 2 > limits.max_audio_sec * rate
            or 2 * session.samples + len(msg.data) >
            limits.max_request_bytes):
          raise StreamError("the stream is longer than the limit of %g s "
                            "(--max_audio_sec, --max_request_mb)"
                            % limits.max_audio_sec)
        for message in await session.feed(np.frombuffer(msg.data, "<i2")):
          await ws.send_str(app_lib.dumps(message))
    return None
  except BaseException:
    if session is not None:
      session.close()
    raise


async def stream(request):
  """GET /stream: the websocket."""
  server = request.app[app_lib.SERVER]
  ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, heartbeat=30.0)
  await ws.prepare(request)
  server.sockets.add(ws)
  session = None
  try:
    rate = request.query.get("rate")
    session = await _receive(ws, server, None if rate is None else
                             _parse_rate(rate))
    if session is not None:
      for message in await session.finish():
        await ws.send_str(app_lib.dumps(message))
      await ws.close()
  except (StreamError, app_lib.RequestError) as e:
    await ws.send_str(app_lib.dumps({"error": str(e)}))
    await ws.close(code=1008, message=b"protocol error")
  finally:
    if session is not None:
      session.close()
    server.sockets.discard(ws)
  return ws

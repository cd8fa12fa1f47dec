"""Serves transcription over HTTP and websockets, with a page to try it.

    python serve.py --saved_model=/tmp/deep_speech_saved_model --port=8080
    python serve.py --model_dir=/tmp/deep_speech_model --host=0.0.0.0

    curl --data-binary @a.mp3 http://127.0.0.1:8080/transcribe
    curl -F audio=@a.wav http://127.0.0.1:8080/transcribe

POST /transcribe answers what `transcribe.py --output_format=json` prints
for the file; /stream is a websocket taking 16-bit PCM and answering partial
and final transcripts (serving/stream.py: a unidirectional model streams,
its beam search going on across frames; with --endpoint_silence_sec a final
per utterance); GET / is a page that records
from the microphone or takes a file. GET /health and GET /model describe
the server. The model, chunking and decoder flags are transcribe.py's.

One model worker takes the queued requests in order, each request's chunks
sharing model calls, and with --batch_requests=N up to N waiting requests in
one pass (serving/worker.py); at most --max_queue requests wait, more are
answered 503. Bodies over --max_request_mb are refused (413), audio
over --max_audio_sec too (422). It listens on 127.0.0.1 unless --host says
otherwise (--port=0 picks a free port; the line "serving on URL" says which),
and SIGTERM or Ctrl-C stops it gracefully: no new connections, the requests
under way answered, the streams closed, its temporary files removed.

Needs the aiohttp package (requirements-extras.txt).
"""

import asyncio
import logging as std_logging
import shutil
import signal
import sys
import tempfile

from absl import app
from absl import flags
from absl import logging

from common import cpu
from transcription import model_flags

_NAME = "serve.py"
AIOHTTP_PIP = ("serve.py needs the aiohttp package: pip install -r "
               "requirements-extras.txt  (or pip install 'aiohttp>=3.9')")


def _error(message):
  print("%s: error: %s" % (_NAME, message), file=sys.stderr)


def _note(message):
  print("%s: note: %s" % (_NAME, message), file=sys.stderr)


def _model_info(flags_obj, model, decoder_options):
  """What GET /model answers."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  s = model.settings
  return {"source": model.path, "sample_rate": s.sample_rate,
          "window_ms": s.window_ms, "stride_ms": s.stride_ms,
          "labels": list(s.labels), "decoder": decoder_options,
          "max_chunk_sec": flags_obj.max_chunk_sec,
          "batch_size": flags_obj.batch_size,
          "batch_requests": flags_obj.batch_requests,
          "max_request_mb": flags_obj.max_request_mb,
          "max_audio_sec": flags_obj.max_audio_sec,
          "tensorflow": tf.__version__}


def _start_worker(flags_obj):
  """(started ModelWorker, model info, stream.Streamer or None): the model
  loaded, its worker, and its streaming twin if it is unidirectional."""
  import deep_speech_model  # pylint: disable=g-import-not-at-top
  from serving import worker  # pylint: disable=g-import-not-at-top
  from transcription import pipeline  # pylint: disable=g-import-not-at-top
  model = model_flags.load_model_from_flags(flags_obj)
  decoder, options = model_flags.make_decoder(flags_obj, model, _note)
  streamer = _streamer(flags_obj, decoder)
  transcriber = pipeline.Transcriber(
      model, decoder, time_reduction=deep_speech_model.TIME_REDUCTION,
      max_chunk_sec=flags_obj.max_chunk_sec, batch_size=flags_obj.batch_size)
  model_worker = worker.ModelWorker(transcriber, flags_obj.max_queue,
                                    flags_obj.batch_requests).start()
  info = _model_info(flags_obj, model, options)
  info["streaming"] = streamer is not None
  info["endpoint_silence_sec"] = flags_obj.endpoint_silence_sec
  return model_worker, info, streamer


def _streamer(flags_obj, decoder):
  """The streaming transcriber of a unidirectional model, on its thread,
  sharing `decoder` (its LM) with the file requests; None otherwise."""
  from serving import stream  # pylint: disable=g-import-not-at-top
  from serving import worker  # pylint: disable=g-import-not-at-top
  from transcription import streaming  # pylint: disable=g-import-not-at-top
  path = flags_obj.model_dir or flags_obj.saved_model
  if not streaming.is_streamable(path):
    if flags_obj.endpoint_silence_sec is not None:
      raise ValueError("--endpoint_silence_sec needs a unidirectional model "
                       "(--is_bidirectional=false): %s is bidirectional"
                       % path)
    return None
  transcriber = streaming.StreamingTranscriber(
      path, model_flags.fallback_settings(flags_obj),
      flags_obj.tflite_threads or None, decoder=decoder)
  if transcriber.warning:
    _note(transcriber.warning)
  return stream.Streamer(transcriber,
                         worker.CallWorker(flags_obj.max_queue).start(),
                         flags_obj.endpoint_silence_sec)


async def _serve(flags_obj, server):
  """Runs the server until SIGTERM or SIGINT, then shuts it down."""
  from aiohttp import web  # pylint: disable=g-import-not-at-top
  from serving import app as app_lib  # pylint: disable=g-import-not-at-top
  runner = web.AppRunner(app_lib.make_app(server), access_log=None,
                         shutdown_timeout=flags_obj.shutdown_timeout_sec)
  await runner.setup()
  stop = asyncio.Event()
  loop = asyncio.get_running_loop()
  for signum in (signal.SIGTERM, signal.SIGINT):
    loop.add_signal_handler(signum, stop.set)
  try:
    site = web.TCPSite(runner, flags_obj.host, flags_obj.port)
    await site.start()
    host, port = runner.addresses[0][:2]
    print("%s: serving on http://%s:%d/" % (
        _NAME, "[%s]" % host if ":" in host else host, port), flush=True)
    await stop.wait()
    print("%s: shutting down" % _NAME, flush=True)
  finally:
    await runner.cleanup()


def _check_flags(flags_obj):
  """The one-line reason the flags cannot work, or None."""
  if flags_obj.max_chunk_sec <= 0 or flags_obj.batch_size < 1:
    return "--max_chunk_sec must be > 0 and --batch_size >= 1"
  if flags_obj.max_request_mb <= 0 or flags_obj.max_audio_sec <= 0:
    return "--max_request_mb and --max_audio_sec must be > 0"
  if flags_obj.max_queue < 1 or flags_obj.batch_requests < 1:
    return "--max_queue and --batch_requests must be >= 1"
  if not 0 <= flags_obj.port <= 65535:
    return "--port must be 0-65535 (0: a free port)"
  return None


def run_server(flags_obj):
  """Loads the model and serves until stopped; returns the exit status."""
  try:
    import aiohttp  # pylint: disable=g-import-not-at-top,unused-import
  except ImportError:
    _error(AIOHTTP_PIP)
    return 1
  from serving import app as app_lib  # pylint: disable=g-import-not-at-top
  model_worker, info, streamer = _start_worker(flags_obj)
  temp_root = tempfile.mkdtemp(prefix="deep_speech_serve_")
  try:
    server = app_lib.Server(
        model_worker, app_lib.Limits(flags_obj.max_request_mb * 1e6,
                                     flags_obj.max_audio_sec),
        temp_root, info, streamer)
    asyncio.run(_serve(flags_obj, server))
    # Shutting down already: a repeated SIGTERM must not cut the clean-up
    # short (Ctrl-C still does, through the `finally`).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
  finally:
    if streamer is not None:
      streamer.worker.stop(timeout=flags_obj.shutdown_timeout_sec)
    model_worker.stop(timeout=flags_obj.shutdown_timeout_sec)
    shutil.rmtree(temp_root, ignore_errors=True)
  print("%s: stopped" % _NAME, flush=True)
  return 0


def define_flags():
  model_flags.define_model_flags()
  flags.DEFINE_string("host", "127.0.0.1",
                      "The address to listen on (0.0.0.0: every interface).")
  flags.DEFINE_integer("port", 8080, "The port (0: a free one).")
  flags.DEFINE_float("max_request_mb", 50.0,
                     "The largest request body (or stream), in MB (10^6 "
                     "bytes); larger ones are refused with 413.")
  flags.DEFINE_float("max_audio_sec", 600.0,
                     "The longest audio of a request or stream, in seconds; "
                     "longer is refused with 422.")
  flags.DEFINE_integer("max_queue", 32,
                       "Requests that may wait for the model; more are "
                       "refused with 503.")
  flags.DEFINE_integer(
      "batch_requests", 1,
      "Waiting requests the model worker transcribes in one pass, their "
      "chunks sharing model calls. 1: each request alone, its answer exactly "
      "transcribe.py's for the file; more raise the throughput with many "
      "clients, but the model's padded batches make a transcript depend slightly on "
      "what it was batched with.")
  flags.DEFINE_float("shutdown_timeout_sec", 30.0,
                     "On SIGTERM, how long requests under way may take.")
  model_flags.define_endpoint_flag()


def main(argv):
  if len(argv) > 1:
    _error("unexpected arguments: %s" % " ".join(argv[1:]))
    sys.exit(2)
  logging.set_verbosity(logging.WARNING)
  std_logging.basicConfig(level=std_logging.WARNING)
  cpu.enable_onednn_if_unset()
  flags_obj = flags.FLAGS
  problem = _check_flags(flags_obj)
  if problem:
    _error(problem)
    sys.exit(1)
  sys.exit(model_flags.exit_status(lambda: run_server(flags_obj), _error))


if __name__ == "__main__":
  define_flags()
  app.run(main)

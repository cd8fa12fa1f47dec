"""serve.py as a program: its flags, a missing aiohttp, and SIGTERM."""

import asyncio
import os
import subprocess
import sys

import aiohttp
import pytest

from tests.helpers import serving

pytestmark = pytest.mark.slow


def _run(args, env=None):
  result = subprocess.run(
      [sys.executable, os.path.join(serving.ROOT, "serve.py")] + args,
      capture_output=True, text=True, cwd=serving.ROOT,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {})),
      timeout=120)
  assert "Traceback" not in result.stderr, result.stderr
  return result


def test_without_aiohttp_it_names_the_pip_line_and_loads_nothing(tmp_path):
  shadow = tmp_path / "shadow" / "aiohttp"
  shadow.mkdir(parents=True)
  (shadow / "__init__.py").write_text(
      "raise ImportError('No module named aiohttp')\n")
  result = _run(["--saved_model=" + str(tmp_path / "no_model")],
                env={"PYTHONPATH": str(tmp_path / "shadow")})
  assert result.returncode == 1
  assert result.stderr.splitlines()[-1] == (
      "serve.py: error: serve.py needs the aiohttp package: pip install -r "
      "requirements-extras.txt  (or pip install 'aiohttp>=3.9')")
  assert result.stdout == ""


@pytest.mark.parametrize("flag,message", [
    ("--max_request_mb=0", "--max_request_mb and --max_audio_sec must be > 0"),
    ("--max_queue=0", "--max_queue and --batch_requests must be >= 1"),
    ("--port=70000", "--port must be 0-65535 (0: a free port)"),
])
def test_flags_that_cannot_work_are_one_line(flag, message):
  result = _run([flag])
  assert (result.returncode, result.stderr) == (
      1, "serve.py: error: %s\n" % message)


def test_a_missing_model_is_one_line(tmp_path):
  result = _run(["--saved_model=" + str(tmp_path / "nowhere"), "--port=0"])
  assert result.returncode == 1
  assert result.stderr.splitlines()[-1] == (
      "serve.py: error: %s does not exist" % (tmp_path / "nowhere"))


def test_endpoints_need_a_streaming_model(tiny_export):
  export_dir, _ = tiny_export
  result = _run(["--saved_model=" + export_dir, "--endpoint_silence_sec=1",
                 "--port=0"])
  assert result.returncode == 1 and result.stdout == ""
  assert result.stderr.splitlines()[-1] == (
      "serve.py: error: --endpoint_silence_sec needs a unidirectional model "
      "(--is_bidirectional=false): %s is bidirectional" % export_dir)


def test_sigterm_closes_streams_and_stops_cleanly(tiny_export, tmp_path):
  export_dir, utterances = tiny_export
  served = serving.Served(export_dir, tmp_path / "tmp")

  async def stream_then_terminate():
    async with aiohttp.ClientSession() as session:
      async with session.ws_connect(served.url.replace("http", "ws") +
                                    "/stream?rate=16000") as ws:
        await ws.send_bytes(b"\0\0" * 8000)
        await asyncio.sleep(0.5)
        served.terminate()
        message = await asyncio.wait_for(ws.receive(), 30)
        return message.type, ws.close_code
  try:
    kind, code = asyncio.run(stream_then_terminate())
  finally:
    status, lines = served.stop()
  assert (kind, code) == (aiohttp.WSMsgType.CLOSE, 1001)
  assert (status, lines) == (0, ["serve.py: shutting down",
                                 "serve.py: stopped"])
  assert os.listdir(served.temp_dir) == []

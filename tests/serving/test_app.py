"""serve.py's HTTP routes, served from a subprocess on 127.0.0.1.

The tiny model's transcripts are what they are; each answer is compared
with what transcribe.py prints for the same file.
"""

import asyncio
import json
import os
import subprocess

import aiohttp
import pytest
import soundfile

from tests import conftest
from tests.helpers import serving

pytestmark = pytest.mark.slow

MAX_REQUEST_MB = 0.5
MAX_AUDIO_SEC = 4.0


@pytest.fixture(scope="module")
def server(tiny_export, tmp_path_factory):
  export_dir, _ = tiny_export
  temp = tmp_path_factory.mktemp("server_tmp")
  with serving.Served(export_dir, temp,
                      "--max_request_mb=%g" % MAX_REQUEST_MB,
                      "--max_audio_sec=%g" % MAX_AUDIO_SEC) as served:
    yield served


async def _post(url, data, headers=None):
  async with aiohttp.ClientSession() as session:
    async with session.post(url + "/transcribe", data=data,
                            headers=headers) as answer:
      return answer.status, answer.content_type, await answer.json()


def post(url, data, headers=None):
  return asyncio.run(_post(url, data, headers))


def _form(path, name="audio"):
  form = aiohttp.FormData()
  with open(path, "rb") as f:
    form.add_field(name, f.read(), filename=os.path.basename(path),
                   content_type="application/octet-stream")
  return form


def test_a_wav_body_and_an_mp3_form_answer_what_transcribe_py_prints(
    server, tiny_export, tmp_path):
  export_dir, utterances = tiny_export
  wav = utterances[0]
  mp3 = str(tmp_path / "clip.mp3")
  subprocess.run(["sox", wav, "-C", "320", mp3], check=True)
  with open(wav, "rb") as f:
    status, kind, answer = post(server.url, f.read())
  assert (status, kind) == (200, "application/json")
  expected = serving.offline_json(export_dir, wav)
  assert expected["text"]  # the model says something
  assert answer == dict(serving.without_path(expected), path=None)
  status, _, answer = post(server.url, _form(mp3))
  assert status == 200
  assert answer == dict(serving.without_path(
      serving.offline_json(export_dir, mp3)), path="clip.mp3")
  assert os.listdir(server.temp_dir) == [_temp_root(server)]
  assert os.listdir(os.path.join(server.temp_dir, _temp_root(server))) == []


def _temp_root(served):
  (name,) = os.listdir(served.temp_dir)
  assert name.startswith("deep_speech_serve_")
  return name


def test_refusals_are_one_json_object_with_their_status(
    server, tiny_export, tmp_path):
  _, utterances = tiny_export
  big = b"\0" * int(MAX_REQUEST_MB * 1e6 + 1)
  limit = ("the request is larger than the limit of %g MB "
           "(--max_request_mb)" % MAX_REQUEST_MB)
  assert post(server.url, big) == (413, "application/json", {"error": limit})

  async def chunked():  # no Content-Length: counted as it arrives
    for _ in range(6):
      yield b"\0" * 100000
  assert post(server.url, chunked()) == (
      413, "application/json", {"error": limit})
  assert post(server.url, _form(utterances[0], name="file")) == (
      400, "application/json", {"error": "the form has no `audio` field"})
  status, _, answer = post(server.url, b"this is not audio\n" * 100)
  assert status == 400
  assert answer == {"error": "the body is not audio: not a readable audio "
                             "file (Format not recognised.)"}
  long_clip = conftest.join_utterances(utterances * 2, tmp_path / "long.wav")
  status, _, answer = post(server.url, _form(long_clip))
  assert status == 422
  assert answer == {"error": "the audio is %.1f s long, over the limit of "
                             "4 s (--max_audio_sec)"
                             % soundfile.info(long_clip).duration}
  assert os.listdir(os.path.join(server.temp_dir, _temp_root(server))) == []


def test_concurrent_requests_are_all_answered_right(server, tiny_export,
                                                    tmp_path):
  export_dir, utterances = tiny_export
  clips = utterances + [
      conftest.join_utterances(utterances[:2], tmp_path / "a.wav"),
      conftest.join_utterances(utterances[2:], tmp_path / "b.wav")]
  expected = [dict(serving.without_path(serving.offline_json(export_dir, c)),
                   path=os.path.basename(c)) for c in clips]

  async def all_at_once():
    return await asyncio.gather(*(_post(server.url, _form(c))
                                  for c in clips))
  answers = asyncio.run(all_at_once())
  assert [a[0] for a in answers] == [200] * len(clips)
  assert [a[2] for a in answers] == expected


def test_health_and_model_describe_the_server(server, tiny_export):
  export_dir, _ = tiny_export

  async def get(route):
    async with aiohttp.ClientSession() as session:
      async with session.get(server.url + route) as answer:
        return answer.status, await answer.json()
  assert asyncio.run(get("/health")) == (
      200, {"ok": True, "model_loaded": True, "waiting": 0})
  status, info = asyncio.run(get("/model"))
  assert status == 200
  (export,) = os.listdir(export_dir)
  assert info["source"] == os.path.join(export_dir, export)
  assert (info["sample_rate"], info["window_ms"], info["stride_ms"]) == (
      16000, 20.0, 10.0)
  assert "".join(info["labels"]) == " abcdefghijklmnopqrstuvwxyz'-"
  assert info["decoder"]["kind"] == "greedy"
  assert info["max_audio_sec"] == MAX_AUDIO_SEC
  assert info["tensorflow"].startswith("2.15")
  assert asyncio.run(get("/nowhere")) == (404, {"error": "Not Found"})


def test_the_page_and_its_scripts_are_served(server):
  async def get(route):
    async with aiohttp.ClientSession() as session:
      async with session.get(server.url + route) as answer:
        return answer.status, answer.content_type, await answer.text()
  status, kind, page = asyncio.run(get("/"))
  assert (status, kind) == (200, "text/html")
  assert '<script src="/app.js"></script>' in page
  for script in ("/app.js", "/recorder.js"):
    status, kind, text = asyncio.run(get(script))
    assert (status, kind) == (200, "text/javascript")
    with open(os.path.join(serving.ROOT, "serving", "static",
                           script[1:])) as f:
      assert text == f.read()
  assert asyncio.run(get("/../serve.py"))[0] == 404
  assert json.loads(asyncio.run(get("/index.html"))[2]) == {
      "error": "Not Found"}

"""The /stream websocket of serve.py, fed a clip at real-time pace."""

import asyncio
import json
import time

import aiohttp
import numpy as np
import pytest
import soundfile

from tests import conftest
from tests.helpers import serving
from tests.helpers import sox_audio

pytestmark = pytest.mark.slow
FRAME_SEC = 0.1


@pytest.fixture(scope="module")
def server(tiny_export, tmp_path_factory):
  export_dir, _ = tiny_export
  with serving.Served(export_dir, tmp_path_factory.mktemp("stream_tmp"),
                      "--max_audio_sec=3") as served:
    yield served


async def _stream(url, frames, opening=(), pace_sec=FRAME_SEC, end="end",
                  times=None):
  """Sends `opening` text messages, then the frames at `pace_sec`, then
  `end`; returns the JSON messages received and the close code.

  `times`, a dict, gets "end": when `end` was sent and "arrivals": when
  each message came (time.monotonic)."""
  messages = []
  times = {} if times is None else times
  times["arrivals"] = []
  async with aiohttp.ClientSession() as session:
    async with session.ws_connect(url.replace("http", "ws", 1)) as ws:

      async def receive():
        async for msg in ws:
          times["arrivals"].append(time.monotonic())
          messages.append(json.loads(msg.data))
      receiving = asyncio.ensure_future(receive())
      for text in opening:
        await ws.send_str(text)
      for frame in frames:
        if ws.closed:
          break
        await ws.send_bytes(frame)
        await asyncio.sleep(pace_sec)
      times["end"] = time.monotonic()
      if end is not None and not ws.closed:
        await ws.send_str(end)
      await asyncio.wait_for(receiving, 60)
      return messages, ws.close_code


def _frames(path, frame_sec=FRAME_SEC):
  samples, rate = soundfile.read(path, dtype="int16")
  step = int(frame_sec * rate)
  return [samples[i:i + step].tobytes() for i in range(0, len(samples), step)]


def test_a_clip_streamed_in_real_time_gets_partials_and_the_offline_final(
    server, tiny_export, tmp_path):
  export_dir, utterances = tiny_export
  clip = conftest.join_utterances(utterances[:3], tmp_path / "clip.wav")
  assert 2.0 < soundfile.info(clip).duration < 3.0
  started = time.monotonic()
  messages, code = asyncio.run(_stream(server.url + "/stream?rate=16000",
                                       _frames(clip)))
  assert time.monotonic() - started >= 2.0  # real time, not a burst
  assert code == 1000
  partials = [m for m in messages[:-1] if set(m) == {"partial"}]
  assert len(partials) == len(messages) - 1 >= 1
  offline = serving.offline_json(export_dir, clip)
  assert messages[-1] == {"final": offline["text"],
                          "duration": offline["duration"],
                          "words": offline["words"]}
  assert offline["text"]


def test_the_rate_may_come_first_as_a_message_and_other_rates_are_converted(
    server, tiny_export, tmp_path):
  export_dir, utterances = tiny_export
  clip = str(tmp_path / "clip_8k.wav")
  samples, _ = soundfile.read(utterances[0], dtype="float32")
  soundfile.write(clip, samples[::2], 8000, subtype="PCM_16")
  messages, code = asyncio.run(_stream(
      server.url + "/stream", _frames(clip), opening=['{"rate": 8000}'],
      pace_sec=0, end='{"end": true}'))
  offline = serving.offline_json(export_dir, clip)
  assert code == 1000
  assert messages == [{"final": offline["text"],
                       "duration": offline["duration"],
                       "words": offline["words"]}]


@pytest.mark.parametrize("url_tail,opening,frames,end,error", [
    ("", (), [b"\0\0"], "end",
     'send the rate first: /stream?rate=16000 or {"rate": 16000}'),
    ("?rate=fast", (), [], "end",
     "the rate must be an integer number of Hz, not 'fast'"),
    ("?rate=16000", ("hello",), [], None,
     'text messages are {"rate": Hz}, {"end": true} or "end"'),
    ("?rate=16000", (), [b"\0\0\0"], "end",
     "audio frames are 16-bit samples: an odd number of bytes"),
    ("?rate=16000", (), [], "end", "the stream ended before any audio"),
    ("?rate=16000", (), [np.zeros(16000, np.int16).tobytes()] * 4, "end",
     "the stream is longer than the limit of 3 s (--max_audio_sec, "
     "--max_request_mb)"),
])
def test_protocol_errors_are_one_message_then_a_close(
    server, url_tail, opening, frames, end, error):
  messages, code = asyncio.run(_stream(
      server.url + "/stream" + url_tail, frames, opening=opening, pace_sec=0,
      end=end))
  assert code == 1008
  assert [m for m in messages if "partial" not in m] == [{"error": error}]


@pytest.fixture(scope="module")
def streaming_server(tiny_streaming_model, tmp_path_factory):
  _, export_dir = tiny_streaming_model
  with serving.Served(export_dir, tmp_path_factory.mktemp("streaming_tmp"),
                      "--max_audio_sec=6") as served:
    yield served


async def _post(url, path):
  async with aiohttp.ClientSession() as session:
    with open(path, "rb") as f:
      async with session.post(url + "/transcribe", data=f.read()) as answer:
        return answer.status, await answer.json()


async def _get(url):
  async with aiohttp.ClientSession() as session:
    async with session.get(url) as answer:
      return await answer.json()


def test_a_unidirectional_model_streams_as_the_audio_comes(
    streaming_server, tmp_path):
  clip = sox_audio.say("the quick brown fox jumps over the lazy dog",
                       tmp_path / "fox.wav", 16000)
  duration = soundfile.info(clip).duration
  assert asyncio.run(_get(streaming_server.url + "/model"))["streaming"]
  status, posted = asyncio.run(_post(streaming_server.url, clip))
  assert status == 200 and posted["text"]
  for frame_sec in (0.02, 0.5):
    times = {}
    started = time.monotonic()
    messages, code = asyncio.run(_stream(
        streaming_server.url + "/stream?rate=16000", _frames(clip, frame_sec),
        pace_sec=frame_sec, times=times))
    assert code == 1000
    assert times["end"] - started >= duration - 2 * frame_sec  # real time
    assert messages[-1] == {"final": posted["text"],
                            "duration": posted["duration"],
                            "words": posted["words"]}
    partials = messages[:-1]
    assert partials and all(set(m) == {"partial"} for m in partials)
    # Streamed, not buffered: text shows while the audio still comes, and
    # each partial is the beginning of the final text (greedy decoding).
    early = [m for m, t in zip(partials, times["arrivals"])
             if t < times["end"]]
    assert any(m["partial"] for m in early)
    assert all(posted["text"].startswith(m["partial"]) for m in partials)


def test_with_endpoints_each_pause_ends_an_utterance_with_its_final(
    phrase_model, tmp_path_factory):
  with serving.Served(phrase_model.export_dir,
                      tmp_path_factory.mktemp("endpoint_tmp"),
                      "--endpoint_silence_sec=1",
                      "--lexicon=" + phrase_model.lexicon,
                      "--beam_width=16") as served:
    times = {}
    messages, code = asyncio.run(_stream(
        served.url + "/stream?rate=16000", _frames(phrase_model.path, 0.1),
        pace_sec=0.05, times=times))
  assert code == 1000
  finals = [(m, t) for m, t in zip(messages, times["arrivals"])
            if "final" in m]
  assert len(finals) == 2 and all(
      conftest.says_phrase(m["final"], phrase)
      for (m, _), phrase in zip(finals, conftest.PHRASES))
  (first, first_at), (second, _) = finals
  assert first_at < times["end"]  # sent while the stream went on
  assert messages[-1] == second  # the last, at "end"
  assert first["duration"] < second["duration"]
  assert all(w["start"] < phrase_model.first_end for w in first["words"])
  assert all(w["start"] >= phrase_model.first_end for w in second["words"])

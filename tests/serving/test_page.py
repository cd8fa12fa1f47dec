"""The page (serving/static/) in headless Chromium against serve.py.

Chromium's fake microphone plays a clip; the page downsamples it to 16 kHz,
streams it to /stream and shows the final transcript, which must be what
transcribe.py says of the audio the page sent (it offers that audio as a
WAV to save; the test saves it). A file chosen on the page goes to
/transcribe and shows transcribe.py's transcript of that file.
"""

import asyncio
import base64

import numpy as np
import pytest
import soundfile

from tests import conftest
from tests.helpers import cdp
from tests.helpers import serving

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(cdp.chromium() is None,
                       reason="Chromium is not installed (Debian packages "
                       "chromium and chromium-driver, "
                       "requirements-debian-test.txt)")]

_SAVED_RECORDING = """
  fetch(document.getElementById("download").href)
    .then((r) => r.arrayBuffer())
    .then((b) => { let s = ""; for (const c of new Uint8Array(b))
                   s += String.fromCharCode(c); return btoa(s); })"""
_SHOWN = """({final: document.getElementById("final").textContent,
  status: document.getElementById("status").textContent,
  words: [...document.querySelectorAll("#words tbody tr")].map(
      (r) => [...r.cells].map((c) => c.textContent))})"""


def _table(words):
  """The word table the page shows for transcript words."""
  return [[w["word"], "%.2f" % w["start"], "%.2f" % w["end"],
           "%.2f" % w["confidence"]] for w in words]


async def _open(page, url):
  await page.call("Page.navigate", url=url)
  await page.wait_for("document.readyState === 'complete' && "
                      "!!document.getElementById('record')")


async def _record(page, url, seconds):
  await _open(page, url)
  await page.evaluate("document.getElementById('record').click()")
  state = await page.wait_for("['recording', 'error'].includes("
                              "document.body.dataset.state) && "
                              "document.body.dataset.state")
  assert state == "recording", await page.evaluate(_SHOWN)
  await asyncio.sleep(seconds)
  await page.evaluate("document.getElementById('stop').click()")
  await page.wait_for("['done', 'error'].includes(document.body.dataset.state)",
                      timeout=60)
  shown = await page.evaluate(_SHOWN)
  await page.wait_for("!document.getElementById('download').hidden")
  return shown, base64.b64decode(await page.evaluate(_SAVED_RECORDING))


async def _choose_file(page, url, path):
  await _open(page, url)
  document = await page.call("DOM.getDocument")
  node = await page.call("DOM.querySelector", selector="#file",
                         nodeId=document["root"]["nodeId"])
  await page.call("DOM.setFileInputFiles", files=[path],
                  nodeId=node["nodeId"])
  await page.wait_for("['done', 'error'].includes(document.body.dataset.state)",
                      timeout=60)
  return await page.evaluate(_SHOWN)


def test_the_page_records_the_microphone_and_transcribes_a_chosen_file(
    tiny_export, tmp_path):
  export_dir, utterances = tiny_export
  clip = conftest.join_utterances(utterances[:3], tmp_path / "mic.wav")
  with serving.Served(export_dir, tmp_path / "server_tmp") as served:

    async def scenario():
      async with cdp.Browser(tmp_path / "profile", fake_audio=clip) as page:
        recorded = await _record(page, served.url + "/", seconds=3.5)
        chosen = await _choose_file(page, served.url + "/", utterances[0])
        return recorded, chosen
    (shown, wav), chosen = asyncio.run(scenario())
  sent = tmp_path / "sent.wav"
  sent.write_bytes(wav)
  samples, rate = soundfile.read(str(sent), dtype="float32")
  assert rate == 16000
  assert 3.0 < len(samples) / rate < 5.0
  # The fake microphone delivered the clip's speech, not silence.
  assert np.abs(samples).max() > 0.1
  offline = serving.offline_json(export_dir, str(sent))
  assert shown == {"final": offline["text"], "status": "",
                   "words": _table(offline["words"])}
  expected = serving.offline_json(export_dir, utterances[0])
  assert expected["text"]
  assert chosen == {"final": expected["text"], "status": "",
                    "words": _table(expected["words"])}

"""Headless Chromium driven over the Chrome DevTools protocol (aiohttp).

The smallest driver that needs nothing beyond the server's own package:
Chromium prints the browser's websocket address on standard error, the page
target is found through /json/list on the same port, and `Page.evaluate`
runs JavaScript in it (awaiting promises). No browser is ever downloaded:
Chromium is the Debian package.
"""

import asyncio
import itertools
import json
import os
import re
import shutil
import subprocess

import aiohttp

_LISTENING = re.compile(r"DevTools listening on ws://([^/]+)/")


def chromium():
  """The Chromium program, or None when it is not installed."""
  for name in ("chromium", "chromium-browser", "google-chrome"):
    path = shutil.which(name)
    if path:
      return path
  return None


class Browser(object):
  """A headless Chromium process; `async with Browser(...) as page:`."""

  def __init__(self, user_data_dir, fake_audio=None):
    """Args:

      user_data_dir: an empty directory for the profile.
      fake_audio: a WAV file the fake microphone plays (once), or None.
    """
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--user-data-dir=" + str(user_data_dir),
             "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
             "--autoplay-policy=no-user-gesture-required"]
    if fake_audio:
      flags += ["--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                "--use-file-for-fake-audio-capture=%s%%noloop" % fake_audio]
    self._command = [chromium()] + flags + ["about:blank"]
    self._process = None
    self._session = None
    self.log = []

  async def __aenter__(self):
    self._process = await asyncio.create_subprocess_exec(
        *self._command, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, env=dict(os.environ, LANG="C"))
    address = await asyncio.wait_for(self._address(), 60)
    self._session = aiohttp.ClientSession()
    async with self._session.get("http://%s/json/list" % address) as answer:
      targets = await answer.json(content_type=None)
    (page,) = [t for t in targets if t["type"] == "page"]
    ws = await self._session.ws_connect(page["webSocketDebuggerUrl"],
                                        max_msg_size=0)
    return Page(ws, self.log)

  async def _address(self):
    while True:
      line = await self._process.stderr.readline()
      if not line:
        raise RuntimeError("chromium exited: %s" % "".join(self.log[-20:]))
      self.log.append(line.decode("utf-8", "replace"))
      match = _LISTENING.search(self.log[-1])
      if match:
        asyncio.ensure_future(self._drain())
        return match.group(1)

  async def _drain(self):
    while await self._process.stderr.readline():
      pass

  async def __aexit__(self, *unused):
    if self._session is not None:
      await self._session.close()
    if self._process.returncode is None:
      self._process.kill()
    await self._process.wait()


class Page(object):
  """One page of the browser."""

  def __init__(self, ws, log):
    self._ws = ws
    self._ids = itertools.count(1)
    self.console = log

  async def call(self, method, **params):
    """Sends a DevTools command; returns its result (events are skipped)."""
    number = next(self._ids)
    await self._ws.send_str(json.dumps({"id": number, "method": method,
                                        "params": params}))
    async for msg in self._ws:
      message = json.loads(msg.data)
      if message.get("method") == "Runtime.consoleAPICalled":
        self.console.append(" ".join(
            str(a.get("value", a.get("description")))
            for a in message["params"]["args"]))
      if message.get("id") == number:
        if "error" in message:
          raise RuntimeError("%s: %s" % (method, message["error"]))
        return message["result"]
    raise RuntimeError("the browser closed the connection")

  async def evaluate(self, expression):
    """The JSON value of a JavaScript expression (a promise is awaited)."""
    result = await self.call("Runtime.evaluate", expression=expression,
                             awaitPromise=True, returnByValue=True)
    if "exceptionDetails" in result:
      raise RuntimeError("%s: %s" % (expression, result["exceptionDetails"]))
    return result["result"].get("value")

  async def wait_for(self, expression, timeout=30.0, every=0.1):
    """Polls until the expression is truthy; returns its value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
      value = await self.evaluate(expression)
      if value:
        return value
      if loop.time() > deadline:
        raise AssertionError("timed out waiting for %s; console: %s" % (
            expression, self.console[-20:]))
      await asyncio.sleep(every)

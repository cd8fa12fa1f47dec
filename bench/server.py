"""Throughput and latency of serve.py under a bounded load on 127.0.0.1.

    python bench/server.py [--requests=48 --concurrency=6 --clip_sec=5]
                           [--batch_requests=1,6] [--saved_model=DIR]

Exports an untrained model of the demo's configuration (bench/transcribe.py:
the speed does not depend on the weights) unless --saved_model is given,
writes --concurrency speech-like WAVs of --clip_sec, and for each
--batch_requests value starts serve.py on a free port of 127.0.0.1, sends
one warm-up request, then --requests POST /transcribe requests from
--concurrency clients at once (each sends its next request when its last is
answered). Reports requests per second, seconds of audio per second and the
p50/p99 latency per setting; the last line is one JSON object.
"""

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench import transcribe as bench_transcribe  # pylint: disable=g-import-not-at-top,wrong-import-position


def start_server(saved_model, batch_requests, concurrency):
  """(process, URL): serve.py on a free port of 127.0.0.1."""
  process = subprocess.Popen(
      [sys.executable, os.path.join(ROOT, "serve.py"),
       "--saved_model=" + saved_model, "--host=127.0.0.1", "--port=0",
       "--batch_requests=%d" % batch_requests,
       "--max_queue=%d" % max(32, concurrency)],
      cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
  for line in process.stdout:
    match = re.search(r"serving on (http://\S+)/", line)
    if match:
      return process, match.group(1)
  process.wait()
  sys.exit("bench/server.py: serve.py did not start (exit %d)"
           % process.returncode)


async def load(url, clips, requests, concurrency):
  """Latencies (s) of `requests` posts from `concurrency` clients, and the
  seconds they took in all."""
  import aiohttp  # pylint: disable=g-import-not-at-top
  bodies = []
  for clip in clips:
    with open(clip, "rb") as f:
      bodies.append(f.read())
  latencies = []
  remaining = iter(range(requests))

  async def client(session, number):
    for _ in remaining:
      started = time.perf_counter()
      async with session.post(url + "/transcribe",
                              data=bodies[number]) as answer:
        await answer.read()
        if answer.status != 200:
          raise RuntimeError("status %d: %s" % (answer.status,
                                                await answer.text()))
      latencies.append(time.perf_counter() - started)

  async with aiohttp.ClientSession() as session:
    async with session.post(url + "/transcribe", data=bodies[0]) as warm:
      await warm.read()
    started = time.perf_counter()
    await asyncio.gather(*(client(session, i % len(bodies))
                           for i in range(concurrency)))
    return latencies, time.perf_counter() - started


def percentile(values, q):
  ordered = sorted(values)
  return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(saved_model, clips, clip_sec, args, batch_requests):
  process, url = start_server(saved_model, batch_requests, args.concurrency)
  try:
    latencies, seconds = asyncio.run(
        load(url, clips, args.requests, args.concurrency))
  finally:
    process.send_signal(signal.SIGTERM)
    process.wait(60)
  return {"batch_requests": batch_requests,
          "rps": round(len(latencies) / seconds, 2),
          "audio_sec_per_sec": round(len(latencies) * clip_sec / seconds, 1),
          "p50_ms": round(1000 * percentile(latencies, 0.5)),
          "p99_ms": round(1000 * percentile(latencies, 0.99))}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--requests", type=int, default=48)
  parser.add_argument("--concurrency", type=int, default=6)
  parser.add_argument("--clip_sec", type=float, default=5.0)
  parser.add_argument("--batch_requests", default="1,6",
                      help="comma-separated serve.py --batch_requests values")
  parser.add_argument("--saved_model", help="an export to serve instead of "
                      "an untrained demo-configuration one")
  args = parser.parse_args()
  figures = {"cpu": bench_transcribe.cpu_kind(),
             "machine": "shared with other jobs",
             "model": args.saved_model or
                      "untrained 3 x 256 BiGRU, 16 conv filters, window_ms 10",
             "requests": args.requests, "concurrency": args.concurrency,
             "clip_sec": args.clip_sec, "decoder": "greedy", "runs": []}
  with tempfile.TemporaryDirectory() as directory:
    saved_model = (os.path.abspath(args.saved_model) if args.saved_model
                   else bench_transcribe.export_model(directory))
    clips, _ = bench_transcribe.write_audio(directory, args.concurrency,
                                            args.clip_sec, 0)
    for value in args.batch_requests.split(","):
      run = measure(saved_model, clips, args.clip_sec, args, int(value))
      figures["runs"].append(run)
      print("--batch_requests=%(batch_requests)d: %(rps).2f requests/s, "
            "%(audio_sec_per_sec).1f s of audio/s, p50 %(p50_ms)d ms, "
            "p99 %(p99_ms)d ms" % run, flush=True)
  print(json.dumps(figures))


if __name__ == "__main__":
  main()

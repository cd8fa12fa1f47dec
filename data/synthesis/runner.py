"""Synthesizes many chapters of the sample corpus in parallel.

The unit of work is a batch: one chapter (one speaker's utterances), or for
festival several chapters of one voice, spoken by one festival process (see
`voices.speak`). Each utterance then goes through `voices.render` and
`voices.write_flac`.
"""

import concurrent.futures
import tempfile

from common import progress
from data.synthesis import voices

# Utterances festival speaks in one process: 4 training chapters. Its start,
# as costly as several utterances, then adds little per utterance
# (docs/benchmarks.md); larger batches would leave one worker alone with a
# long batch at the end.
FESTIVAL_BATCH = 100


def batch_jobs(jobs, festival_batch=FESTIVAL_BATCH):
  """Groups festival chapters of one voice, up to festival_batch utterances.

  Args:
    jobs: list of (`voices.Speaker`, items), one chapter each.
    festival_batch: int, utterances festival speaks in one process.

  Returns:
    list of lists of jobs, each list synthesized together by
    `synthesize_batch`; chapters of other engines stay alone.
  """
  batches, open_batches = [], {}
  for speaker, items in jobs:
    if speaker.engine != "festival":
      batches.append([(speaker, items)])
      continue
    batch = open_batches.get(speaker.voice)
    if batch is None or sum(len(i) for _, i in batch) + len(
        items) > festival_batch:
      batch = open_batches[speaker.voice] = []
      batches.append(batch)
    batch.append((speaker, items))
  return batches


def synthesize_batch(jobs, tools, on_done=None):
  """Synthesizes chapters' utterances into FLAC files, festival's at once.

  Args:
    jobs: list of (`voices.Speaker`, items); items: list of (flac_path, text,
      `voices.UtteranceStyle`) to synthesize.
    tools: dict tool name -> executable path ("flite", "festival",
      "espeak-ng", "sox").
    on_done: optional callable, called once per finished utterance.

  Raises:
    voices.SynthesisError: an engine or sox failed, or the audio was silent.
  """
  with tempfile.TemporaryDirectory(prefix="sample_corpus_") as tmp_dir:
    wavs = voices.speak([(speaker, [text for _, text, _ in items])
                         for speaker, items in jobs], tmp_dir, tools)
    for (speaker, items), chapter_wavs in zip(jobs, wavs):
      for (flac_path, _, style), wav in zip(items, chapter_wavs):
        voices.write_flac(flac_path,
                          voices.render(wav, speaker, style, tools))
        if on_done:
          on_done()


def synthesize_chapters(jobs, tools, num_workers):
  """Runs `synthesize_batch` over many chapters in parallel, with progress.

  Args:
    jobs: list of (`voices.Speaker`, items), one chapter each (see
      `synthesize_batch`); festival's are batched by `batch_jobs`.
    tools: dict tool name -> executable path.
    num_workers: int, chapters synthesized at once.

  Returns:
    int, the number of utterances synthesized.

  Raises:
    voices.SynthesisError: from the first batch that failed; batches not
      yet started are cancelled.
  """
  total = sum(len(items) for _, items in jobs)
  if not total:
    return 0
  bar = progress.Progress("synthesizing", total, unit="utterances")
  # Threads suffice: the engines and sox run as subprocesses.
  with bar, concurrent.futures.ThreadPoolExecutor(num_workers) as pool:
    futures = [pool.submit(synthesize_batch, batch, tools, bar.update)
               for batch in batch_jobs(jobs)]
    try:
      for future in concurrent.futures.as_completed(futures):
        future.result()
    except BaseException:
      for future in futures:
        future.cancel()
      raise
  return total

"""Tuning the beam decoder's LM weight (alpha) and word bonus (beta).

The acoustic model runs once over the tuning utterances (`acoustic_outputs`,
on an export of deep_speech.py or the latest checkpoint of its model_dir,
loaded by `load_model` through transcription/model.py, the one loader of
trained models); its softmax outputs stay in memory, or in
an .npz cache (`save_outputs` / `load_outputs`), and every (alpha, beta)
point of a grid (`grid`) decodes the same outputs (`search`), one point per
forked process: flashlight holds the GIL, so threads would not help, and
fork shares the loaded LM and the outputs with the workers without copying.

The tuning utterances must be held out of training (the model has learnt
its training transcripts, so the LM looks less useful there than it is) and
must not be the set the figures are reported on (tuning on it would report
an optimistic WER). `check_held_out` refuses a tuning set that shares audio
files with the manifests it must stay apart from.
"""

import collections
import multiprocessing
import os

import numpy as np

from common import atomic_file
from common import progress
from data import manifest as manifest_lib
from decoding import scoring
from transcription import audio
from transcription import pipeline

# One grid point's outcome; wer/cer are corpus-level (total edit distance
# over total reference length).
Point = collections.namedtuple("Point", ["alpha", "beta", "wer", "cer"])


class TuningError(ValueError):
  """A tuning input the user must fix; the message says which and why."""


def check_held_out(tuning_paths, tuning_manifest, other_manifests):
  """Refuses a tuning set that shares audio with other manifests.

  Args:
    tuning_paths: the tuning utterances' audio paths.
    tuning_manifest: the tuning manifest's path (for the message).
    other_manifests: dict path -> list of that manifest's audio paths: the
      reported dev/test set, and the training set.

  Raises:
    TuningError: a manifest is the tuning manifest itself or shares
      utterances with it (naming both and the count).
  """
  tuning = set(os.path.realpath(p) for p in tuning_paths)
  for path, audio in other_manifests.items():
    if os.path.realpath(path) == os.path.realpath(tuning_manifest):
      raise TuningError("the tuning manifest %s is the manifest it must be "
                        "held out of" % path)
    shared = tuning & set(os.path.realpath(p) for p in audio)
    if shared:
      raise TuningError(
          "%d of the %d tuning utterances of %s are also in %s (first: %s); "
          "tune on utterances held out of training and of the reported set"
          % (len(shared), len(tuning), tuning_manifest, path,
             sorted(shared)[0]))


def load_model(saved_model=None, model_dir=None):
  """Loads the acoustic model: an export, or a model_dir's latest checkpoint.

  Args:
    saved_model: the export directory, or the --export_dir holding
      timestamped exports (the newest is used).
    model_dir: instead, a training directory (no export needed); it must
      record its featurizer settings (deep_speech.py writes them at start).

  Returns:
    A transcription.model.ExportedModel or CheckpointModel: called with
    (features, lengths), with `.settings` and `.path`.

  Raises:
    TuningError: neither or both given, a model that cannot be loaded, or
      one that records no featurizer settings.
  """
  # TensorFlow loads only when the model runs: tuning from the outputs
  # cache starts in a second instead of ten.
  from transcription import model as model_lib  # pylint: disable=g-import-not-at-top
  if bool(saved_model) == bool(model_dir):
    raise TuningError("give the model as an export or a model_dir (one of "
                      "the two)")
  try:
    if model_dir:
      model = model_lib.CheckpointModel(model_dir, None)
    else:
      model = model_lib.ExportedModel(saved_model, None)
  except model_lib.ModelError as e:
    raise TuningError(str(e)) from None
  if model.settings is None:
    raise TuningError("%s records no featurizer settings; re-export it (or "
                      "train on) with this version of deep_speech.py"
                      % (saved_model or model_dir))
  return model


def acoustic_outputs(model, paths, batch_size=16, show_progress=True):
  """Runs a trained model over audio files.

  Args:
    model: from `load_model`.
    paths: audio files (any format transcribe.py reads).
    batch_size: utterances per model call; files are batched by length so
      little time goes to padding.
    show_progress: show progress on stderr.

  Returns:
    (probabilities, lengths, labels): float32 [num_files, time, classes]
    softmax outputs padded with blank frames, int [num_files] real frame
    counts, both in the order of `paths`, and the model's labels.

  Raises:
    TuningError: a file cannot be read.
  """
  labels = list(model.settings.labels)
  outputs = [None] * len(paths)
  bar = _bar("acoustic model", len(paths), "utterances", show_progress)
  for chunk, waveforms in _waveform_batches(paths, model.settings,
                                            batch_size):
    probs, frames = pipeline.model_outputs(model, waveforms)
    for row, i in enumerate(chunk):
      outputs[i] = probs[row, :int(frames[row])]
    bar.update(len(chunk))
  bar.close()
  probabilities, out_lengths = pad(outputs, len(labels) - 1)
  return probabilities, out_lengths, labels


def _waveform_batches(paths, settings, batch_size):
  """Yields (indexes, mono waveforms at the model's rate) a batch at a time.

  Files are read as transcription reads them (any format sox or libsndfile
  reads, resampled), grouped by duration (from their headers) so batches
  carry little padding, and one batch at a time, so memory stays flat on a
  long manifest.
  """
  window = int(settings.sample_rate * settings.window_ms / 1000.0)
  try:
    durations = [audio.probe(p).duration or 0.0 for p in paths]
    order = np.argsort(durations, kind="stable")
    for first in range(0, len(order), batch_size):
      chunk = order[first:first + batch_size]
      waveforms = [audio.read_all(paths[i], settings.sample_rate)[0]
                   for i in chunk]
      for i, waveform in zip(chunk, waveforms):
        if len(waveform) < window:
          raise TuningError("%s: shorter than one %g ms window"
                            % (paths[i], settings.window_ms))
      yield chunk, waveforms
  except (audio.AudioError, ImportError) as e:
    raise TuningError(str(e)) from None


def pad(matrices, blank):
  """Stacks [time, classes] matrices into [batch, max_time, classes].

  Padding frames are certain blanks, so they decode to nothing even if a
  decoder ignored the lengths.
  """
  lengths = np.array([m.shape[0] for m in matrices], np.int64)
  batch = np.zeros((len(matrices), max(lengths.max(initial=0), 1),
                    matrices[0].shape[1] if matrices else blank + 1),
                   np.float32)
  batch[..., blank] = 1.0
  for i, m in enumerate(matrices):
    batch[i, :m.shape[0]] = m
  return batch, lengths


def model_identity(saved_model=None, model_dir=None):
  """What an outputs cache records as its model, without loading it.

  The export directory `load_model` would load, or the model_dir's latest
  checkpoint prefix (so a cache goes stale when training moves on).

  Raises:
    TuningError: no export or no checkpoint there.
  """
  # pylint: disable=g-import-not-at-top
  import tensorflow as tf
  from training import export
  if model_dir:
    checkpoint = tf.train.latest_checkpoint(model_dir)
    if checkpoint is None:
      raise TuningError("no checkpoint in %s" % model_dir)
    return os.path.abspath(checkpoint)
  try:
    return os.path.abspath(export.find_saved_model(saved_model))
  except ValueError as e:
    raise TuningError(str(e)) from None


def recorded_settings(saved_model=None, model_dir=None):
  """What the model records (export.load_settings), without loading it.

  Returns:
    (the settings dict or None, the settings file or None).

  Raises:
    TuningError: no export there, or a settings file that is not what the
      exporter writes.
  """
  from transcription import model as model_lib  # pylint: disable=g-import-not-at-top
  try:
    directory = model_dir or model_lib.find_saved_model(saved_model)
    return model_lib.read_recorded_settings(directory)
  except model_lib.ModelError as e:
    raise TuningError(str(e)) from None


def recorded_decoder(saved_model=None, model_dir=None):
  """The decoder the model records, without loading it.

  Returns:
    (export.recorded_decoder's dict or None, the settings file or None).

  Raises:
    TuningError: as `recorded_settings`.
  """
  from training import export  # pylint: disable=g-import-not-at-top
  recorded, path = recorded_settings(saved_model, model_dir)
  return export.recorded_decoder(recorded), path


def save_outputs(path, probabilities, lengths, references, labels, model=""):
  """Caches acoustic outputs and their references in an .npz file.

  Args:
    model: what produced them (the export's directory), so that outputs of
      an older export are not taken for a newer one's.
  """
  # A unique temporary per run (two runs may share a cache), never a
  # symbolic link followed.
  with atomic_file.atomic_write(path, "wb") as f:
    np.savez_compressed(f, probabilities=probabilities, lengths=lengths,
                        references=np.array(references, dtype=str),
                        labels=np.array(list(labels), dtype=str),
                        model=np.array(model))


def load_outputs(path):
  """Reads `save_outputs`' file.

  Returns:
    (probabilities, lengths, references, labels, model).

  Raises:
    TuningError: not such a file (naming it).
  """
  try:
    with atomic_file.open_file(path) as f, np.load(f) as cached:
      return (cached["probabilities"], cached["lengths"],
              [str(r) for r in cached["references"]],
              [str(c) for c in cached["labels"]], str(cached["model"]))
  except (OSError, ValueError, KeyError) as e:
    raise TuningError("cannot read the outputs cache %s: %s" % (path, e))


def cached_outputs(path, references, model):
  """(probabilities, lengths, labels) from `save_outputs`' file when it
  holds these references' outputs of `model`; None when there is no such
  file or it holds other utterances' or another export's.

  Raises:
    TuningError: a file that is not such a cache (naming it).
  """
  if not path or not os.path.exists(path):
    return None
  probabilities, lengths, cached_refs, labels, cached_model = load_outputs(
      path)
  if cached_refs != list(references) or cached_model != model:
    return None
  return probabilities, lengths, labels


def manifest_rows(path, labels, text_policy, num=0):
  """The usable rows of a manifest, read as training reads transcripts.

  Returns:
    (audio paths, transcripts, skipped rows), the first `num` rows (0: all).
  """
  tokens = {token: i for i, token in enumerate(labels)}
  entries, skipped = manifest_lib.read_manifest(path, tokens,
                                                text_policy=text_policy)
  entries = entries[:num] if num else entries
  return ([e.wav_filename for e in entries],
          [e.transcript for e in entries], skipped)


def grid(alpha_min, alpha_max, alpha_steps, beta_min, beta_max, beta_steps):
  """The (alpha, beta) points of an evenly spaced grid, alpha-major.

  Raises:
    TuningError: a step count below 1, or a min above its max.
  """
  axes = []
  for name, low, high, steps in (("alpha", alpha_min, alpha_max, alpha_steps),
                                 ("beta", beta_min, beta_max, beta_steps)):
    if steps < 1:
      raise TuningError("%s needs at least one step, got %d" % (name, steps))
    if low > high:
      raise TuningError("the %s range is empty: %g > %g" % (name, low, high))
    axes.append(np.linspace(low, high, steps) if steps > 1 else
                np.array([low]))
  return [(round(float(a), 6), round(float(b), 6))
          for a in axes[0] for b in axes[1]]


class _NoProgress(object):
  def update(self, count=1):
    pass

  def close(self):
    pass


def _bar(label, total, unit, show):
  return progress.Progress(label, total, unit=unit) if show else _NoProgress()


# Forked workers inherit these (set before the pool starts).
_SHARED = {}


def _score_point(point):
  alpha, beta = point
  search = _SHARED["decoder"].with_weights(alpha, beta)
  texts = search.decode_batch(_SHARED["probabilities"], _SHARED["lengths"])
  rates = scoring.compute_error_rates(texts, _SHARED["references"])
  return Point(alpha, beta, rates["corpus_WER"], rates["corpus_CER"])


def search(base_decoder, probabilities, lengths, references, points,
           processes=1, show_progress=True):
  """Decodes the outputs at every grid point and scores each.

  Args:
    base_decoder: a beam_search.BeamSearchDecoder with an LM (its own
      alpha and beta are not used).
    probabilities, lengths: as from `acoustic_outputs`.
    references: the utterances' reference transcripts, in order.
    points: (alpha, beta) pairs, e.g. from `grid`.
    processes: forked worker processes (1: decode in this process).
    show_progress: show progress on stderr.

  Returns:
    A list of `Point`s in the order of `points`.
  """
  _SHARED.update(decoder=base_decoder, probabilities=probabilities,
                 lengths=lengths, references=list(references))
  results = {}
  bar = _bar("grid points", len(points), "points", show_progress)

  def collect(scored):
    for point in scored:
      results[(point.alpha, point.beta)] = point
      bar.update()

  try:
    if processes <= 1:
      collect(map(_score_point, points))
    else:
      with multiprocessing.get_context("fork").Pool(processes) as pool:
        collect(pool.imap_unordered(_score_point, points))
  finally:
    _SHARED.clear()
    bar.close()
  return [results[p] for p in points]


def best_point(points):
  """The point of lowest corpus WER; CER, then the smaller alpha, break ties.

  A smaller alpha on a tie leans less on the LM, the safer choice for
  sentences the LM has not seen.
  """
  return min(points, key=lambda p: (p.wer, p.cer, p.alpha, abs(p.beta)))


def on_edge(best, points):
  """Which grid bounds the best point lies on: [] when inside the grid.

  A best point on a bound that could move suggests widening the range.
  """
  edges = []
  for name, value, axis in (("alpha", best.alpha, [p.alpha for p in points]),
                            ("beta", best.beta, [p.beta for p in points])):
    if len(set(axis)) > 1 and value in (min(axis), max(axis)):
      edges.append("%s %s" % (name, "max" if value == max(axis) else "min"))
  return edges


def format_table(points, greedy=None):
  """The grid as text: one line per point, best marked, greedy first."""
  best = best_point(points)
  lines = ["%8s %8s %8s %8s" % ("alpha", "beta", "WER", "CER")]
  if greedy is not None:
    lines.append("%17s %8.4f %8.4f" % ("greedy", greedy[0], greedy[1]))
  for p in points:
    lines.append("%8.3f %8.3f %8.4f %8.4f%s" % (
        p.alpha, p.beta, p.wer, p.cer, "  <- best" if p == best else ""))
  return "\n".join(lines)

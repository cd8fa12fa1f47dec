"""Evaluation: decode the dev set, score it, log it, record the cycle.

The acoustic model runs once over the evaluation set (`Estimator.predict`);
each batch of probabilities is decoded by every configured decoder before
the next one is predicted: greedy always (the original's figure, the seed's
`Iteration N: WER = x, CER = y` line), and the beam decoder when one is
configured (its own log line and record entry, under the key "beam").
Extra evaluation sets (`EvalSet`) follow, decoded alike: their lines read
`Iteration N [name]: ...` and their figures go under "extra_eval"; the dev
set alone decides the run.
"""

import collections
import os
import time

from absl import logging

from common import progress
import decoder
from decoding import scoring
from official_utils.logs import logger
from official_utils.misc import model_helpers
from training import checkpoints
from training import cycles
from training import hooks
from training import report as report_lib
from training import summaries

# Evaluation metric keys.
WER_KEY = scoring.WER_KEY
CER_KEY = scoring.CER_KEY
METRIC_KEYS = (WER_KEY, CER_KEY, scoring.CORPUS_WER_KEY,
               scoring.CORPUS_CER_KEY)
GREEDY = "greedy"
# The decoders' names prefix their TensorBoard tags ("beam/WER"), so an
# extra set may not take one (its tags would be "beam/WER" too).
TAKEN_SET_NAMES = decoder.DECODERS

# An extra evaluation set: its name, `DeepSpeechDataset` and input function.
EvalSet = collections.namedtuple("EvalSet",
                                 ["name", "speech_dataset", "input_fn"])


def make_decoders(speech_labels, decoder_args=None):
  """The evaluation's decoders: greedy first, then the configured one.

  Args:
    speech_labels: the vocabulary as one string, in class order.
    decoder_args: `decoder.make_decoder`'s arguments with "kind" (None or
      kind "greedy": greedy only).

  Returns:
    An OrderedDict of name ("greedy", "beam") -> decoder.

  Raises:
    ValueError: the beam decoder cannot be built (a bad LM or lexicon).
    beam_search.DecoderLibraryError: flashlight-text is missing.
  """
  decoders = collections.OrderedDict()
  decoders[GREEDY] = decoder.make_decoder(GREEDY, speech_labels)
  if decoder_args and decoder_args["kind"] != GREEDY:
    args = dict(decoder_args)
    kind = args.pop("kind")
    decoders[kind] = decoder.make_decoder(kind, speech_labels, **args)
  return decoders


def decoder_label(name, the_decoder):
  """"greedy", or "beam" with "+LM" and "+lexicon" when they are used."""
  if name == GREEDY:
    return name
  return name + ("+LM" if getattr(the_decoder, "lm_path", None) else "") + (
      "+lexicon" if getattr(the_decoder, "lexicon", None) else "")


def log_evaluation(iteration, eval_results, train_loss, show_samples,
                   title=None):
  """The seed's `Iteration N: WER = x, CER = y` line, and more detail.

  A beam decoder's figures follow on lines of their own, e.g.
  `Iteration N (beam+LM): WER = x, CER = y`. `title` replaces
  "Iteration N" (an evaluation-only run has no iteration).
  """
  title = title or "Iteration {}".format(iteration)
  logging.info("{}: WER = {:.4f}, CER = {:.4f}".format(
      title, eval_results[WER_KEY], eval_results[CER_KEY]))
  logging.info("{}: corpus WER = {:.4f}, corpus CER = {:.4f}, "
               "mean train loss = {}".format(
                   title, eval_results["corpus_WER"],
                   eval_results["corpus_CER"],
                   "%.4f" % train_loss if train_loss is not None else "n/a"))
  others = [(name, results) for name, results
            in eval_results.get("decoders", {}).items() if name != GREEDY]
  for _, results in others:
    logging.info("{} ({}): WER = {:.4f}, CER = {:.4f}".format(
        title, results["decoder"], results[WER_KEY], results[CER_KEY]))
    logging.info("{} ({}): corpus WER = {:.4f}, corpus CER = {:.4f}".format(
        title, results["decoder"], results["corpus_WER"],
        results["corpus_CER"]))
  for i, (ref, hyp) in enumerate(list(zip(
      eval_results["targets"], eval_results["decoded"]))[:show_samples]):
    logging.info("  reference : %s\n  prediction: %s%s", ref, hyp, "".join(
        "\n  %-10s: %s" % (results["decoder"], results["decoded"][i])
        for _, results in others))


def evaluate_model(estimator, speech_labels, entries, input_fn_eval,
                   decoders=None, checkpoint_path=None):
  """Decodes the evaluation set with each decoder and scores it.

  The model is run once; each predicted batch, probabilities float32
  [batch, time, num_classes] and lengths int32 [batch], is decoded by every
  decoder before the next batch is predicted.

  Args:
    estimator: the trained `tf.estimator.Estimator`.
    speech_labels: the vocabulary as one string, in class order.
    entries: the evaluation entries, in the order input_fn_eval yields them.
    input_fn_eval: the evaluation input function.
    decoders: `make_decoders`' dict (default: greedy only).
    checkpoint_path: the checkpoint to evaluate (default: the latest).

  Returns:
    A dict with the greedy decoder's "WER" and "CER" (the seed's means over
    utterances), "corpus_WER" and "corpus_CER" (total errors / total
    reference length), the transcripts as "decoded" and "targets", and
    "decoders": name -> the same figures, "decoded" and "decoder" (its
    label, e.g. "beam+LM") for every decoder, greedy included.
  """
  decoders = decoders or make_decoders(speech_labels)
  decoded = collections.OrderedDict((name, []) for name in decoders)
  with progress.Progress("evaluating", len(entries), unit="utterances",
                         delay_s=5.0) as bar:
    for batch in estimator.predict(input_fn=input_fn_eval,
                                   yield_single_examples=False,
                                   checkpoint_path=checkpoint_path):
      for name, the_decoder in decoders.items():
        decoded[name].extend(the_decoder.decode_batch(
            batch["probabilities"], batch["ctc_input_length"]))
      bar.update(len(batch["ctc_input_length"]))
  targets = [entry.transcript for entry in entries]
  if len(decoded[GREEDY]) != len(targets):
    raise RuntimeError("Evaluation produced %d transcripts for %d utterances"
                       % (len(decoded[GREEDY]), len(targets)))
  by_decoder = collections.OrderedDict()
  for name, texts in decoded.items():
    by_decoder[name] = scoring.compute_error_rates(texts, targets)
    by_decoder[name]["decoded"] = texts
    by_decoder[name]["decoder"] = decoder_label(name, decoders[name])
  results = dict(by_decoder[GREEDY], targets=targets, decoders=by_decoder)
  return results


def decisive_wer(record, kind):
  """The WER --wer_threshold and the best checkpoint follow, and its label.

  Args:
    record: a cycle record (`evaluate_cycle`'s).
    kind: the configured decoder ("greedy" or "beam"). A record written
      without that decoder's figures (an older cycle) gives greedy's.

  Returns:
    (WER, decoder label).
  """
  if kind != GREEDY and kind in record:
    return record[kind][WER_KEY], record[kind]["decoder"]
  return record[WER_KEY], GREEDY


def past_wer_threshold(threshold, wer):
  """Stops when WER is at or below the threshold (the seed had it inverted)."""
  return model_helpers.past_threshold(threshold, wer, higher_is_better=False)


def _metrics(eval_results):
  """The record's figures: greedy at the top (as ever), others by name."""
  metrics = {k: eval_results[k] for k in METRIC_KEYS}
  for name, results in eval_results["decoders"].items():
    if name != GREEDY:
      metrics[name] = dict({k: results[k] for k in METRIC_KEYS},
                           decoder=results["decoder"])
  return metrics


def _flat(metrics, prefix=""):
  """The figures flat: "WER", "beam_WER" (and "<set>_beam_WER")."""
  flat = {}
  for key, value in metrics.items():
    if isinstance(value, dict):
      flat.update(("%s%s_%s" % (prefix, key, k), value[k])
                  for k in METRIC_KEYS)
    else:
      flat[prefix + key] = value
  return flat


def _log_benchmark(metrics, global_step, extra_metrics=None):
  """Sends the figures to the benchmark logger, flat ("beam_WER")."""
  flat = _flat(metrics)
  for name, figures in (extra_metrics or {}).items():
    flat.update(_flat(figures, prefix=name + "_"))
  logger.get_benchmark_logger().log_evaluation_result(
      dict(flat, global_step=global_step))


def _evaluate_sets(estimator, extra_sets, decoders, title, train_loss,
                   show_samples, checkpoint_path=None):
  """Decodes, scores and logs each extra set; name -> its results."""
  results = collections.OrderedDict()
  for eval_set in extra_sets:
    speech = eval_set.speech_dataset
    with hooks.explain_graph_errors():
      results[eval_set.name] = evaluate_model(
          estimator, speech.speech_labels, speech.entries, eval_set.input_fn,
          decoders, checkpoint_path=checkpoint_path)
    log_evaluation(None, results[eval_set.name], train_loss, show_samples,
                   title="%s [%s]" % (title, eval_set.name))
  return results


def _write_outputs(model_dir, eval_results, decoders, eval_speech_dataset,
                   global_step, checkpoint, extra_sets, extra_results,
                   cycle=None, name=None, summarize=True):
  """The TensorBoard summaries (each set under its name) and the report."""
  speech_of = {s.name: s.speech_dataset for s in extra_sets}
  if summarize:
    _write_summaries(model_dir, eval_results, eval_speech_dataset,
                     global_step)
    for set_name, results in extra_results.items():
      _write_summaries(model_dir, results, speech_of[set_name], global_step,
                       tag_prefix=set_name)
  return _write_report(
      model_dir, eval_results, decoders, eval_speech_dataset, global_step,
      checkpoint, cycle=cycle, name=name, extra_sets={
          set_name: (results, speech_of[set_name].entries,
                     speech_of[set_name].config.data_path)
          for set_name, results in extra_results.items()})


def evaluate_cycle(estimator, input_fn_eval, eval_speech_dataset, cycle,
                   train_loss, train_seconds, show_samples, decoders=None,
                   model_dir=None, extra_sets=()):
  """Evaluates the cycle's checkpoint, logs and reports it.

  Args:
    estimator, input_fn_eval: the run's Estimator and evaluation input.
    eval_speech_dataset: the evaluation `DeepSpeechDataset`.
    cycle: the cycle's number, from 1.
    train_loss, train_seconds: the cycle's training figures.
    show_samples: reference/prediction pairs to log.
    decoders: `make_decoders`' dict (default: greedy only).
    model_dir: where the report goes (`<model_dir>/eval/`); None: none.
    extra_sets: `EvalSet`s evaluated after the dev set, with its decoders.

  Returns:
    The cycle record: greedy "WER", "CER", "corpus_WER", "corpus_CER" at
    the top level (as before the beam decoder), a beam decoder's figures
    under "beam" ({"decoder": "beam+LM", "WER", ...}), "cycle",
    "global_step", "train_loss", "train_seconds" and "eval_seconds" (all
    the sets'); with extra sets, "extra_eval": name -> the same figures
    as the dev set's ("WER", ..., "beam").
  """
  started = time.time()
  with hooks.explain_graph_errors():
    eval_results = evaluate_model(
        estimator, eval_speech_dataset.speech_labels,
        eval_speech_dataset.entries, input_fn_eval, decoders)
  eval_seconds = time.time() - started
  global_step = cycles.current_step(estimator)
  log_evaluation(cycle, eval_results, train_loss, show_samples)
  extra_results = _evaluate_sets(
      estimator, extra_sets, decoders, "Iteration {}".format(cycle),
      train_loss, show_samples)
  # The extra sets' time counts: --max_train_minutes predicts the next
  # cycle, evaluations included, from this one.
  eval_seconds = time.time() - started if extra_sets else eval_seconds
  metrics = _metrics(eval_results)
  extra_metrics = {name: _metrics(results)
                   for name, results in extra_results.items()}
  _log_benchmark(metrics, global_step, extra_metrics)
  if model_dir:
    _write_outputs(model_dir, eval_results, decoders, eval_speech_dataset,
                   global_step, estimator.latest_checkpoint(), extra_sets,
                   extra_results, cycle=cycle)
  record = dict(metrics, cycle=cycle, global_step=global_step,
                train_loss=train_loss, train_seconds=round(train_seconds, 2),
                eval_seconds=round(eval_seconds, 2))
  if extra_metrics:
    record["extra_eval"] = extra_metrics
  return record


def _write_summaries(model_dir, eval_results, eval_speech_dataset,
                     global_step, num_samples=3, tag_prefix=None):
  """TensorBoard's eval run: WER/CER per decoder, samples, a spectrogram."""
  per_decoder = collections.OrderedDict(
      (name, {k: results[k] for k in METRIC_KEYS})
      for name, results in eval_results["decoders"].items())
  entry = eval_speech_dataset.entries[0]
  audio = eval_speech_dataset.config.audio_config
  try:
    spectrogram = audio.featurize_file(entry.wav_filename)[:, :, 0]
  except (OSError, RuntimeError, ValueError) as e:
    logging.warning("No spectrogram image in TensorBoard: %s: %s",
                    entry.wav_filename, e)
    spectrogram = None
  summaries.write_eval_summaries(
      os.path.join(model_dir, summaries.EVAL_SUBDIR), global_step,
      summaries.decoder_metrics(per_decoder),
      samples=list(zip(eval_results["targets"],
                       eval_results["decoded"]))[:num_samples],
      spectrogram=spectrogram, transcript=entry.transcript,
      tag_prefix=tag_prefix)


def _write_report(model_dir, eval_results, decoders, eval_speech_dataset,
                  global_step, checkpoint, cycle=None, name=None,
                  extra_sets=None):
  report = report_lib.build_report(
      eval_results, eval_speech_dataset.entries, decoders,
      global_step=global_step, checkpoint=checkpoint,
      eval_data=eval_speech_dataset.config.data_path, cycle=cycle,
      extra_sets=extra_sets)
  path = report_lib.write_report(model_dir, report, name)
  logging.info("Evaluation report: %s", path)
  return path


def evaluate_checkpoint(estimator, checkpoint_path, input_fn_eval,
                        eval_speech_dataset, decoders, model_dir,
                        show_samples, extra_sets=()):
  """Evaluates one checkpoint without training (deep_speech.py --eval_only).

  Nothing in model_dir changes but `<model_dir>/eval/`: no lock, no
  roll-back, no train_state.json, so a training run may go on beside it.

  Args:
    estimator: an Estimator of the model (its model_dir is not trained).
    checkpoint_path: the checkpoint prefix to evaluate.
    input_fn_eval: the evaluation input function.
    eval_speech_dataset: the evaluation `DeepSpeechDataset`.
    decoders: `make_decoders`' dict.
    model_dir: where the report goes (`<model_dir>/eval/`).
    show_samples: reference/prediction pairs to log.
    extra_sets: `EvalSet`s evaluated after the dev set, into the report.

  Returns:
    (the evaluation's results as `evaluate_model` gives them, with extra
    sets their results under "extra_eval" by name; report path).
  """
  step = checkpoints.global_step_of(checkpoint_path)
  logging.info("Evaluating %s (step %d) on %s (%d utterances)",
               checkpoint_path, step, eval_speech_dataset.config.data_path,
               len(eval_speech_dataset.entries))
  with hooks.explain_graph_errors():
    eval_results = evaluate_model(
        estimator, eval_speech_dataset.speech_labels,
        eval_speech_dataset.entries, input_fn_eval, decoders,
        checkpoint_path=checkpoint_path)
  title = "Step {}".format(step)
  log_evaluation(None, eval_results, None, show_samples, title=title)
  extra_results = _evaluate_sets(estimator, extra_sets, decoders, title,
                                 None, show_samples, checkpoint_path)
  # No summaries: TensorBoard's eval run belongs to the training cycles.
  path = _write_outputs(
      model_dir, eval_results, decoders, eval_speech_dataset, step,
      checkpoint_path, extra_sets, extra_results,
      name=report_lib.eval_only_name(step,
                                     eval_speech_dataset.config.data_path),
      summarize=False)
  if extra_results:
    eval_results["extra_eval"] = extra_results
  return eval_results, path

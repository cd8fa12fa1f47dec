"""Evaluation: decode the dev set, score it, log it, record the cycle."""

import time

from absl import logging

from data import progress
from data import vocabulary
import decoder
from official_utils.logs import logger
from training import cycles
from training import hooks

# Evaluation metric keys.
_WER_KEY = "WER"
_CER_KEY = "CER"


def log_evaluation(iteration, eval_results, train_loss, show_samples):
  """The seed's `Iteration N: WER = x, CER = y` line, and more detail."""
  logging.info("Iteration {}: WER = {:.4f}, CER = {:.4f}".format(
      iteration, eval_results[_WER_KEY], eval_results[_CER_KEY]))
  logging.info("Iteration {}: corpus WER = {:.4f}, corpus CER = {:.4f}, "
               "mean train loss = {}".format(
                   iteration, eval_results["corpus_WER"],
                   eval_results["corpus_CER"],
                   "%.4f" % train_loss if train_loss is not None else "n/a"))
  pairs = zip(eval_results["targets"], eval_results["decoded"])
  for ref, hyp in list(pairs)[:show_samples]:
    logging.info("  reference : %s\n  prediction: %s", ref, hyp)


def evaluate_model(estimator, speech_labels, entries, input_fn_eval):
  """Greedy-decodes the evaluation set and scores it.

  Args:
    estimator: the trained `tf.estimator.Estimator`.
    speech_labels: the vocabulary as one string, in class order.
    entries: the evaluation entries, in the order input_fn_eval yields them.
    input_fn_eval: the evaluation input function.

  Returns:
    A dict with "WER" and "CER" (the seed's means over utterances),
    "corpus_WER" and "corpus_CER" (total errors / total reference length),
    and the transcripts as "decoded" and "targets".
  """
  greedy_decoder = decoder.DeepSpeechDecoder(
      speech_labels, blank_index=vocabulary.blank_index(speech_labels))
  decoded = []
  with progress.Progress("evaluating", len(entries), unit="utterances",
                         delay_s=5.0) as bar:
    for batch in estimator.predict(input_fn=input_fn_eval,
                                   yield_single_examples=False):
      texts = greedy_decoder.decode_batch(batch["probabilities"],
                                          batch["ctc_input_length"])
      decoded.extend(texts)
      bar.update(len(texts))
  targets = [entry.transcript for entry in entries]
  if len(decoded) != len(targets):
    raise RuntimeError("Evaluation produced %d transcripts for %d utterances"
                       % (len(decoded), len(targets)))
  results = decoder.compute_error_rates(decoded, targets)
  results["decoded"] = decoded
  results["targets"] = targets
  return results


def evaluate_cycle(estimator, input_fn_eval, eval_speech_dataset, cycle,
                   train_loss, train_seconds, show_samples):
  """Evaluates the cycle's checkpoint, logs it; returns the cycle record."""
  started = time.time()
  with hooks.clear_graph_errors():
    eval_results = evaluate_model(
        estimator, eval_speech_dataset.speech_labels,
        eval_speech_dataset.entries, input_fn_eval)
  eval_seconds = time.time() - started
  global_step = cycles.current_step(estimator)
  log_evaluation(cycle, eval_results, train_loss, show_samples)
  metrics = {k: eval_results[k] for k in
             (_WER_KEY, _CER_KEY, "corpus_WER", "corpus_CER")}
  logger.get_benchmark_logger().log_evaluation_result(
      dict(metrics, global_step=global_step))
  return dict(metrics, cycle=cycle, global_step=global_step,
              train_loss=train_loss, train_seconds=round(train_seconds, 2),
              eval_seconds=round(eval_seconds, 2))

"""Trains a configuration for a wall-clock budget and prints its WER curve.

    python bench/convergence.py --budget_minutes=20 \
        --train_data_dir=D/sample-train/LibriSpeech/sample-train.csv \
        --eval_data_dir=D/sample-dev/LibriSpeech/sample-dev.csv \
        --model_dir=/tmp/convergence --rnn_hidden_size=256 ...

Every deep_speech.py flag is accepted and describes the configuration. The
script trains one epoch per cycle through `deep_speech.run_deep_speech` (so
exactly the code users run), evaluates on the dev manifest after each epoch
and stops starting epochs once the next would pass the budget of training
time (evaluation time is not counted, but reported). The last line printed is
one JSON object:

    {"config": {...}, "epochs": N, "minutes": M, "dev_wer": corpus WER,
     "dev_cer": corpus CER, "curve": [[minutes, wer, cer], ...], ...}

The model directory is reused: re-running continues the same curve.
"""

import json
import os
import sys
import time
import types

from absl import app
from absl import flags
from absl import logging

# Runs as `python bench/convergence.py`: the project root holds deep_speech.py.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import cpu  # pylint: disable=g-import-not-at-top,wrong-import-position
import deep_speech  # pylint: disable=g-import-not-at-top,wrong-import-position
from official_utils.misc import model_helpers  # pylint: disable=g-import-not-at-top,wrong-import-position
from training import flags as port_flags  # pylint: disable=g-import-not-at-top,wrong-import-position
from training import runtime  # pylint: disable=g-import-not-at-top,wrong-import-position

_CONFIG_FLAGS = ("rnn_hidden_size", "rnn_hidden_layers", "rnn_type",
                 "conv_filters", "is_bidirectional", "use_bias", "batch_size",
                 "learning_rate", "learning_rate_decay_steps",
                 "learning_rate_decay_rate", "sample_rate", "window_ms",
                 "stride_ms", "sortagrad", "seed", "dtype", "length_buckets",
                 "freq_mask", "time_mask", "tempo_warp", "freq_warp",
                 "train_data_dir", "eval_data_dir")


def define_flags():
  port_flags.define_deep_speech_flags()
  flags.DEFINE_float("budget_minutes", 20.0,
                     "Training wall-clock budget in minutes.")
  flags.DEFINE_integer("max_epochs", 1000, "Stop after this many epochs.")


def _epoch_seconds(curve_rows):
  """Training seconds of the last epoch (the estimate for the next one)."""
  if not curve_rows:
    return 0.0
  if len(curve_rows) == 1:
    return curve_rows[0]["train_seconds"]
  return curve_rows[-1]["train_seconds"] - curve_rows[-2]["train_seconds"]


def run(flags_obj):
  """Trains epoch by epoch within the budget; returns the result dict."""
  budget = flags_obj.budget_minutes * 60.0
  values = flags_obj.flag_values_dict()
  values["epochs_between_evals"] = 1
  rows_path = os.path.join(flags_obj.model_dir, "convergence.json")
  rows = []
  if os.path.exists(rows_path):
    with open(rows_path) as f:
      rows = json.load(f)
  start_wall = time.time()
  while len(rows) < flags_obj.max_epochs:
    trained = rows[-1]["train_seconds"] if rows else 0.0
    if rows and trained + _epoch_seconds(rows) > budget:
      break
    epoch = len(rows) + 1
    values["train_epochs"] = epoch
    record = deep_speech.run_deep_speech(types.SimpleNamespace(**values))[-1]
    rows.append({
        "epoch": epoch,
        # Estimator.train time, graph building and checkpointing included;
        # evaluation is reported apart.
        "train_seconds": trained + record["train_seconds"],
        "eval_seconds": record["eval_seconds"],
        "global_step": record["global_step"],
        "train_loss": record.get("train_loss"),
        "wer": record["corpus_WER"], "cer": record["corpus_CER"],
        "utt_wer": record["WER"], "utt_cer": record["CER"],
    })
    os.makedirs(flags_obj.model_dir, exist_ok=True)
    with open(rows_path, "w") as f:
      json.dump(rows, f, indent=1)
    logging.info("convergence: epoch %d, %.1f training minutes, dev WER "
                 "%.4f, CER %.4f", epoch, rows[-1]["train_seconds"] / 60,
                 rows[-1]["wer"], rows[-1]["cer"])
    if model_helpers.past_threshold(flags_obj.wer_threshold, record["WER"],
                                    higher_is_better=False):
      break
  best = min(rows, key=lambda r: r["wer"]) if rows else None
  return {
      "config": {k: values[k] for k in _CONFIG_FLAGS},
      "epochs": len(rows),
      "minutes": round(rows[-1]["train_seconds"] / 60, 2) if rows else 0,
      "dev_wer": rows[-1]["wer"] if rows else None,
      "dev_cer": rows[-1]["cer"] if rows else None,
      "best_dev_wer": best["wer"] if best else None,
      "eval_minutes": round(sum(r["eval_seconds"] for r in rows) / 60, 2),
      "wall_minutes_this_run": round((time.time() - start_wall) / 60, 2),
      "curve": [[round(r["train_seconds"] / 60, 2), round(r["wer"], 4),
                 round(r["cer"], 4)] for r in rows],
  }


def main(_):
  runtime.setup_logging()
  cpu.enable_onednn_if_unset()
  result = run(flags.FLAGS)
  print(json.dumps(result))


if __name__ == "__main__":
  define_flags()
  app.run(main)

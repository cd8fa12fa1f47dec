"""Time to accuracy of the demo configuration (MLPerf's way of timing training).

    python bench/time_to_accuracy.py \
        --train_data_dir=demo_data/lm/sample-train-fit.csv \
        --eval_data_dir=demo_data/librispeech/sample-dev/LibriSpeech/sample-dev.csv \
        --model_dir=/tmp/tta --decoder=beam --lm_settings=demo_data/lm/lm_settings.json \
        --train_epochs=12 --dtype=bf16

Trains the demo's configuration (scripts/demo.flags, read first, so any flag
given after it wins) through `deep_speech.run_deep_speech`, one epoch per
cycle, and prints per epoch the minutes of training, the wall minutes
(training and the evaluation after it, as the demo spends them) and the dev
set's corpus WER/CER greedy and with the configured beam decoder; then the
minutes until the LM WER reached --target_lm_wer and the greedy CER reached
--target_greedy_cer (null when not reached). With --extra_eval_data_dir the
extra dev sets' figures are printed beside. The last line is one JSON object:

    {"config": {...}, "epochs": [{"epoch", "train_minutes", "wall_minutes",
     "greedy_wer", "greedy_cer", "lm_wer", "lm_cer", ...}, ...],
     "minutes_to_lm_wer": M or null, "minutes_to_greedy_cer": M or null, ...}

The model directory is reused: re-running with more epochs continues.
"""

import json
import os
import sys

from absl import app
from absl import flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from common import cpu  # pylint: disable=g-import-not-at-top,wrong-import-position
import deep_speech  # pylint: disable=g-import-not-at-top,wrong-import-position
from training import flags as port_flags  # pylint: disable=g-import-not-at-top,wrong-import-position
from training import runtime  # pylint: disable=g-import-not-at-top,wrong-import-position

DEMO_FLAGS = os.path.join(ROOT, "scripts", "demo.flags")
_CONFIG_FLAGS = ("rnn_hidden_size", "rnn_hidden_layers", "conv_filters",
                 "batch_size", "learning_rate", "learning_rate_decay_steps",
                 "window_ms", "dtype", "freq_mask", "time_mask", "tempo_warp",
                 "freq_warp", "decoder", "train_data_dir", "eval_data_dir")


def define_flags():
  port_flags.define_deep_speech_flags()
  flags.DEFINE_float("target_lm_wer", 0.40, "The LM (beam decoder) corpus "
                     "WER whose time is reported.", lower_bound=0.0)
  flags.DEFINE_float("target_greedy_cer", 0.30, "The greedy corpus CER whose "
                     "time is reported.", lower_bound=0.0)


def epoch_rows(records):
  """One row per cycle record: cumulative minutes and the dev figures."""
  rows, train_s, wall_s = [], 0.0, 0.0
  for record in records:
    train_s += record["train_seconds"]
    wall_s += record["train_seconds"] + record["eval_seconds"]
    beam = record.get("beam", {})
    row = {"epoch": record["cycle"], "train_minutes": round(train_s / 60, 2),
           "wall_minutes": round(wall_s / 60, 2),
           "greedy_wer": record["corpus_WER"],
           "greedy_cer": record["corpus_CER"],
           "lm_wer": beam.get("corpus_WER"), "lm_cer": beam.get("corpus_CER"),
           "decoder": beam.get("decoder")}
    for name, figures in sorted(record.get("extra_eval", {}).items()):
      row[name] = {"greedy_wer": figures["corpus_WER"],
                   "greedy_cer": figures["corpus_CER"],
                   "lm_wer": figures.get("beam", {}).get("corpus_WER"),
                   "lm_cer": figures.get("beam", {}).get("corpus_CER")}
    rows.append(row)
  return rows


def minutes_to(rows, key, target):
  """Training minutes at the first epoch whose `key` is <= target, or None."""
  for row in rows:
    if row[key] is not None and row[key] <= target:
      return row["train_minutes"]
  return None


def _line(row):
  text = "epoch %2d  %6.1f min training  %6.1f min wall  greedy WER %.3f " \
         "CER %.3f" % (row["epoch"], row["train_minutes"], row["wall_minutes"],
                       row["greedy_wer"], row["greedy_cer"])
  if row["lm_wer"] is not None:
    text += "  %s WER %.3f CER %.3f" % (row["decoder"], row["lm_wer"],
                                        row["lm_cer"])
  return text


def main(_):
  runtime.setup_logging()
  cpu.enable_onednn_if_unset()
  flags_obj = flags.FLAGS
  if flags_obj.epochs_between_evals != 1:
    sys.exit("time_to_accuracy.py: error: the curve needs "
             "--epochs_between_evals=1")
  records = deep_speech.run_deep_speech(flags_obj)
  rows = epoch_rows(records)
  for row in rows:
    print(_line(row))
  result = {
      "config": {k: getattr(flags_obj, k) for k in _CONFIG_FLAGS},
      "cpu": cpu.cpu_kind(),
      "epochs": rows,
      "target_lm_wer": flags_obj.target_lm_wer,
      "target_greedy_cer": flags_obj.target_greedy_cer,
      "minutes_to_lm_wer": minutes_to(rows, "lm_wer",
                                      flags_obj.target_lm_wer),
      "minutes_to_greedy_cer": minutes_to(rows, "greedy_cer",
                                          flags_obj.target_greedy_cer),
  }
  print(json.dumps(result))


if __name__ == "__main__":
  define_flags()
  # The demo's configuration first: flags on the command line override it.
  sys.argv.insert(1, "--flagfile=" + DEMO_FLAGS)
  app.run(main)

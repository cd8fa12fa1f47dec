#!/usr/bin/env bash
# The quickstart behind `make demo`: synthesize a small speech corpus, prepare
# it with data/download.py from a file:// mirror, train DeepSpeech2 on it with
# deep_speech.py (WER/CER printed after every epoch) and transcribe a few dev
# utterances with the exported model. Re-running reuses the corpus, the
# converted wavs and the checkpoints. Settings come from the environment:
#   DEMO_DIR (demo_data)  NUM_TRAIN  NUM_DEV  EPOCHS  PYTHON (.venv/bin/python)
#   DEMO_MINUTES (23: make demo's 25 less the venv; scripts/demo_plan.py)
#   MODEL_FLAGS (the demo configuration: model size, batch, learning rate)
#   DTYPE (bf16 on CPUs with AVX512_BF16 or AMX, where its step is ~1.3x
#   faster and the demo trains one epoch more; fp32 elsewhere)
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-.venv/bin/python}
DEMO_DIR=${DEMO_DIR:-demo_data}
NUM_DEV=${NUM_DEV:-200}
if [ -z "${DTYPE:-}" ]; then
  DTYPE=fp32
  if grep -qw -e avx512_bf16 -e amx_bf16 /proc/cpuinfo 2>/dev/null; then
    DTYPE=bf16
  fi
fi
# Unless NUM_TRAIN and EPOCHS are given, a few timed training steps and one
# flite call pick the corpus size and epochs that fit DEMO_MINUTES here (the
# tuned 12,000 utterances and 6 fp32 / 7 bf16 epochs where they fit; fewer on
# slower CPUs, e.g. without AVX-512). It prints what it chose and why.
if [ -z "${NUM_TRAIN:-}" ] && [ -z "${EPOCHS:-}" ]; then
  echo "== 0/4 timing this machine to fit the demo into ${DEMO_MINUTES:-23} minutes"
  eval "$(TF_CPP_MIN_LOG_LEVEL=2 "$PYTHON" scripts/demo_plan.py \
      --dtype="$DTYPE" --minutes="${DEMO_MINUTES:-23}" | tail -n 1)"
fi
NUM_TRAIN=${NUM_TRAIN:-12000}
if [ "$DTYPE" = bf16 ]; then EPOCHS=${EPOCHS:-7}; else EPOCHS=${EPOCHS:-6}; fi
# Picked by measurement (bench/convergence.py, README "How far 20 minutes of
# CPU go"): half the original's convolution channels and 10 ms windows for
# speed, batch 32, a learning rate halving every 2000 steps, and masking plus
# tempo/frequency warping against memorizing the recordings (the best
# 20-minute curve: dev WER 0.66 / CER 0.24 on 13,000 utterances).
MODEL_FLAGS=${MODEL_FLAGS:---rnn_hidden_layers=3 --rnn_hidden_size=256 --conv_filters=16 --batch_size=32 --learning_rate=1.5e-3 --learning_rate_decay_steps=2000 --window_ms=10 --freq_mask=8 --time_mask=10 --tempo_warp=0.1 --freq_warp=0.1}
# TensorFlow's C++ notices (oneDNN, CPU features) are not the demo's news.
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-1}
CORPUS=$DEMO_DIR/corpus
DATA=$DEMO_DIR/librispeech
mkdir -p "$DEMO_DIR"

echo "== 1/4 synthesizing the sample corpus ($NUM_TRAIN train, $NUM_DEV dev utterances)"
"$PYTHON" data/sample_corpus.py --data_dir="$CORPUS" --num_train="$NUM_TRAIN" \
    --num_dev="$NUM_DEV" --vocab_size=3000 --train_vocab_size=5000 --seed=1

ABS_CORPUS=$(cd "$CORPUS" && pwd)
echo "== 2/4 preparing it with data/download.py (file:// mirror, checksums verified)"
"$PYTHON" data/download.py --data_dir="$DATA" --base_url="file://$ABS_CORPUS" \
    --checksum_file="$ABS_CORPUS/md5sum.txt" \
    --subsets=sample-train,sample-dev --keep_archives

TRAIN=$DATA/sample-train/LibriSpeech/sample-train.csv
DEV=$DATA/sample-dev/LibriSpeech/sample-dev.csv
echo "== 3/4 training ($EPOCHS epochs, --dtype=$DTYPE; WER/CER after each)"
"$PYTHON" deep_speech.py --train_data_dir="$TRAIN" --eval_data_dir="$DEV" \
    --model_dir="$DEMO_DIR/model" --export_dir="$DEMO_DIR/export" \
    --train_epochs="$EPOCHS" $MODEL_FLAGS --dtype="$DTYPE" --show_samples=2 \
    --feature_cache_dir="$DEMO_DIR/features" 2>&1 |
  grep --line-buffered -E "Iteration|reference|prediction|cycle|Cycle|rror|skipped"

echo "== 4/4 transcribing dev utterances with the exported model"
"$PYTHON" transcribe.py --saved_model="$DEMO_DIR/export" --manifest="$DEV" --num=8

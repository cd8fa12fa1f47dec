#!/usr/bin/env bash
# The quickstart behind `make demo`: synthesize a small speech corpus, prepare
# it with data/download.py from a file:// mirror, train DeepSpeech2 on it with
# deep_speech.py (WER/CER printed after every epoch) and transcribe a few dev
# utterances with the exported model; with a character 6-gram of the
# training transcripts and more English text, tuned on held-out training
# rows, next to greedy decoding (the "LM" steps). Re-running reuses the corpus, the
# converted wavs and the checkpoints. Settings come from the environment:
#   DEMO_DIR (demo_data)  NUM_TRAIN  NUM_DEV  EPOCHS  PYTHON (.venv/bin/python)
#   DEMO_MINUTES (make demo's 25 less the time since DEMO_T0, when make set
#   it, else 23; scripts/demo_plan.py fits the demo into it and training
#   stops in time for the steps after it: deep_speech.py --max_train_minutes)
#   MODEL_FLAGS (--flagfile=scripts/demo.flags: model size, batch, learning
#   rate, augmentation)
#   REAL_SPEECH (0; 1: real speech too, see below)  REAL_ROWS  UQM_DIR
#   DTYPE (bf16 on CPUs with AVX512_BF16 or AMX, where its step is faster
#   and the demo trains one epoch more; fp32 elsewhere)
set -euo pipefail
cd "$(dirname "$0")"
START=$(date +%s)
if [ -z "${DEMO_MINUTES:-}" ]; then
  DEMO_MINUTES=23
  if [ -n "${DEMO_T0:-}" ]; then  # make demo: the venv's time counts too.
    DEMO_MINUTES=$(awk -v t0="$DEMO_T0" -v now="$START" \
        'BEGIN { printf "%.2f", 25 - (now - t0) / 60 }')
  fi
fi
# Wall seconds per stage, printed beside the plan's at the end.
STAGE_START=$START
ACTUAL=()
stage_done() {
  local now; now=$(date +%s)
  ACTUAL+=("$1=$(( now - STAGE_START ))")
  STAGE_START=$now
}
minutes_left() {  # The budget's minutes not yet used.
  awk -v m="$DEMO_MINUTES" -v t0="$START" -v now="$(date +%s)" \
      'BEGIN { printf "%.2f", m - (now - t0) / 60 }'
}

PYTHON=${PYTHON:-.venv/bin/python}
DEMO_DIR=${DEMO_DIR:-demo_data}
NUM_DEV=${NUM_DEV:-200}
if [ -z "${DTYPE:-}" ]; then
  DTYPE=fp32
  if grep -qw -e avx512_bf16 -e amx_bf16 /proc/cpuinfo 2>/dev/null; then
    DTYPE=bf16
  fi
fi
# Unless NUM_TRAIN and EPOCHS are given, a few timed training steps and a few
# utterances of every voice pick the corpus size and epochs that fit
# DEMO_MINUTES here (the tuned 12,000 utterances and 6 fp32 / 7 bf16 epochs
# where they fit, more epochs (up to 12) where time is left over; fewer on
# slower CPUs, e.g. without AVX-512). It prints what it chose and why.
EPOCHS_GIVEN=${EPOCHS:-}
if [ -z "${NUM_TRAIN:-}" ] && [ -z "${EPOCHS:-}" ]; then
  echo "== 0/4 timing this machine to fit the demo into $DEMO_MINUTES minutes"
  PLAN_REAL_ROWS=0
  if [ "${REAL_SPEECH:-0}" = 1 ]; then PLAN_REAL_ROWS=${REAL_ROWS:-0}; fi
  eval "$(TF_CPP_MIN_LOG_LEVEL=2 "$PYTHON" scripts/demo_plan.py \
      --dtype="$DTYPE" --minutes="$DEMO_MINUTES" \
      --real_speech="${REAL_SPEECH:-0}" --real_rows="$PLAN_REAL_ROWS" | tail -n 1)"
fi
NUM_TRAIN=${NUM_TRAIN:-12000}
if [ "$DTYPE" = bf16 ]; then EPOCHS=${EPOCHS:-7}; else EPOCHS=${EPOCHS:-6}; fi
# The demo configuration (model size, batch, learning rate, augmentation):
# scripts/demo.flags, its one home.
MODEL_FLAGS=${MODEL_FLAGS:---flagfile=scripts/demo.flags}
# TensorFlow's C++ notices (oneDNN, CPU features) are not the demo's news.
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-1}
CORPUS=$DEMO_DIR/corpus
DATA=$DEMO_DIR/librispeech
mkdir -p "$DEMO_DIR"

stage_done plan
echo "== 1/4 synthesizing the sample corpus ($NUM_TRAIN train, $NUM_DEV dev utterances)"
"$PYTHON" data/sample_corpus.py --data_dir="$CORPUS" --num_train="$NUM_TRAIN" \
    --num_dev="$NUM_DEV" --vocab_size=3000 --train_vocab_size=5000 --seed=1

stage_done synthesis
# ---- Real speech (REAL_SPEECH=1) ------------------------------------------
# The Ur-Quan Masters voice pack (Debian non-free, fetched through a private
# apt sources list; data/download.py --dataset=uqm): real voices beside the
# synthesized ones in training, and a second dev set of speakers (races)
# never trained on, reported after every epoch. REAL_ROWS caps the real
# training rows (0: all); UQM_DIR reads an unpacked copy instead of fetching.
# Where it cannot be had, the demo says so and trains on synthesized speech
# alone.
REAL_SPEECH=${REAL_SPEECH:-0}
REAL_ROWS=${REAL_ROWS:-0}
UQM_FLAGS=()
if [ -n "${UQM_DIR:-}" ]; then UQM_FLAGS=(--uqm_dir="$UQM_DIR"); fi
REAL_FIT=
REAL_DEV=
if [ "$REAL_SPEECH" = 1 ]; then
  echo "== 1b/4 real speech: The Ur-Quan Masters voice pack (data/download.py --dataset=uqm)"
  if "$PYTHON" data/download.py --dataset=uqm --data_dir="$DEMO_DIR/real" "${UQM_FLAGS[@]}"; then
    REAL_FIT=$DEMO_DIR/real/uqm/uqm-train.csv
    REAL_DEV=$DEMO_DIR/real/uqm/uqm-dev.csv
    if [ "$REAL_ROWS" -gt 0 ]; then  # every k-th row: all speakers stay
      REAL_FIT=$DEMO_DIR/real/uqm-train-$REAL_ROWS.csv
      awk -v want="$REAL_ROWS" 'NR == FNR { n++; next }
          FNR == 1 { k = (n - 1) / want; if (k < 1) k = 1; print; next }
          (FNR - 2) % k < 1 { print }' \
          "$DEMO_DIR/real/uqm/uqm-train.csv" "$DEMO_DIR/real/uqm/uqm-train.csv" \
          > "$REAL_FIT.tmp"
      mv "$REAL_FIT.tmp" "$REAL_FIT"
    fi
  else
    echo "== real speech cannot be had here (see above): training on synthesized speech alone"
  fi
fi

stage_done real_speech
ABS_CORPUS=$(cd "$CORPUS" && pwd)
echo "== 2/4 preparing the synthesized corpus with data/download.py (file:// mirror, checksums verified)"
"$PYTHON" data/download.py --data_dir="$DATA" --base_url="file://$ABS_CORPUS" \
    --checksum_file="$ABS_CORPUS/md5sum.txt" \
    --subsets=sample-train,sample-dev --keep_archives

TRAIN=$DATA/sample-train/LibriSpeech/sample-train.csv
DEV=$DATA/sample-dev/LibriSpeech/sample-dev.csv

# ---- [LM block A] held-out tuning rows and a character 6-gram -------------
# The last NUM_TUNE training rows are held out of training to tune the LM
# weights on (never the dev set the demo reports). The LM is a character
# 6-gram (it spells any word, where a word n-gram can only swap a word it
# never saw for one it did) of the transcripts of the rows trained on and the
# sentence pool the corpus is drawn from, with the sentences of both dev sets
# and of the tuning rows dropped: on both dev sets it beat a word 4-gram of
# either text (bench/lm_choice.py, docs/demo.md).
# LM_ALPHA/LM_BETA: the weights of the per-epoch LM figures (tuned ones come
# after training, below).
NUM_TUNE=${NUM_TUNE:-200}
LM_ALPHA=${LM_ALPHA:-1.5}
LM_BETA=${LM_BETA:-0.0}
LM_DIR=$DEMO_DIR/lm
mkdir -p "$LM_DIR"
FIT=$LM_DIR/sample-train-fit.csv
TUNE=$LM_DIR/sample-train-tune.csv
ROWS=$(( $(wc -l < "$TRAIN") - 1 ))
if [ "$NUM_TUNE" -gt $(( ROWS / 5 )) ]; then  # Tiny corpora: a fifth at most.
  NUM_TUNE=$(( ROWS / 5 > 0 ? ROWS / 5 : 1 ))
fi
if [ ! -s "$TUNE" ] || [ "$TRAIN" -nt "$TUNE" ] ||
   [ "$(( $(wc -l < "$TUNE") - 1 ))" -ne "$NUM_TUNE" ]; then
  { head -n 1 "$TRAIN"; tail -n +2 "$TRAIN" | head -n -"$NUM_TUNE"; } > "$FIT.tmp"
  { head -n 1 "$TRAIN"; tail -n +2 "$TRAIN" | tail -n "$NUM_TUNE"; } > "$TUNE.tmp"
  mv "$FIT.tmp" "$FIT" && mv "$TUNE.tmp" "$TUNE"
fi
TRAIN=$FIT
LM=$LM_DIR/char6.arpa
LM_SOURCES=(--manifest="$FIT" --synthesis_text --exclude_manifest="$DEV"
            --exclude_manifest="$TUNE")
EVAL_FLAGS=()
if [ -n "$REAL_FIT" ]; then
  # Both kinds of speech in training; both dev sets kept out of the LM.
  TRAIN=$LM_DIR/train-synthesized-and-real.csv
  if [ ! -s "$TRAIN" ] || [ "$FIT" -nt "$TRAIN" ] || [ "$REAL_FIT" -nt "$TRAIN" ]; then
    "$PYTHON" data/manifest_tool.py concat "$FIT" "$REAL_FIT" --output="$TRAIN"
  fi
  LM_SOURCES+=(--manifest="$REAL_FIT" --exclude_manifest="$REAL_DEV")
  EVAL_FLAGS=(--extra_eval_data_dir="real-dev=$REAL_DEV")
fi
echo "== LM 1/3 building a character 6-gram of the training transcripts and the corpus's sentence pool ($NUM_TUNE rows held out for tuning)"
if [ ! -s "$LM" ] || [ "$TRAIN" -nt "$LM" ]; then
  "$PYTHON" data/build_lm.py "${LM_SOURCES[@]}" \
      --unit=char --order=6 --lm_out="$LM" 2>&1 |
    grep --line-buffered -E "Wrote|rror"
fi
LM_FLAGS="--decoder=beam --lm_path=$LM --lm_alpha=$LM_ALPHA --lm_beta=$LM_BETA"
# ---- [end LM block A] -----------------------------------------------------
stage_done preparation
# Unless EPOCHS is given, training goes on (up to 12 epochs) while epochs fit
# the time left, less what the steps after training need (the plan's
# estimate): the real epochs correct the plan's estimate of them.
TRAIN_EPOCHS=$EPOCHS
BUDGET_FLAGS=
if [ -z "$EPOCHS_GIVEN" ]; then
  TRAIN_EPOCHS=12
  TRAIN_MINUTES=$(awk -v left="$(minutes_left)" -v after="${PLAN_AFTER_TRAINING_S:-60}" \
      'BEGIN { m = left - after / 60; printf "%.2f", (m > 0.1 ? m : 0.1) }')
  BUDGET_FLAGS="--max_train_minutes=$TRAIN_MINUTES"
  echo "== 3/4 training (while epochs fit $TRAIN_MINUTES minutes, up to $TRAIN_EPOCHS; ~$EPOCHS expected; --dtype=$DTYPE; WER/CER after each)"
else
  echo "== 3/4 training ($EPOCHS epochs, --dtype=$DTYPE; WER/CER after each)"
fi
"$PYTHON" deep_speech.py --train_data_dir="$TRAIN" --eval_data_dir="$DEV" \
    --model_dir="$DEMO_DIR/model" --export_dir="$DEMO_DIR/export" \
    --train_epochs="$TRAIN_EPOCHS" $BUDGET_FLAGS $MODEL_FLAGS --dtype="$DTYPE" --show_samples=2 \
    --feature_cache_dir="$DEMO_DIR/features" $LM_FLAGS "${EVAL_FLAGS[@]}" 2>&1 |
  grep --line-buffered -E "Iteration|reference|prediction|cycle|Cycle|rror|skipped"
stage_done training

# ---- [LM block B] tune alpha/beta, dev WER greedy vs LM ------------------
SETTINGS=$LM_DIR/lm_settings.json
# KenLM's notes on stderr each time a process loads the ARPA file.
KENLM_NOTES='^\*\*\*\|Loading the LM will be faster\|^Reading \|^----5\|missing <unk>'
echo "== LM 2/3 tuning the LM weights on the $NUM_TUNE held-out training utterances"
HELD_OUT=(--exclude_manifest="$DEV" --exclude_manifest="$FIT")
if [ -n "$REAL_FIT" ]; then
  HELD_OUT+=(--exclude_manifest="$REAL_FIT" --exclude_manifest="$REAL_DEV")
fi
"$PYTHON" tune_lm.py --saved_model="$DEMO_DIR/export" --manifest="$TUNE" \
    "${HELD_OUT[@]}" --lm_path="$LM" \
    --alpha_min=0 --alpha_max=2 --alpha_steps=5 --beta_min=-2 --beta_max=2 \
    --beta_steps=5 --outputs_cache="$LM_DIR/tune_outputs.npz" \
    --lm_settings_out="$SETTINGS" 2>&1 | grep --line-buffered -v -e "$KENLM_NOTES"
echo "== LM 3/3 dev WER/CER greedy and with the tuned LM (--eval_only)"
"$PYTHON" deep_speech.py --eval_only --train_data_dir="$TRAIN" --eval_data_dir="$DEV" \
    --model_dir="$DEMO_DIR/model" --export_dir= $MODEL_FLAGS --dtype="$DTYPE" \
    --decoder=beam --lm_settings="$SETTINGS" --show_samples=0 "${EVAL_FLAGS[@]}" 2>&1 |
  grep --line-buffered -E "Iteration|WER|rror"
# ---- [end LM block B] -----------------------------------------------------

echo "== 4/4 transcribing dev utterances with the exported model"
"$PYTHON" transcribe.py --saved_model="$DEMO_DIR/export" --manifest="$DEV" --num=8 \
    --decoder=greedy  # The export also carries the LM; greedy first.

# ---- [LM block C] the same utterances with the tuned LM ------------------
echo "== the same dev utterances, beam search with the tuned character LM"
"$PYTHON" transcribe.py --saved_model="$DEMO_DIR/export" --manifest="$DEV" --num=8 \
    --decoder=beam --lm_settings="$SETTINGS" 2>&1 | grep -v -e "$KENLM_NOTES"
if [ -n "$REAL_DEV" ]; then
  echo "== real speech: dev utterances of speakers never trained on, with the tuned character LM"
  "$PYTHON" transcribe.py --saved_model="$DEMO_DIR/export" --manifest="$REAL_DEV" --num=4 \
      --decoder=beam --lm_settings="$SETTINGS" 2>&1 | grep -v -e "$KENLM_NOTES"
fi
# ---- [end LM block C] -----------------------------------------------------
stage_done after_training

# Planned against actual minutes per stage (the plan only when it ran).
echo "== minutes per stage (planned / actual)"
for entry in "${ACTUAL[@]}"; do
  name=${entry%%=*}
  seconds=${entry#*=}
  var="PLAN_$(echo "$name" | tr '[:lower:]' '[:upper:]')_S"
  planned=${!var:-}
  awk -v n="$name" -v p="$planned" -v a="$seconds" 'BEGIN {
      printf "  %-15s %6s / %5.1f\n", n, (p == "" ? "-" : sprintf("%.1f", p / 60)), a / 60 }'
done
awk -v t0="$START" -v now="$(date +%s)" -v m="$DEMO_MINUTES" \
    'BEGIN { printf "  %-15s %6.1f / %5.1f\n", "total", m, (now - t0) / 60 }'

#!/usr/bin/env bash
# The longer recipe beside the demo (`make train-real`): trains the demo's
# network further on synthesized and real speech, starting from the demo's
# weights, with room, babble, gain and telephone augmentation
# (scripts/train_real.flags), reporting both dev sets after every epoch; then
# tunes the LM on the demo's held-out training rows and reports both dev sets
# greedy and with the tuned LM. Run `REAL_SPEECH=1 make demo` first: it
# prepares both corpora, the held-out rows and the LM this reuses.
# Re-running resumes where the last run stopped. Settings from the environment:
#   DEMO_DIR (demo_data)  OUT_DIR ($DEMO_DIR/train-real)
#   TRAIN_MINUTES (180: training stops before an epoch that would end later)
#   EPOCHS (40: at most)  DTYPE (as the demo's)  PYTHON (.venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
DEMO_DIR=${DEMO_DIR:-demo_data}
OUT_DIR=${OUT_DIR:-$DEMO_DIR/train-real}
TRAIN_MINUTES=${TRAIN_MINUTES:-180}
EPOCHS=${EPOCHS:-40}
if [ -z "${DTYPE:-}" ]; then
  DTYPE=fp32
  if grep -qw -e avx512_bf16 -e amx_bf16 /proc/cpuinfo 2>/dev/null; then
    DTYPE=bf16
  fi
fi
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-1}
LM_DIR=$DEMO_DIR/lm
TRAIN=$LM_DIR/train-synthesized-and-real.csv
TUNE=$LM_DIR/sample-train-tune.csv
FIT=$LM_DIR/sample-train-fit.csv
LM=$LM_DIR/char6.arpa
DEV=$DEMO_DIR/librispeech/sample-dev/LibriSpeech/sample-dev.csv
REAL_FIT=$DEMO_DIR/real/uqm/uqm-train.csv
REAL_DEV=$DEMO_DIR/real/uqm/uqm-dev.csv
for f in "$TRAIN" "$TUNE" "$LM" "$DEV" "$REAL_DEV" "$DEMO_DIR/model/checkpoint"; do
  if [ ! -s "$f" ]; then
    echo "train_real.sh: $f is missing: run REAL_SPEECH=1 make demo first" \
         "(it prepares both corpora, the held-out rows, the LM and the model" \
         "this starts from)" >&2
    exit 2
  fi
done
mkdir -p "$OUT_DIR"
FLAGS=(--flagfile=scripts/train_real.flags --dtype="$DTYPE"
       --train_data_dir="$TRAIN" --eval_data_dir="$DEV"
       --extra_eval_data_dir="real-dev=$REAL_DEV"
       --model_dir="$OUT_DIR/model" --feature_cache_dir="$DEMO_DIR/features")
echo "== 1/3 training (up to $EPOCHS epochs while they fit $TRAIN_MINUTES minutes; from $DEMO_DIR/model's weights)"
"$PYTHON" deep_speech.py "${FLAGS[@]}" --export_dir="$OUT_DIR/export" \
    --warm_start_from="$DEMO_DIR/model" --train_epochs="$EPOCHS" \
    --max_train_minutes="$TRAIN_MINUTES" --show_samples=2 \
    --decoder=beam --lm_path="$LM" --lm_alpha=1.5 --lm_beta=0.0 2>&1 |
  grep --line-buffered -E "Iteration|reference|prediction|cycle|Cycle|rror|skipped|warm"

SETTINGS=$OUT_DIR/lm_settings.json
KENLM_NOTES='^\*\*\*\|Loading the LM will be faster\|^Reading \|^----5\|missing <unk>'
echo "== 2/3 tuning the LM weights on the demo's held-out training utterances"
"$PYTHON" tune_lm.py --saved_model="$OUT_DIR/export" --manifest="$TUNE" \
    --exclude_manifest="$DEV" --exclude_manifest="$FIT" \
    --exclude_manifest="$REAL_FIT" --exclude_manifest="$REAL_DEV" \
    --lm_path="$LM" --alpha_min=0 --alpha_max=2 --alpha_steps=5 \
    --beta_min=-2 --beta_max=2 --beta_steps=5 \
    --outputs_cache="$OUT_DIR/tune_outputs.npz" \
    --lm_settings_out="$SETTINGS" 2>&1 | grep --line-buffered -v -e "$KENLM_NOTES"
echo "== 3/3 both dev sets, greedy and with the tuned LM (--eval_only)"
"$PYTHON" deep_speech.py "${FLAGS[@]}" --eval_only --export_dir= \
    --decoder=beam --lm_settings="$SETTINGS" --show_samples=0 2>&1 |
  grep --line-buffered -E "Iteration|WER|rror"
echo "== transcribe your own voice with it:"
echo "  sox -d -r 16000 -c 1 -b 16 me.wav trim 0 5 && $PYTHON transcribe.py --saved_model=$OUT_DIR/export --lm_settings=$SETTINGS me.wav"

#!/usr/bin/env bash
# The original's recipe: download and prepare all of LibriSpeech, concatenate
# the three training and the two dev manifests, drop clips longer than 27 s,
# then train and evaluate until the dev WER reaches 0.23 (the MLPerf target).
#
#   ./run_deep_speech.sh [--dry_run]
#
# Every step is safe to re-run: the download skips finished subsets and the
# manifests are rewritten whole. Settings come from the environment:
#   DATA_DIR        (/tmp/librispeech_data) corpus and manifests
#   MODEL_DIR       (/tmp/deep_speech_model/) checkpoints
#   MAX_AUDIO_SEC   (27) longest clip kept, in seconds
#   PYTHON          (python3)
#   DOWNLOAD_FLAGS  more data/download.py flags, e.g. --base_url=<mirror>
#   EXTRA_FLAGS     more deep_speech.py flags (they come last, so they win)
#   TRAIN_CMD       the trainer ("$PYTHON deep_speech.py"), run from the
#                   repository root
#   DRY_RUN=1       print the commands, run nothing (as --dry_run does)
# DOWNLOAD_FLAGS, EXTRA_FLAGS and TRAIN_CMD are split on whitespace.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/{/^#/{s/^# \{0,1\}//;p;};}' "${BASH_SOURCE[0]}"
}

DRY_RUN=${DRY_RUN:-0}
for arg in "$@"; do
  case $arg in
    --dry_run) DRY_RUN=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run_deep_speech.sh: error: unknown argument '$arg'; settings" \
            "come from the environment (see --help)" >&2
       exit 2 ;;
  esac
done
case $DRY_RUN in
  0|1) ;;
  *) echo "run_deep_speech.sh: error: DRY_RUN must be 0 or 1, got" \
          "'$DRY_RUN'" >&2
     exit 2 ;;
esac

PYTHON=${PYTHON:-python3}
DATA_DIR=${DATA_DIR:-/tmp/librispeech_data}
MODEL_DIR=${MODEL_DIR:-/tmp/deep_speech_model/}
MAX_AUDIO_SEC=${MAX_AUDIO_SEC:-27}
read -r -a download_flags <<< "${DOWNLOAD_FLAGS:-}"
read -r -a extra_flags <<< "${EXTRA_FLAGS:-}"
read -r -a train_cmd <<< "${TRAIN_CMD:-$PYTHON deep_speech.py}"
# The commands run from the repository root; relative directories are the
# caller's.
case $DATA_DIR in /*) ;; *) DATA_DIR=$PWD/$DATA_DIR ;; esac
case $MODEL_DIR in /*) ;; *) MODEL_DIR=$PWD/$MODEL_DIR ;; esac
cd "$(dirname "${BASH_SOURCE[0]}")"

# Prints a command as one shell-quoted line, then runs it unless DRY_RUN.
run() {
  printf '+'
  printf ' %q' "$@"
  printf '\n'
  if [ "$DRY_RUN" = 0 ]; then
    "$@"
  fi
}

manifest() {  # <subset>: the manifest data/download.py writes for it
  echo "$DATA_DIR/$1/LibriSpeech/$1.csv"
}

echo "Data downloading..."
run "$PYTHON" data/download.py --data_dir="$DATA_DIR" "${download_flags[@]}"

echo "Data preprocessing..."
train_file=$DATA_DIR/train_dataset.csv
eval_file=$DATA_DIR/eval_dataset.csv
run "$PYTHON" data/manifest_tool.py concat "$(manifest train-clean-100)" \
    "$(manifest train-clean-360)" "$(manifest train-other-500)" \
    --output="$train_file"
run "$PYTHON" data/manifest_tool.py concat "$(manifest dev-clean)" \
    "$(manifest dev-other)" --output="$eval_file"

final_train_file=$DATA_DIR/final_train_dataset.csv
final_eval_file=$DATA_DIR/final_eval_dataset.csv
run "$PYTHON" data/manifest_tool.py filter "$train_file" \
    --max_audio_sec="$MAX_AUDIO_SEC" --output="$final_train_file"
run "$PYTHON" data/manifest_tool.py filter "$eval_file" \
    --max_audio_sec="$MAX_AUDIO_SEC" --output="$final_eval_file"

echo "Model training and evaluation..."
start=$(date +%s)
run "${train_cmd[@]}" --model_dir="$MODEL_DIR" \
    --train_data_dir="$final_train_file" --eval_data_dir="$final_eval_file" \
    --num_gpus=-1 --wer_threshold=0.23 --seed=1 "${extra_flags[@]}"
end=$(date +%s)
if [ "$DRY_RUN" = 0 ]; then
  echo "Model training time is $((end - start)) seconds."
fi

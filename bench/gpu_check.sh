#!/usr/bin/env bash
# Run this first on a new GPU machine (meant to take minutes on one GPU):
#   bench/gpu_check.sh            # PYTHON=/path/to/python to pick another one
# It prints TensorFlow's view of the GPUs, whether the GRUs ran on cuDNN,
# float32/float16/bfloat16 step times of the 5 x 800 network at batch 64, a
# short training run that must lower the loss, and an export that transcribes;
# the last line is one JSON object ("ok": true when all of that held). Without
# a GPU it runs a reduced CPU mode and says so. Exit status 1 when not ok.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
if [ ! -x "$PYTHON" ]; then PYTHON=$(command -v python3); fi
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
exec "$PYTHON" bench/gpu_check.py "$@"

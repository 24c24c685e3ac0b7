#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: install onnxruntime-gpu in a fresh venv, check that cleancut
# finds and chooses the CUDA/TensorRT backends, that their masks match the CPU's, and time batch
# throughput (fp32, and fp16 through TensorRT). Prints a table; exits non-zero if a check fails.
#
# Offline machines: put the wheels in .whl/ (pip download ... -d .whl) and the model cache in
# .model/ (cp ~/.cache/cleancut/u2netp.onnx .model/), then run with WHEELS=.whl CLEANCUT_HOME=.model.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${TMPDIR:-/tmp}/cleancut-gpu-venv"
python3 -m venv "$venv"
. "$venv/bin/activate"
pip_args=(--quiet)
if [ -n "${WHEELS:-}" ]; then pip_args+=(--no-index --find-links "$WHEELS"); fi
pip install "${pip_args[@]}" . scikit-image
# onnxruntime-gpu provides the same `onnxruntime` module: the CPU package must go first.
pip uninstall --yes --quiet onnxruntime
pip install "${pip_args[@]}" onnxruntime-gpu
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python benchmarks/gpu_check.py

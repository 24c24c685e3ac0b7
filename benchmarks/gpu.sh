#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: install onnxruntime-gpu, check that cleancut finds and chooses
# the CUDA/TensorRT backends, that their masks match the CPU's, and time batch throughput (fp32 and
# fp16). Prints a table; exits non-zero if a check fails.
#
# Online: `benchmarks/gpu.sh` makes a fresh venv and installs everything from PyPI.
# Offline (a machine whose Python already has numpy, Pillow, scikit-image, onnx, CUDA 13 and cuDNN
# libraries and the build tools): put the missing wheels in a folder (pip download --no-deps onnxruntime-gpu isal
# platformdirs -d .whl) and the model in another (cp ~/.cache/cleancut/u2netp.onnx .model/), then
# run `WHEELS=.whl CLEANCUT_HOME=.model benchmarks/gpu.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${WHEELS:-}" ]; then
    # Installed beside the system Python's packages; onnxruntime-gpu shadows a CPU onnxruntime there.
    site="${TMPDIR:-/tmp}/cleancut-gpu-site"
    python3 -m pip install --quiet --no-index --no-deps --target "$site" --find-links "$WHEELS" onnxruntime-gpu isal platformdirs
    python3 -m pip install --quiet --no-index --no-deps --no-build-isolation --target "$site" .
    export PYTHONPATH="$site"
else
    venv="${TMPDIR:-/tmp}/cleancut-gpu-venv"
    python3 -m venv "$venv"
    . "$venv/bin/activate"
    pip install --quiet . scikit-image
    # onnxruntime-gpu provides the same `onnxruntime` module: the CPU package must go first.
    pip uninstall --yes --quiet onnxruntime
    pip install --quiet "onnxruntime-gpu[cuda,cudnn]"
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 benchmarks/gpu_check.py

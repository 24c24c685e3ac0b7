#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: install onnxruntime-gpu, check that cleancut finds and chooses
# the CUDA/TensorRT backends, that their masks match the CPU's, and time batch throughput (fp32 and
# fp16). Prints a table; exits non-zero if a check fails.
#
# Online: `benchmarks/gpu.sh` makes a fresh venv and installs everything from PyPI.
# Offline (a machine whose Python already has numpy, Pillow, scikit-image, onnx, CUDA 13 and cuDNN
# libraries and the build tools): put the missing wheels in a folder (pip download --no-deps onnxruntime-gpu isal simplejpeg
# platformdirs -d .whl) and the model in another (cp ~/.cache/cleancut/u2netp.onnx .model/), then
# run `WHEELS=.whl CLEANCUT_HOME=.model benchmarks/gpu.sh`. Where no more than 64 MiB can be
# carried (the workplace's device tool), `python benchmarks/gpu_pack.py` makes .gpu1/ort.tar.xz
# (onnxruntime-gpu cut down to one GPU architecture), .whl and .model: then add ORT_TARBALL=.gpu1/ort.tar.xz.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${WHEELS:-}" ]; then
    # Installed beside the system Python's packages; onnxruntime-gpu shadows a CPU onnxruntime there.
    site="${TMPDIR:-/tmp}/cleancut-gpu-site"
    mkdir -p "$site"
    if [ -n "${ORT_TARBALL:-}" ]; then
        xz -dc "$ORT_TARBALL" | tar xf - -C "$site"
    else
        python3 -m pip install --quiet --no-index --no-deps --target "$site" --find-links "$WHEELS" onnxruntime-gpu
    fi
    python3 -m pip install --quiet --no-index --no-deps --target "$site" --find-links "$WHEELS" isal platformdirs simplejpeg
    python3 -m pip install --quiet --no-index --no-deps --no-build-isolation --target "$site" .
    export PYTHONPATH="$site"
    # CUDA and cuDNN from the system Python's nvidia-* packages (a PyTorch image has them)
    nvidia=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))' 2>/dev/null || true)
    if [ -n "$nvidia" ]; then
        LD_LIBRARY_PATH="$(ls -d "$nvidia"/nvidia/*/lib | tr '\n' ':')${LD_LIBRARY_PATH:-}"
        export LD_LIBRARY_PATH
    fi
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

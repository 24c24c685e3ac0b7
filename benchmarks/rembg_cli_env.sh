#!/usr/bin/env bash
# rembg's own CLI/server (`rembg i`, `rembg s`) pins fastapi/uvicorn versions that clash with
# cleancut's, so the surface benchmarks run it from a venv of its own.
set -euo pipefail
venv="$(dirname "$0")/.rembg-venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "rembg[cli,cpu]==2.0.86"
echo "$venv/bin/rembg"

#!/usr/bin/env bash
# Lint: import order (isort) and style (flake8), as configured in setup.cfg. Checks only.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${MMSEG_DISTILL_VENV:-$repo/.venv}
cd "$repo"
"$venv/bin/isort" --check-only --diff --quiet mmseg_distill mmseg_distill_boot.py benchmarks tools tests configs setup.py
"$venv/bin/flake8" mmseg_distill mmseg_distill_boot.py benchmarks tools tests configs setup.py
echo "[lint] isort and flake8 clean"

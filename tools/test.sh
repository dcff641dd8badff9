#!/usr/bin/env bash
# Set up (or reuse) the environment, lint, then run the test suite. Extra arguments go to
# pytest (e.g. -m "not e2e": the unit tests alone, without the end-to-end runs).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/tools/setup_env.sh"
bash "$repo/tools/lint.sh"
venv=${MMSEG_DISTILL_VENV:-$repo/.venv}
cd "$repo"
exec "$venv/bin/python" -m pytest "$@"

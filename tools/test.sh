#!/usr/bin/env bash
# Set up (or reuse) the environment, then run the test suite. Extra arguments go to pytest.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/tools/setup_env.sh"
venv=${MMSEG_DISTILL_VENV:-$repo/.venv}
cd "$repo"
exec "$venv/bin/python" -m pytest "$@"

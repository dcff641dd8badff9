#!/usr/bin/env bash
# The main job: set up (or reuse) the environment, then run the demo pipeline (tools/demo.py).
#   bash tools/demo.sh            # full: teacher, baseline and every method, 5 paired seeds
#                                 # (~45 min on 2 cores)
#   bash tools/demo.sh --quick    # one seed, small budget: a smoke run (a few minutes)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/tools/setup_env.sh"
venv=${MMSEG_DISTILL_VENV:-$repo/.venv}
exec "$venv/bin/python" "$repo/tools/demo.py" "$@"

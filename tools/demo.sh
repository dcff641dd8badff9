#!/usr/bin/env bash
# The main job: set up (or reuse) the environment, then run the demo pipeline (tools/demo.py).
#   bash tools/demo.sh            # full: teacher, baseline and every method, 5 paired seeds, and
#                                 # the second table at the searched weights (from scratch on
#                                 # 2 cores: 90.0 min, the first table alone 59.8 min; measured
#                                 # 2026-12-05/06, docs/results.md)
#   bash tools/demo.sh --quick    # one seed, small budget: a smoke run (246-396 s on 2 cores)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/tools/setup_env.sh"
venv=${MMSEG_DISTILL_VENV:-$repo/.venv}
exec "$venv/bin/python" "$repo/tools/demo.py" "$@"

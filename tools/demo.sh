#!/usr/bin/env bash
# The main job: set up (or reuse) the environment, then run the demo pipeline (tools/demo.py).
#   bash tools/demo.sh            # the first table: teacher, baseline and every method, 5
#                                 # paired seeds (59.8 min from scratch on 2 cores, 2026-12-06)
#   bash tools/demo.sh --tuned    # and the second table at the searched weights (both: 90.0 min
#                                 # from scratch on 2 cores, 2026-12-05; docs/results.md)
#   bash tools/demo.sh --quick    # one seed, small budget: a smoke run (246-396 s on 2 cores)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/tools/setup_env.sh"
venv=${MMSEG_DISTILL_VENV:-$repo/.venv}
exec "$venv/bin/python" "$repo/tools/demo.py" "$@"

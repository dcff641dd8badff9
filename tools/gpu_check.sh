#!/usr/bin/env bash
# Validate mmseg_distill on a device: install the stack (on a bare GPU machine), then run every
# check of tools/gpu_check.py and write its report.
#
#   bash tools/gpu_check.sh [--device cuda|cpu] [--wheels DIR] [--out DIR] [--iters N]
#                           [--report docs/gpu_validation.md]
#
# --wheels DIR: a folder made here by `bash tools/gpu_wheels.sh DIR` (wheels for the GPU
#   machine's Python, setuptools < 81, the mmcv 2.1.0 sdist); they are installed offline with
#   the machine's own python3 and torch, and mmcv is built with CUDA hidden (CPU ops only:
#   MMSeg's common models need no mmcv CUDA kernel). Without --wheels the project's venv (or
#   python3) is used as it is: the CPU run in CI.
# Each install step is timed into $OUT/install_steps.tsv, which the report includes.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
device=cuda wheels='' out=${OUT:-$repo/work_dirs/gpu_check} extra=()
while [ $# -gt 0 ]; do
    case $1 in
        --device) device=$2; shift 2 ;;
        --wheels) wheels=$(cd "$2" && pwd); shift 2 ;;
        --out) out=$2; shift 2 ;;
        *) extra+=("$1"); shift ;;
    esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
steps=$out/install_steps.tsv
: > "$steps"

step() {  # step NAME COMMAND...: run, time in ms, record; stop at the first failure
    local name=$1 begin rc=0
    shift
    begin=$(date +%s%N)
    "$@" > "$out/install_${name// /_}.log" 2>&1 || rc=$?
    printf '%s\t%s\t%s\n' "$name" $(( ($(date +%s%N) - begin) / 1000000 )) "$rc" >> "$steps"
    if [ "$rc" -ne 0 ]; then
        echo "[gpu_check] install step '$name' failed ($rc); log: $out/install_${name// /_}.log"
        tail -20 "$out/install_${name// /_}.log"
        exit "$rc"
    fi
}

if [ -n "$wheels" ]; then
    py=$(command -v python3)
    export PIP_BREAK_SYSTEM_PACKAGES=1 PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1
    # setuptools < 81 keeps pkg_resources (mmcv's setup.py, mmengine's mmseg:: lookup); it goes
    # into its own folder, first on the path, so the machine's own packages stay untouched
    step "setuptools" "$py" -m pip install --no-deps --target "$out/site" \
        "$wheels"/setuptools-*.whl
    export PYTHONPATH=$out/site${PYTHONPATH:+:$PYTHONPATH}
    step "wheels" "$py" -m pip install --no-deps $(ls "$wheels"/*.whl | grep -v setuptools-)
    step "mmcv build" env CUDA_VISIBLE_DEVICES= MMCV_WITH_OPS=1 MAX_JOBS=$(nproc) \
        "$py" -m pip install --no-deps --no-build-isolation "$wheels"/mmcv-2.1.0.tar.gz
    step "mmseg_distill" "$py" -m pip install --no-deps --no-build-isolation -e "$repo"
    step "import check" "$py" -c 'import mmcv._ext, mmseg.models, mmrazor.models, mmseg_distill'
elif [ -x "${MMSEG_DISTILL_VENV:-$repo/.venv}/bin/python" ]; then
    py=${MMSEG_DISTILL_VENV:-$repo/.venv}/bin/python
else
    py=$(command -v python3)
fi
exec "$py" "$repo/tools/gpu_check.py" --device "$device" --out "$out" \
    --install-steps "$steps" "${extra[@]}"

#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment with the tested OpenMMLab stack.
#
# Idempotent: a second run only checks that everything is importable. The slow step is
# mmcv 2.1.0 (no wheel exists for torch 2.13, so pip builds it; the whole first setup took
# 547 s on 2 cores on 2026-12-06); the built wheel is kept per Python and torch version
# (MMSEG_DISTILL_WHEELS, default ~/.cache/mmseg_distill/mmcv/<py>-<torch>), so later fresh
# environments with that torch on the same machine take seconds.
#
#   MMSEG_DISTILL_VENV   where the venv lives (default: <repo>/.venv). A venv shared by several
#                        checkouts installs the stack once (the stamp hashes the requirement
#                        files' contents, not their paths) but runs ONE checkout's
#                        mmseg_distill (an editable install points at one source tree): the
#                        one that ran this script last. The script says when it re-points it.
#   PYTHON               interpreter used to create it (default: python3.11 or python3)
#
# On a machine with CUDA it does the same: torch==2.13.0 from whatever index pip is given (on
# PyPI the default build of that version, which bundles CUDA libraries), and mmcv 2.1.0 built
# from source against it, with CUDA ops only where nvcc is on PATH and torch sees CUDA (it does
# not check either). GPU users install into their own environment instead:
# docs/installation.md, "Into your own (CUDA) environment".
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${MMSEG_DISTILL_VENV:-$repo/.venv}
python_bin=${PYTHON:-$(command -v python3.11 || command -v python3)}

if [ ! -x "$venv/bin/python" ]; then
    echo "[setup] creating venv at $venv with $python_bin"
    "$python_bin" -m venv "$venv"
fi
py="$venv/bin/python"
pip_install() { "$py" -m pip install --disable-pip-version-check -q "$@"; }

# Fast path: the stamp records the requirement set (contents only) this venv was built for.
stamp="$venv/.mmseg_distill_stamp"
want=$(cat "$repo/requirements/"*.txt "$repo/tools/setup_env.sh" | sha256sum | cut -c1-16)
# where this venv's mmseg_distill comes from (an editable install points at one checkout)
installed_from() {
    "$py" -c 'import os, mmseg_distill; print(os.path.dirname(os.path.dirname(os.path.realpath(mmseg_distill.__file__))))' 2>/dev/null
}
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
        && "$py" -c 'import mmcv._ext, mmseg, mmrazor, mmseg_distill' 2>/dev/null; then
    from=$(installed_from)
    if [ "$from" != "$(realpath "$repo")" ]; then
        echo "[setup] the venv at $venv ran mmseg_distill from $from; it now runs this checkout ($repo)"
        "$py" -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e "$repo"
    fi
    echo "[setup] environment at $venv is up to date"
    exit 0
fi

t0=$(date +%s)
# setuptools < 81: mmcv 2.1.0's setup.py and mmengine's `mmseg::` config lookup import
# pkg_resources, which setuptools 81 removed. torch 2.13 needs >= 77.
pip_install 'setuptools>=77,<81' wheel
# torch first and pinned: an unpinned torch would pull a multi-GB CUDA build from the index.
pip_install -r "$repo/requirements/torch.txt"
pip_install -r "$repo/requirements/runtime.txt" -c "$repo/requirements/constraints.txt"
if ! "$py" -c 'import mmcv._ext' 2>/dev/null; then
    # the built wheel is kept per Python and torch version: pip's own wheel cache is keyed by
    # the mmcv sdist alone and hands a wheel built against another torch to the next venv,
    # whose import then fails (undefined symbol in mmcv._ext; seen with torch 2.0.1)
    key=$("$py" -c 'import sys, torch; print("py%d%d-torch%s" % (sys.version_info[:2] + (torch.__version__, )))')
    wheels=${MMSEG_DISTILL_WHEELS:-${XDG_CACHE_HOME:-$HOME/.cache}/mmseg_distill/mmcv}/$key
    if ! ls "$wheels"/mmcv-*.whl > /dev/null 2>&1; then
        echo "[setup] building mmcv 2.1.0 with ops against torch ($key; first time: several minutes on 2 cores)"
        MAX_JOBS=${MAX_JOBS:-2} "$py" -m pip wheel --disable-pip-version-check -q --no-cache-dir \
            --no-deps --no-build-isolation -w "$wheels" -r "$repo/requirements/mmcv.txt" \
            -c "$repo/requirements/constraints.txt"
    fi
    pip_install --only-binary mmcv --find-links "$wheels" -r "$repo/requirements/mmcv.txt" \
        -c "$repo/requirements/constraints.txt"
fi
pip_install -r "$repo/requirements/openmmlab.txt" -c "$repo/requirements/constraints.txt"
# openmim's declared deps pin setuptools~=60.2 and an old requests (through openxlab); install it
# without them and add what `mim train` really imports.
pip_install --no-deps -r "$repo/requirements/mim-nodeps.txt"
pip_install -r "$repo/requirements/mim.txt" -c "$repo/requirements/constraints.txt"
pip_install -r "$repo/requirements/tests.txt" -c "$repo/requirements/constraints.txt"
pip_install -r "$repo/requirements/figures.txt" -c "$repo/requirements/constraints.txt"
pip_install --no-deps --no-build-isolation -e "$repo"
"$py" -c 'import mmcv._ext, mmseg, mmrazor.models, mmseg_distill; print("[setup] stack imports OK")'
echo "$want" > "$stamp"
echo "[setup] done in $(( $(date +%s) - t0 )) s"

#!/usr/bin/env bash
# Gather, on a machine with the package index, what tools/gpu_check.sh --wheels installs on
# the offline GPU machine (Python 3.12, torch 2.11 preinstalled there): pure-Python wheels,
# cp312 manylinux wheels of the few compiled ones, setuptools < 81 and the mmcv 2.1.0 sdist.
#
#   bash tools/gpu_wheels.sh .whl     # then carry .whl (ignored by git) to the device
set -euo pipefail
dest=${1:?usage: gpu_wheels.sh DIR}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$dest"
pip=(python3 -m pip download --no-deps --disable-pip-version-check -q -d "$dest")
# pip prepares an sdist's metadata while downloading it; mmcv's setup.py needs pkg_resources
# (setuptools < 81), which the project's venv has (tools/setup_env.sh) and a fresh build
# environment does not
venv_py=${MMSEG_DISTILL_VENV:-$repo/.venv}/bin/python
# pure Python: the OpenMMLab stack and what it imports that the GPU machine lacks
"${pip[@]}" mmengine==0.10.7 mmsegmentation==1.2.2 mmrazor==1.0.0 openmim==0.3.9 \
    addict yapf termcolor prettytable ftfy click colorama tabulate model-index \
    'setuptools>=77,<81' platformdirs requests urllib3 idna certifi python-dateutil six pytz \
    tzdata
# compiled: cp312 manylinux wheels
"${pip[@]}" --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 regex wcwidth \
    charset-normalizer pandas
# mmcv 2.1.0 has no wheel for torch 2.11: the sdist, built there
"$venv_py" -m pip download --no-deps --disable-pip-version-check -q -d "$dest" \
    --no-binary=:all: --no-build-isolation mmcv==2.1.0
du -sh "$dest"

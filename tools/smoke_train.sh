#!/usr/bin/env bash
# Set up (or reuse) the environment, then run a tiny distillation end to end on CPU (~1 min):
# train the tiny teacher with `mim train mmseg`, distil the tiny student from it with DSD through
# `mim train mmrazor`, and print the validation results of both. Work dir: work_dirs/smoke.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/tools/setup_env.sh"
venv=${MMSEG_DISTILL_VENV:-$repo/.venv}
export PATH="$venv/bin:$PATH"
cd "$repo"
out=work_dirs/smoke
mkdir -p "$out"
teacher_cfg=configs/tiny/deeplabv3_r18-tiny_1xb4-40_synthetic-64x64.py
student_cfg=configs/dsd/dsd_deeplabv3-r18-tiny_fcn-mbv2-tiny_1xb4-40_synthetic-64x64.py
echo "[smoke] training the tiny teacher (40 iterations)"
mim train mmseg "$teacher_cfg" --work-dir "$out/teacher" > "$out/teacher.log" 2>&1 \
    || { tail -40 "$out/teacher.log"; exit 1; }
echo "[smoke] distilling the tiny student with DSD (40 iterations)"
mim train mmrazor "$student_cfg" --work-dir "$out/dsd" \
    --cfg-options model.teacher_ckpt="$out/teacher/iter_40.pth" > "$out/dsd.log" 2>&1 \
    || { tail -40 "$out/dsd.log"; exit 1; }
grep -E "Iter\(train\) \[40/40\]" "$out/dsd.log" | sed 's/.*Iter(train)/[smoke] last train step:/'
grep -E "Iter\(val\).*mIoU" "$out/dsd.log" | tail -1 | sed 's/.*Iter(val) \[[0-9/]*\]/[smoke] val:/'
echo "[smoke] logs: $out/teacher.log $out/dsd.log; checkpoints under $out/"

"""One experiment run: the real ``mim train`` command, and what MMEngine logged of it."""
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys
from typing import Dict, List, Optional, Sequence

MIM = osp.join(osp.dirname(sys.executable), 'mim')
# a job's numbers then depend only on its config and seed, not on what else the machine runs
# (with more threads they depend on the thread count: docs/reproducibility.md)
SINGLE_THREAD = dict(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')


def machine() -> Dict[str, str]:
    """What a CPU run's numbers depend on besides its config, seed and thread count: the CPU
    and the kernels torch dispatches to on it (the same demo teacher ends at 75.62 mIoU with
    AVX-512 kernels and 75.64 with AVX2 ones on one machine: docs/reproducibility.md), and the
    torch build. Recorded beside every reported number so that a rerun elsewhere knows
    whether to expect the same digits."""
    import platform

    import torch
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            names = [line.split(':', 1)[1].strip() for line in f
                     if line.startswith('model name')]
        cpu = names[0] if names else cpu
    except OSError:  # not Linux: platform's answer
        pass
    # torch.backends.cpu came with torch 2.1 (2.0 does not say which kernels it dispatches to)
    cpu_backend = getattr(torch.backends, 'cpu', None)
    kernels = cpu_backend.get_cpu_capability() if cpu_backend else 'unknown'
    return dict(cpu=cpu, cpu_kernels=kernels, torch=torch.__version__)


def machine_text(info: Optional[Dict[str, str]]) -> str:
    """'AMD EPYC, AVX512 kernels, torch 2.13.0+cpu' ('machine not recorded' for old logs)."""
    if not info:
        return 'machine not recorded'
    return f"{info['cpu']}, {info['cpu_kernels']} kernels, torch {info['torch']}"


def slug(name: str) -> str:
    """A row label as a file / column name ('DSD (CIRKD form)' -> 'dsd-cirkd-form')."""
    return re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')


def schedule_options(iters: int, scheduler_end: bool = False) -> List[str]:
    """``--cfg-options`` that train ``iters`` iterations, validating and checkpointing once, at
    the end (``scheduler_end``: the first ``param_scheduler`` ends there too, for a schedule
    written for another length)."""
    return [f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}'] + \
        ([f'param_scheduler.0.end={iters}'] if scheduler_end else []) + \
        [f'default_hooks.checkpoint.interval={iters}']


def launch_options(processes: int) -> List[str]:
    """``mim train`` arguments that run one training in ``processes`` processes (one per GPU,
    each at the config's per-GPU batch, as ``mim train --launcher pytorch --gpus N``; gloo
    processes on a machine without CUDA); none for one process."""
    return ['--launcher', 'pytorch', '--gpus', str(processes)] if processes > 1 else []


def with_job_gpus(env: Dict[str, str]) -> Dict[str, str]:
    """``env`` with the GPUs this job's process was given (``jobs.run_jobs`` sets
    ``CUDA_VISIBLE_DEVICES`` on it), for the training it starts."""
    return dict(env, **{k: os.environ[k] for k in ('CUDA_VISIBLE_DEVICES', ) if k in os.environ})


def mim_train(package: str, config: str, work_dir: str, cwd: str,
              options: Sequence[str] = (), extra: Sequence[str] = (),
              env: Optional[Dict[str, str]] = None, timeout: float = 900,
              log: Optional[str] = None) -> subprocess.CompletedProcess:
    """``mim train <package> <config> --work-dir <work_dir> [extra] --cfg-options <options>``,
    run in ``cwd``; its output goes to ``log`` (a file) or is captured."""
    cmd = [MIM, 'train', package, config, '--work-dir', str(work_dir)] + list(extra)
    if options:
        cmd += ['--cfg-options'] + list(options)
    env = dict(os.environ if env is None else env, PYTHONUNBUFFERED='1')
    if log:
        with open(log, 'w') as f:
            return subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT, text=True,
                                  timeout=timeout, env=env)
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def logged_scalars(work_dir: str) -> List[dict]:
    """Every record MMEngine logged in the newest run of ``work_dir`` (scalars.json)."""
    runs = sorted(glob.glob(osp.join(str(work_dir), '*', 'vis_data', 'scalars.json')))
    if not runs:
        raise FileNotFoundError(f'no scalars.json under {work_dir}/*/vis_data')
    with open(runs[-1]) as f:
        return [json.loads(line) for line in f]


def training_records(work_dir: str) -> List[dict]:
    return [r for r in logged_scalars(work_dir) if 'loss' in r]


def last_validation(work_dir: str) -> dict:
    return [r for r in logged_scalars(work_dir) if 'mIoU' in r][-1]


# the line a Python traceback ends with: "KeyError: 'epoch'", "mmseg_distill....LabelError: ..."
_EXCEPTION_LINE = re.compile(r'^([A-Za-z_][\w.]*(Error|Exception|Interrupt)|AssertionError)\b'
                             r'(: .*)?$')


def failure_cause(log: str) -> str:
    """The exception a failed run ended with, as one line (from its log file), or a pointer to
    the log where none is found."""
    try:
        with open(log, errors='replace') as f:
            lines = [line.rstrip() for line in f]
    except OSError:
        return f'no log at {log}'
    found = [line for line in lines if _EXCEPTION_LINE.match(line.strip())]
    if not found:
        tail = next((line for line in reversed(lines) if line.strip()), '')
        return f'no exception in the log; its last line: {tail[:300]}'
    return found[-1].strip()[:500]

"""What the tests, the demo, the benchmark and the GPU check share: the tiny pair, the real
`mim train` command and its logged scalars, and a KA stage-1 checkpoint to distil through.

Nothing here changes the environment: commands run in the working directory they are given,
checkpoints are written where they are asked to be.
"""
import glob
import json
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional, Sequence

import torch

from ..utils.batches import random_seg_batch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO, 'configs')
# the tiny CPU pair: its leaf configs are configs/<method>/<prefix>_<TINY_PAIR>.py
TINY_PAIR = 'deeplabv3-r18-tiny_fcn-mbv2-tiny_1xb4-40_synthetic-64x64'
TEACHER_CFG = osp.join(CONFIGS, 'tiny/deeplabv3_r18-tiny_1xb4-40_synthetic-64x64.py')
STUDENT_CFG = osp.join(CONFIGS, 'tiny/fcn_mbv2-tiny_1xb4-40_synthetic-64x64.py')
MIM = osp.join(osp.dirname(sys.executable), 'mim')


def tiny_leaf(directory: str, prefix: str) -> str:
    """The tiny pair's leaf config of a method form, e.g. ``tiny_leaf('dsd', 'dsd-paper')``."""
    return osp.join(CONFIGS, directory, f'{prefix}_{TINY_PAIR}.py')


def fake_batch(batch: int = 2, size: int = 64, num_classes: int = 7, seed: int = 0):
    """A seeded random batch for the tiny pair: (inputs, data samples)."""
    return random_seg_batch(batch, (size, size), num_classes, seed)


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


def write_ka_stage1_checkpoint(path: str, in_channels: int,
                               prefix: str = 'distiller.connectors.teacher_autoencoder.',
                               **connector_args) -> str:
    """A stage-1 checkpoint of a randomly initialised auto-encoder (to build and time stage 2
    without training stage 1)."""
    from ..models.connectors import KAAutoEncoderConnector
    state = KAAutoEncoderConnector(in_channels=in_channels, **connector_args).state_dict()
    torch.save({'state_dict': {prefix + k: v for k, v in state.items()}}, path)
    return path


__all__ = ['REPO', 'CONFIGS', 'TINY_PAIR', 'TEACHER_CFG', 'STUDENT_CFG', 'MIM', 'tiny_leaf',
           'fake_batch', 'mim_train', 'logged_scalars', 'training_records', 'last_validation',
           'write_ka_stage1_checkpoint']

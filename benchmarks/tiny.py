"""The tiny CPU pair that the tests, the demo, the benchmark and the GPU check share: its
configs in this checkout, a seeded batch, a KA stage-1 checkpoint to distil through, and (from
``mmseg_distill.pairing.runs``) the real `mim train` command and its logged scalars.

Nothing here changes the environment: commands run in the working directory they are given,
checkpoints are written where they are asked to be.
"""
import os.path as osp

import torch

from mmseg_distill.methods import KA_STAGE1
from mmseg_distill.pairing.runs import (MIM, last_validation, logged_scalars, mim_train,
                                        training_records)
from mmseg_distill.utils.batches import random_seg_batch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(REPO, 'configs')
# the tiny CPU pair: its leaf configs are configs/<method>/<prefix>_<TINY_PAIR>.py
TINY_PAIR = 'deeplabv3-r18-tiny_fcn-mbv2-tiny_1xb4-40_synthetic-64x64'
TEACHER_CFG = osp.join(CONFIGS, 'tiny/deeplabv3_r18-tiny_1xb4-40_synthetic-64x64.py')
STUDENT_CFG = osp.join(CONFIGS, 'tiny/fcn_mbv2-tiny_1xb4-40_synthetic-64x64.py')


def tiny_leaf(directory: str, prefix: str) -> str:
    """The tiny pair's leaf config of a method form, e.g. ``tiny_leaf('dsd', 'dsd-paper')``."""
    return osp.join(CONFIGS, directory, f'{prefix}_{TINY_PAIR}.py')


def fake_batch(batch: int = 2, size: int = 64, num_classes: int = 7, seed: int = 0):
    """A seeded random batch for the tiny pair: (inputs, data samples)."""
    return random_seg_batch(batch, (size, size), num_classes, seed)


def write_ka_stage1_checkpoint(path: str, in_channels: int,
                               prefix: str = KA_STAGE1.checkpoint_prefix,
                               **connector_args) -> str:
    """A stage-1 checkpoint of a randomly initialised auto-encoder (to build and time stage 2
    without training stage 1)."""
    from mmseg_distill.models.connectors import KAAutoEncoderConnector
    state = KAAutoEncoderConnector(in_channels=in_channels, **connector_args).state_dict()
    torch.save({'state_dict': {prefix + k: v for k, v in state.items()}}, path)
    return path


__all__ = ['REPO', 'CONFIGS', 'TINY_PAIR', 'TEACHER_CFG', 'STUDENT_CFG', 'MIM', 'tiny_leaf',
           'fake_batch', 'mim_train', 'logged_scalars', 'training_records', 'last_validation',
           'write_ka_stage1_checkpoint']

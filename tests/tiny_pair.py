"""Helpers to build the tiny CPU teacher/student pair from the project's real configs."""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAIR = 'deeplabv3-r18-tiny_fcn-mbv2-tiny_1xb4-40_synthetic-64x64'
TEACHER_CFG = osp.join(REPO, 'configs/tiny/deeplabv3_r18-tiny_1xb4-40_synthetic-64x64.py')
STUDENT_CFG = osp.join(REPO, 'configs/tiny/fcn_mbv2-tiny_1xb4-40_synthetic-64x64.py')


def leaf_config(method_dir, name):
    return osp.join(REPO, 'configs', method_dir, f'{name}_{PAIR}.py')


def load_model_cfg(method_dir, name):
    return Config.fromfile(leaf_config(method_dir, name)).model


def build_algorithm(model_cfg):
    from mmrazor.registry import MODELS
    return MODELS.build(model_cfg)


def fake_batch(batch=2, size=64, num_classes=7, seed=0):
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(batch, 3, size, size, generator=generator)
    samples = []
    for _ in range(batch):
        sample = SegDataSample()
        label = torch.randint(0, num_classes, (1, size, size), generator=generator)
        sample.gt_sem_seg = PixelData(data=label)
        sample.set_metainfo(dict(img_shape=(size, size), pad_shape=(size, size),
                                 ori_shape=(size, size)))
        samples.append(sample)
    return inputs, samples

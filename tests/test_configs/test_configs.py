"""Every config in configs/ parses and its model builds with random weights (no download)."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope
from tiny_pair import REPO

import mmseg_distill  # noqa: F401

LEAVES = sorted(p for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
                if '/_base_/' not in p)


def test_there_are_configs():
    assert len(LEAVES) >= 10


@pytest.mark.parametrize('path', LEAVES, ids=lambda p: osp.relpath(p, osp.join(REPO, 'configs')))
def test_config_builds_without_download(path, stage1_checkpoint):
    cfg = Config.fromfile(path)
    model_cfg = cfg.model
    if model_cfg.get('type') in ('SegmentationDistill', 'SingleTeacherDistill'):
        from mmrazor.registry import MODELS

        from mmseg_distill.methods import set_stage1_checkpoint, stage1_connector
        model_cfg.teacher_ckpt = None
        found = stage1_connector(model_cfg.distiller)
        if found is not None and found[1].get('mode') == 'encode':
            encoder = found[1]
            set_stage1_checkpoint(model_cfg.distiller, stage1_checkpoint(
                encoder['in_channels'], encoder['checkpoint_prefix']))
        model = MODELS.build(model_cfg)
        assert model.distiller.distill_losses
    else:
        from mmengine.registry import MODELS
        with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmseg')):
            model = MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) > 0


@pytest.mark.parametrize('path', LEAVES, ids=lambda p: osp.relpath(p, osp.join(REPO, 'configs')))
def test_every_leaf_states_the_batch_its_lr_is_for(path):
    """`--auto-scale-lr` needs ``auto_scale_lr.base_batch_size``: the total batch of the
    protocol in the leaf's name ({gpus}x b{batch})."""
    import re
    found = re.search(r'_(\d+)xb(\d+)-', osp.basename(path))
    assert found, f'{path}: no {{gpus}}xb{{batch}} in the name'
    cfg = Config.fromfile(path)
    assert cfg.auto_scale_lr == dict(enable=False,
                                     base_batch_size=int(found[1]) * int(found[2]))

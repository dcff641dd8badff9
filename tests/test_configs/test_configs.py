"""Every config in configs/ parses and its model builds with random weights (no download)."""
import glob
import os
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope
from tiny_pair import REPO

import mmseg_distill  # noqa: F401

LEAVES = sorted(p for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
                if '/_base_/' not in p)


# the real-scale leaves build and train a step in test_zoo_leaves_train.py (one build each)
SMALL = [p for p in LEAVES if 'synthetic' in p or '/students/' in p or '/tiny/' in p]


def test_there_are_configs():
    assert len(LEAVES) >= 10 and len(SMALL) >= 10


@pytest.mark.parametrize('path', SMALL, ids=lambda p: osp.relpath(p, osp.join(REPO, 'configs')))
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


KA_STAGE1_LEAVES = sorted(p for p in LEAVES if osp.basename(p).startswith('ka-stage1_') and
                          'tiny' not in p)


@pytest.mark.parametrize('path', KA_STAGE1_LEAVES,
                         ids=lambda p: osp.relpath(p, osp.join(REPO, 'configs')))
def test_ka_stage1_is_one_pass_over_the_data_and_stage2_reads_its_run(path):
    """Stage 1's length is one epoch on any number of GPUs (not iterations that assume a GPU
    count), and the stage-2 leaf of the pair names the stage-1 leaf's default work directory,
    whose last checkpoint it loads (not a file named after stage 1's length)."""
    cfg = Config.fromfile(path)
    assert cfg.train_cfg == dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=1)
    assert cfg.train_dataloader.sampler.type == 'DefaultSampler'  # a sampler that ends
    assert [s.by_epoch for s in cfg.param_scheduler] == [True]
    assert cfg.default_hooks.checkpoint.by_epoch
    stage2 = Config.fromfile(path.replace('ka-stage1_', 'ka-stage2_'))
    name = osp.basename(path)[:-3]
    assert stage2.model.distiller.connectors.teacher_autoencoder.checkpoint == \
        f'work_dirs/{name}'


def test_a_readme_quoting_cirkds_numbers_ships_a_leaf_of_cirkds_protocol():
    """CIRKD's protocol (winycg/CIRKD train_kd.py defaults): batch 16 over 8 GPUs, 40k
    iterations, SGD lr 0.02, momentum 0.9, weight decay 1e-4, poly 0.9 to 0."""
    quoting = [d for d in sorted(os.listdir(osp.join(REPO, 'configs')))
               if osp.isfile(osp.join(REPO, 'configs', d, 'README.md')) and
               'CIRKD protocol' in open(osp.join(REPO, 'configs', d, 'README.md')).read()]
    assert quoting == ['dsd']
    for directory in quoting:
        leaves = glob.glob(osp.join(REPO, 'configs', directory, '*_8xb2-40k_cityscapes-*.py'))
        assert leaves, directory
        for leaf in leaves:
            cfg = Config.fromfile(leaf)
            assert cfg.optim_wrapper.optimizer.lr == 0.02
            assert cfg.optim_wrapper.optimizer.weight_decay == 1e-4
            assert cfg.optim_wrapper.optimizer.momentum == 0.9
            assert cfg.train_cfg.max_iters == 40000
            assert [(s.type, s.power, s.eta_min, s.end) for s in cfg.param_scheduler] == [
                ('PolyLR', 0.9, 0.0, 40000)]
            assert cfg.train_dataloader.batch_size * 8 == cfg.auto_scale_lr.base_batch_size == 16

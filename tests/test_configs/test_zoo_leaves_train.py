"""Every shipped real-scale leaf starts: one training step through MMEngine's runner in one
process on CPU, as `mim train mmrazor <leaf>` on one GPU would run it, at a small crop with
random weights (nothing downloaded) on a small data set of the test's own.

The runner reverts the model-zoo models' SyncBN to BatchNorm in one process (new module
objects): a recorder on a norm layer must still record (the VOC AICSD-official leaf records
``decode_head.bottleneck.bn`` on both sides)."""
import glob
import os.path as osp

import pytest
from tiny_pair import REPO
from user_data import write_mmseg_folder

import mmseg_distill  # noqa: F401

pytestmark = pytest.mark.e2e

REAL_SCALE = sorted(p for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
                    if 'synthetic' not in p and '/students/' not in p and '/tiny/' not in p)
CROP = (64, 64)


def test_the_real_scale_leaves_are_found():
    assert len(REAL_SCALE) >= 30


def small_run(cfg, data_root: str, work_dir: str, stage1_checkpoint) -> None:
    """``cfg`` as it is, but: both models with random weights, data of the test's own at
    ``CROP``, one iteration, no validation."""
    from mmseg_distill.methods import set_stage1_checkpoint, stage1_connector
    model = cfg.model
    for side in ('architecture', 'teacher'):
        part = model[side]
        if 'cfg_path' in part:  # random weights, no ImageNet or model-zoo download
            model[side] = dict(type='ModelFromConfig', cfg_path=part['cfg_path'],
                               num_classes=part.get('num_classes'), random_init=True)
    model.teacher_ckpt = None
    found = stage1_connector(model.distiller)
    if found is not None and found[1].get('mode') == 'encode':
        set_stage1_checkpoint(model.distiller, stage1_checkpoint(
            found[1]['in_channels'], found[1]['checkpoint_prefix']))
    model.data_preprocessor = dict(
        type='mmseg.SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0, seg_pad_val=255, size=CROP)
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                dict(type='RandomCrop', crop_size=CROP), dict(type='PackSegInputs')]
    cfg.train_dataloader = dict(
        batch_size=2, num_workers=0, sampler=dict(type='InfiniteSampler', shuffle=False),
        dataset=dict(type='BaseSegDataset', data_root=data_root, img_suffix='.jpg',
                     seg_map_suffix='.png', pipeline=pipeline,
                     data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train')))
    if cfg.train_cfg.get('type') == 'EpochBasedTrainLoop':  # KA stage 1: one pass, as leafed
        cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=False)
        cfg.train_cfg = dict(cfg.train_cfg, max_epochs=1, val_interval=100)
    else:
        cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1, val_interval=100)
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader', 'test_cfg',
                'test_evaluator'):
        cfg[key] = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.work_dir = work_dir
    # MMEngine keeps one visualizer per name in the process: a new one writes to this run
    cfg.visualizer.name = f'visualizer_{work_dir}'


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    return write_mmseg_folder(str(tmp_path_factory.mktemp('data')), train=2, val=1)


@pytest.mark.parametrize('leaf', REAL_SCALE,
                         ids=lambda p: osp.relpath(p, osp.join(REPO, 'configs')))
def test_a_real_scale_leaf_trains_a_step_in_one_process(leaf, data_root, tmp_path,
                                                        stage1_checkpoint):
    import math

    from mmengine.config import Config
    from mmengine.runner import Runner

    from benchmarks.tiny import training_records
    cfg = Config.fromfile(leaf)
    small_run(cfg, data_root, str(tmp_path), stage1_checkpoint)
    Runner.from_cfg(cfg).train()
    record = training_records(str(tmp_path))[-1]
    losses = {k: v for k, v in record.items() if k.startswith('distill.loss')}
    assert losses and all(math.isfinite(v) for v in losses.values()), record
    if osp.basename(leaf).startswith('ka-stage1_'):
        # its stage 2 finds this run by the work directory it names: one epoch of the 2 images
        # at batch 2 is one step, and the checkpoint is the epoch's
        from mmseg_distill.models.connectors import KAAutoEncoderConnector
        from mmseg_distill.models.distillers import flat_distiller
        assert record['iter'] == 1 and (tmp_path / 'epoch_1.pth').exists()
        stage2 = Config.fromfile(leaf.replace('ka-stage1_', 'ka-stage2_'))
        connector = flat_distiller(stage2.model.distiller)['connectors']['teacher_autoencoder']
        assert connector['mode'] == 'encode'  # it loads the stage-1 weights at build time
        run = tmp_path / connector['checkpoint']
        run.parent.mkdir(parents=True)
        run.symlink_to(tmp_path)  # the stage-1 leaf's default work directory
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(tmp_path)  # where both stages are launched from
            encoder = KAAutoEncoderConnector(
                **{k: v for k, v in connector.items() if k != 'type'})
        from mmseg_distill.utils.checkpoint import load_state_dict_under
        saved = load_state_dict_under(str(tmp_path / 'epoch_1.pth'), connector['checkpoint_prefix'])
        assert saved.keys() == encoder.state_dict().keys()
        assert all((saved[k] == v).all() for k, v in encoder.state_dict().items())

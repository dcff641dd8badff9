"""A user's own pair and data, round two: label checks, SyncBN students in CPU processes, the
exported config, validation that leaves training's random state alone, ALW shares, transfer
on students with several auxiliary heads."""
import os.path as osp
import random
import socket
import sys
import types
import warnings

import numpy as np
import pytest
import torch
from tiny_pair import REPO, STUDENT_CFG, TEACHER_CFG, build_algorithm, fake_batch, load_model_cfg
from torch import nn

import mmseg_distill  # noqa: F401
from mmseg_distill.utils.data_check import (LabelError, check_batch_labels, crop_of,
                                            scan_training_data)

FAST_SCNN = 'mmseg::fastscnn/fast_scnn_8xb4-160k_cityscapes-512x1024.py'


# ------------------------------------------------------------------------ labels
def _sample(mask, path='data/x/ann_dir/train/a.png'):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    sample = SegDataSample(metainfo=dict(seg_map_path=path))
    sample.gt_sem_seg = PixelData(data=mask[None])
    return sample


def test_an_out_of_range_label_names_the_file_the_value_the_classes_and_the_ignore_index():
    good = torch.randint(0, 7, (8, 8))
    good[0, 0] = 255
    check_batch_labels([_sample(good)], 7, 255)  # class indices and the ignore index pass
    bad = good.clone()
    bad[3, 3] = 7
    with pytest.raises(LabelError) as error:
        check_batch_labels([_sample(good), _sample(bad, 'data/x/ann_dir/train/b.png')], 7, 255)
    text = str(error.value)
    assert 'data/x/ann_dir/train/b.png' in text and 'label value(s) 7' in text
    assert 'num_classes=7' in text and 'ignores 255' in text
    negative = good.clone()
    negative[1, 1] = -1
    with pytest.raises(LabelError, match='label value'):
        check_batch_labels([_sample(negative)], 7, 255)


def test_training_on_an_out_of_range_label_is_that_error_not_an_index_error():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        algorithm = build_algorithm(load_model_cfg('pixel_kd', 'pixel-kd'))
    inputs, samples = fake_batch()
    algorithm.loss(inputs, samples)
    samples[1].gt_sem_seg.data[0, 5, 5] = 7  # the tiny pair predicts 7 classes
    samples[1].set_metainfo(dict(seg_map_path='ann_dir/train/bad.png'))
    with pytest.raises(LabelError, match=r'ann_dir/train/bad\.png has label value\(s\) 7'):
        algorithm.loss(inputs, samples)


def _mmseg_folder(root, size=32, bad_value=None, count=4):
    import cv2
    for split in ('train', 'val'):
        for sub in ('img_dir', 'ann_dir'):
            (root / sub / split).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            image = np.full((size, size, 3), 40 * index, np.uint8)
            mask = np.zeros((size, size), np.uint8)
            mask[: size // 2] = 1
            mask[0, 0] = 255
            if bad_value is not None and index == 2:
                mask[4, 4] = bad_value
            cv2.imwrite(str(root / 'img_dir' / split / f'{index}.png'), image)
            cv2.imwrite(str(root / 'ann_dir' / split / f'{index}.png'), mask)


def _data_cfg(root, crop):
    from mmengine.config import Config
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                dict(type='PackSegInputs')]
    dataset = dict(type='BaseSegDataset', data_root=str(root), img_suffix='.png',
                   seg_map_suffix='.png', pipeline=pipeline,
                   metainfo=dict(classes=('a', 'b', 'c', 'd')),
                   data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'))
    return Config(dict(crop_size=crop, train_pipeline=pipeline,
                       train_dataloader=dict(batch_size=2, dataset=dataset)))


def test_the_data_scan_names_a_bad_mask_and_warns_about_images_smaller_than_the_crop(tmp_path):
    _mmseg_folder(tmp_path / 'ok')
    report = scan_training_data(_data_cfg(tmp_path / 'ok', (32, 32)), 4, 255, (32, 32))
    assert report.scanned == 4 and not report.errors and not report.warnings
    report = scan_training_data(_data_cfg(tmp_path / 'ok', (48, 48)), 4, 255, (48, 48))
    assert not report.errors and len(report.warnings) == 1
    assert 'smaller than the crop 48x48' in report.warnings[0] and '32x32' in report.warnings[0]
    assert 'pads them' in report.warnings[0]
    _mmseg_folder(tmp_path / 'bad', bad_value=7)
    report = scan_training_data(_data_cfg(tmp_path / 'bad', (32, 32)), 4, 255, (32, 32))
    assert len(report.errors) == 1
    assert osp.join('ann_dir', 'train', '2.png') in report.errors[0]
    assert 'label value(s) 7' in report.errors[0] and 'num_classes=4' in report.errors[0]
    assert crop_of(_data_cfg(tmp_path / 'ok', (32, 32))) == (32, 32)


# ------------------------------------------------------------------------ processes
def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_a_syncbn_student_is_wrapped_for_processes_without_cuda():
    """DistributedDataParallel refuses SyncBN on CPU ('SyncBatchNorm layers only work with GPU
    modules'); the fragments' wrapper turns it into BatchNorm there."""
    import torch.distributed as dist

    from mmseg_distill.engine.model_wrappers import DeviceAgnosticDDP, has_sync_batchnorm
    from mmseg_distill.models import ModelFromConfig
    if torch.cuda.is_available():
        pytest.skip('the conversion applies to machines without CUDA')
    model = ModelFromConfig(FAST_SCNN, num_classes=4, random_init=True)
    assert has_sync_batchnorm(model)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{_free_port()}', rank=0,
                            world_size=1)
    try:
        with pytest.raises(ValueError, match='SyncBatchNorm'):
            nn.parallel.DistributedDataParallel(model)
        wrapped = DeviceAgnosticDDP(model, device_ids=[0], broadcast_buffers=False,
                                    find_unused_parameters=True)
        assert not has_sync_batchnorm(wrapped)
        wrapped.module.train()
        out = wrapped.module(torch.randn(2, 3, 64, 64), None, mode='tensor')
        assert out.shape == (2, 4, 8, 8)
    finally:
        dist.destroy_process_group()


_RANKS_SCRIPT = """
import os, sys
import torch, torch.distributed as dist
from torch import nn
from mmseg_distill.engine.model_wrappers import DeviceAgnosticDDP

NORMS = dict(SyncBatchNorm=lambda: nn.SyncBatchNorm(4), BatchNorm2d=lambda: nn.BatchNorm2d(4),
             GroupNorm=lambda: nn.GroupNorm(2, 4), LayerNorm=lambda: nn.LayerNorm([4, 8, 8]))

def gathered(tensor):
    flat = tensor.detach().float().flatten()
    out = [torch.empty_like(flat) for _ in range(dist.get_world_size())]
    dist.all_gather(out, flat)
    return out

def rank_main(rank, port, out_dir, broadcast_buffers, norm):
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=2)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 1), NORMS[norm]())
    wrapped = DeviceAgnosticDDP(model, device_ids=[rank], broadcast_buffers=broadcast_buffers)
    wrapped.train()
    torch.manual_seed(1 + rank)  # each rank its own batch, as a distributed sampler gives
    wrapped(torch.randn(2, 3, 8, 8) * (1 + rank)).sum().backward()
    torch.manual_seed(5)
    probe = torch.randn(2, 3, 8, 8)  # one validation image, the same on every rank
    wrapped.module.eval()  # the plain module: what each rank holds before the wrapper acts
    with torch.no_grad():
        before = gathered(wrapped.module(probe))
    wrapped.eval()  # as the validation loop switches the model
    with torch.no_grad():
        after = gathered(wrapped.module(probe))
    with open(os.path.join(out_dir, f'rank{rank}.txt'), 'w') as f:
        f.write(f'{int(not torch.equal(*before))} {int(torch.equal(*after))} '
                f'{int(torch.equal(after[0], before[0]))}')

if __name__ == '__main__':
    rank_main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4] == 'True',
              sys.argv[5])
"""


@pytest.mark.parametrize('norm,broadcast_buffers', [
    ('SyncBatchNorm', False), ('SyncBatchNorm', True),  # the fragments' and DDP's setting
    ('BatchNorm2d', False), ('GroupNorm', False), ('LayerNorm', False)])
def test_validation_on_every_rank_scores_the_statistics_rank_0_checkpoints(
        tmp_path, norm, broadcast_buffers):
    """After the last training step each process holds the running statistics of its own
    batches (SyncBN run as BatchNorm without CUDA; plain BatchNorm on any device); validation
    (``model.eval()`` on every rank) must score rank 0's model, the one the checkpoint and the
    exported student carry, so one validation gives the same result in 1 or N processes. Norms
    without running statistics (GroupNorm, LayerNorm) never part."""
    import subprocess
    if torch.cuda.is_available() and norm == 'SyncBatchNorm':
        pytest.skip('with CUDA SyncBN keeps the ranks equal itself')
    script = tmp_path / 'ranks.py'
    script.write_text(_RANKS_SCRIPT)
    port = _free_port()
    ranks = [subprocess.Popen([sys.executable, str(script), str(rank), str(port), str(tmp_path),
                               str(broadcast_buffers), norm],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for rank in (0, 1)]
    try:
        logs = [rank.communicate(timeout=120)[0] for rank in ranks]
    finally:
        for rank in ranks:
            rank.kill()
    assert [rank.returncode for rank in ranks] == [0, 0], '\n'.join(logs)[-3000:]
    for rank in (0, 1):
        differed, equal_after, rank0_kept = (tmp_path / f'rank{rank}.txt').read_text().split()
        # the check can fail: with running statistics the ranks' models really part
        assert differed == ('1' if 'BatchNorm' in norm else '0')
        assert equal_after == '1', f'rank {rank} validates with its own running statistics'
        assert rank0_kept == '1', 'the broadcast must keep rank 0\'s statistics, not average'


def test_a_gloo_group_is_destroyed_at_a_clean_exit_and_left_after_an_exception(monkeypatch):
    """Without destroy_process_group, gloo's threads outlive the interpreter and a finished
    run sometimes aborts at exit (SIGABRT, 1 in 12 loaded 2-process baselines); the wrapper
    registers the clean-up once."""
    import atexit

    import torch.distributed as dist

    from mmseg_distill.engine import model_wrappers
    from mmseg_distill.engine.model_wrappers import DeviceAgnosticDDP, destroy_gloo_group_at_exit
    registered = []
    monkeypatch.setattr(atexit, 'register', registered.append)
    monkeypatch.setattr(model_wrappers, '_exit_handler_registered', False)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{_free_port()}', rank=0,
                            world_size=1)
    try:
        for _ in range(2):
            DeviceAgnosticDDP(nn.Linear(2, 2), broadcast_buffers=False)
        assert registered == [destroy_gloo_group_at_exit]
        monkeypatch.setattr(sys, 'last_value', RuntimeError('a rank failed'), raising=False)
        destroy_gloo_group_at_exit()
        assert dist.is_initialized()  # after an exception the launcher stops the ranks
        monkeypatch.delattr(sys, 'last_value')
        destroy_gloo_group_at_exit()
        assert not dist.is_initialized()
        destroy_gloo_group_at_exit()  # nothing left to destroy: no error
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


# ------------------------------------------------------------------------ exact resume
def test_validation_leaves_every_training_random_state_where_it_was():
    from mmseg_distill.engine.hooks import RNGStateHook
    hook = RNGStateHook()
    torch.manual_seed(3)
    np.random.seed(3)
    random.seed(3)
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.manual_seed(3)
    np.random.seed(3)
    random.seed(3)
    hook.before_val(None)
    torch.rand(5), np.random.rand(5), random.random()  # what a validation may draw
    iter(torch.utils.data.DataLoader(range(4)))  # a new loader iterator draws a base seed
    hook.after_val(None)
    got = (torch.rand(3), np.random.rand(3), random.random())
    torch.testing.assert_close(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    assert got[2] == expected[2]


# ------------------------------------------------------------------------ export
def _retargeted_leaf(tmp_path):
    """A leaf whose student config (Fast-SCNN, Cityscapes pipelines at 2048x1024, 160k) is
    distilled on the tiny synthetic scenes at 64x64 with the tiny CPU schedule."""
    leaf = tmp_path / 'dsd_tiny_fast-scnn_1xb4-40_synthetic-64x64.py'
    leaf.write_text(
        f"_base_ = [{osp.join(REPO, 'configs/_base_/distill/pixel_kd.py')!r},\n"
        f"          {osp.join(REPO, 'configs/_base_/datasets/synthetic_scenes.py')!r},\n"
        f"          {osp.join(REPO, 'configs/_base_/schedules/tiny_cpu.py')!r}]\n"
        f"data_root = {str(tmp_path / 'data')!r}\n"
        "train_dataloader = dict(dataset=dict(data_root=data_root))\n"
        "val_dataloader = dict(dataset=dict(data_root=data_root))\n"
        "test_dataloader = val_dataloader\n"
        "test_pipeline = None  # a data config need not name one at top level\n"
        f"model = dict(architecture=dict(type='ModelFromConfig', cfg_path={FAST_SCNN!r},\n"
        "                                num_classes=7),\n"
        f"             teacher=dict(type='ModelFromConfig', cfg_path={TEACHER_CFG!r},\n"
        "                          num_classes=7),\n"
        "             data_preprocessor=dict(type='mmseg.SegDataPreProcessor', size=(64, 64),\n"
        "                 mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],\n"
        "                 bgr_to_rgb=True, pad_val=0, seg_pad_val=255))\n"
        "default_hooks = dict(export_student=dict(type='mmrazor.ExportStudentHook'),\n"
        "                     term_shares=dict(type='mmrazor.TermShareHook'))\n"
        "val_cfg = dict(type='mmrazor.SingleTeacherDistillValLoop')\n")
    return leaf


def test_the_exported_config_is_the_one_the_student_was_trained_and_validated_with(tmp_path):
    from mmengine.config import Config
    from mmengine.dataset import Compose
    from mmseg.apis import inference_model, init_model

    from mmseg_distill.engine.export import export_student
    leaf = _retargeted_leaf(tmp_path)
    cfg = Config.fromfile(str(leaf))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        algorithm = build_algorithm(cfg.model)
    ckpt = tmp_path / 'iter_40.pth'
    torch.save({'meta': dict(cfg=cfg.pretty_text, experiment_name=leaf.stem + '_20261203_0'),
                'state_dict': algorithm.state_dict()}, ckpt)
    path, config = export_student(str(ckpt), str(tmp_path / 'out'))
    exported = Config.fromfile(config)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator',
                'train_cfg', 'param_scheduler', 'optim_wrapper', 'crop_size', 'randomness'):
        assert exported[key] == cfg[key], key
    assert exported.test_pipeline == cfg.test_dataloader.dataset.pipeline
    assert not any('Resize' in str(step['type']) for step in exported.test_pipeline)
    assert exported.val_cfg == dict(type='ValLoop')
    distillation_hooks = {'export_student', 'term_shares'}
    # the student trained alone checks its masks as the distillation did
    assert set(exported.default_hooks) == \
        set(cfg.default_hooks) - distillation_hooks | {'check_labels'}
    assert exported.default_hooks.check_labels == dict(type='mmrazor.LabelCheckHook')
    assert exported.model.data_preprocessor.size == (64, 64)
    assert exported.model.decode_head.num_classes == 7
    # inference through plain MMSeg predicts what the distillation's validation predicted
    from mmseg_distill.datasets.synthetic_scenes import generate
    generate(str(tmp_path / 'data'), num_train=2, num_val=2, size=64)
    image = str(tmp_path / 'data' / 'img_dir' / 'val' / 'val_00000.png')
    model = init_model(config, path, device='cpu')
    predicted = inference_model(model, image).pred_sem_seg.data
    algorithm.eval()
    item = Compose(cfg.test_dataloader.dataset.pipeline)(dict(
        img_path=image, seg_map_path=image.replace('img_dir', 'ann_dir'), reduce_zero_label=False,
        seg_fields=[]))
    batch = dict(inputs=[item['inputs']], data_samples=[item['data_samples']])
    with torch.no_grad():
        validated = algorithm.val_step(batch)[0].pred_sem_seg.data
    assert torch.equal(predicted, validated)


def test_ka_stage1_exports_nothing(tmp_path):
    from mmseg_distill.engine.hooks import ExportStudentHook
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_4.pth'))
    logs = []
    runner = types.SimpleNamespace(
        work_dir=str(tmp_path), model=types.SimpleNamespace(student_trainable=False),
        cfg=types.SimpleNamespace(filename='/x/ka-stage1_tiny.py'),
        logger=types.SimpleNamespace(info=logs.append, warning=logs.append))
    ExportStudentHook().after_run(runner)
    assert not (tmp_path / 'student').exists()
    assert 'nothing exported' in logs[-1]


# ------------------------------------------------------------------------ shares under ALW
def test_alw_shares_are_shown_at_the_first_iteration_and_at_full_weight():
    from mmengine.config import Config

    from mmseg_distill.engine.shares import (TermStats, apply_start_factors, format_shares,
                                             schedule_start_factors)
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/distill/aicsd_paper.py'))
    factors, task_factor = schedule_start_factors(cfg)
    assert factors == {'loss_kd': 1.0, 'loss_icsd': 0.0} and task_factor == 0.0
    floored = Config(dict(custom_hooks=[dict(cfg.custom_hooks[1], floor=0.25)]))
    assert schedule_start_factors(floored)[0]['loss_icsd'] == 0.25
    terms = {'loss_icsd': TermStats(84.0, 0.03, 0.0, share=2.31),
             'loss_kd': TermStats(10.0, 0.25, 0.0, share=0.9)}
    apply_start_factors(terms, dict(factors, loss_icsd=0.25))
    assert terms['loss_icsd'].start_share == pytest.approx(2.31 * 0.25)
    table = format_shares(terms, 1.1, 'aicsd:', task_factor)
    assert '| share at full weight | share at iteration 0 (scheduled weight) |' in table
    assert '| loss_icsd | 84 | 0.03 (0) | 2.52 | 2.31 | 0.578 (x0.25) | ok |' in table
    assert "student's task loss is scheduled too (x0 at iteration 0)" in table
    assert schedule_start_factors(Config(dict(custom_hooks=[]))) == ({}, None)
    plain = format_shares({'loss_kd': TermStats(1.0, 0.5, 0.0, share=0.5)}, 1.0, 'kd:')
    assert 'iteration 0' not in plain


# ------------------------------------------------------------------------ transfer
def test_transfer_reads_a_student_with_a_list_of_auxiliary_heads_and_names_what_it_leaves_out():
    from mmseg_distill.evidence import aux_logit_sources, left_out, measure_students
    from mmseg_distill.models import ModelFromConfig
    from mmseg_distill.utils import random_seg_batch
    torch.manual_seed(0)
    teacher = ModelFromConfig(TEACHER_CFG, num_classes=7, random_init=True)
    fast_scnn = ModelFromConfig(FAST_SCNN, num_classes=7, random_init=True)
    from mmengine.model import revert_sync_batchnorm
    fast_scnn = revert_sync_batchnorm(fast_scnn)
    plain = ModelFromConfig(STUDENT_CFG, num_classes=7, random_init=True)
    assert aux_logit_sources(fast_scnn) == ['auxiliary_head.0.conv_seg',
                                            'auxiliary_head.1.conv_seg']
    inputs, samples = random_seg_batch(2, (64, 64), 7, seed=0)
    results = measure_students(teacher, {'fast_scnn': fast_scnn}, [(inputs, samples)])
    assert 'psd' in results['fast_scnn']  # it was silently missing with a list of heads
    reasons = left_out(teacher, {'fast_scnn': fast_scnn})
    assert 'psd' not in reasons
    assert '--stage1' in reasons['ka_affinity'] and '--pre-relu' in reasons['pairwise']
    del plain.auxiliary_head
    reasons = left_out(teacher, {'plain': plain})
    assert 'no auxiliary head on plain' in reasons['psd']

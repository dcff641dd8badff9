"""End to end: the real `mim train mmseg` / `mim train mmrazor` commands on the tiny pairs."""
import glob
import json
import math
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest

from tiny_pair import PAIR, REPO, leaf_config

MIM = osp.join(osp.dirname(sys.executable), 'mim')
SHORT = ['train_cfg.max_iters=6', 'train_cfg.val_interval=6', 'default_hooks.logger.interval=2',
         'default_hooks.checkpoint.interval=3', 'train_dataloader.batch_size=2']


def mim_train(package, config, work_dir, cwd, options=(), extra=()):
    cmd = [MIM, 'train', package, config, '--work-dir', str(work_dir)] + list(extra)
    if options:
        cmd += ['--cfg-options'] + list(options)
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600,
                         env=dict(os.environ, PYTHONUNBUFFERED='1'))
    assert out.returncode == 0, (out.stdout[-4000:], out.stderr[-4000:])
    return out.stdout + out.stderr


def logged_scalars(work_dir):
    """The training records of the newest run in work_dir (MMEngine's scalars.json)."""
    runs = sorted(glob.glob(osp.join(str(work_dir), '*', 'vis_data', 'scalars.json')))
    with open(runs[-1]) as f:
        return [json.loads(line) for line in f if '"loss"' in line]


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    """A working directory with the generated data and a teacher trained for a few steps."""
    cwd = tmp_path_factory.mktemp('mim')
    teacher_cfg = osp.join(REPO, 'configs/tiny/deeplabv3_r18-tiny_1xb4-40_synthetic-64x64.py')
    mim_train('mmseg', teacher_cfg, cwd / 'teacher', cwd,
              SHORT[:1] + ['train_cfg.val_interval=6', 'default_hooks.checkpoint.interval=6'])
    ckpt = cwd / 'teacher' / 'iter_6.pth'
    assert ckpt.exists()
    return cwd, str(ckpt)


@pytest.mark.parametrize('method_dir,name', [('pixel_kd', 'pixel-kd'), ('dsd', 'dsd'),
                                             ('dsd', 'dsd-stages'), ('pfs', 'pfs'),
                                             ('aicsd', 'aicsd')])
def test_mim_train_mmrazor_runs_each_method(workspace, method_dir, name):
    cwd, teacher_ckpt = workspace
    work_dir = cwd / name
    log = mim_train('mmrazor', leaf_config(method_dir, name), work_dir, cwd,
                    SHORT + [f'model.teacher_ckpt={teacher_ckpt}'])
    assert 'teacher.mIoU' in log  # SingleTeacherDistillValLoop evaluated both
    records = logged_scalars(work_dir)
    assert [r['iter'] for r in records] == [2, 4, 6]
    distill_keys = [k for k in records[0] if k.startswith('distill.loss_')]
    assert distill_keys
    for record in records:
        assert all(math.isfinite(record[k]) for k in distill_keys + ['loss'])
    assert (work_dir / 'iter_6.pth').exists()


def test_ka_two_stages_through_mim(workspace):
    cwd, teacher_ckpt = workspace
    mim_train('mmrazor', leaf_config('ka', 'ka-stage1'), cwd / 'ka1', cwd,
              SHORT + [f'model.teacher_ckpt={teacher_ckpt}'])
    stage1 = logged_scalars(cwd / 'ka1')
    assert set(k for k in stage1[0] if 'loss' in k) == {'loss', 'distill.loss_ae'}
    mim_train('mmrazor', leaf_config('ka', 'ka-stage2'), cwd / 'ka2', cwd, SHORT + [
        f'model.teacher_ckpt={teacher_ckpt}',
        f'model.distiller.connectors.teacher_autoencoder.checkpoint={cwd / "ka1" / "iter_6.pth"}'
    ])
    stage2 = logged_scalars(cwd / 'ka2')
    assert all(math.isfinite(r['distill.loss_ka']) and math.isfinite(r['distill.loss_affinity'])
               for r in stage2)


def test_neck_pair_through_mim(workspace):
    cwd, _ = workspace
    config = osp.join(REPO, 'configs/dsd/dsd-stages_fpn-r18-tiny_fpn-mbv2-tiny_1xb4-40_'
                      'synthetic-64x64.py')
    mim_train('mmrazor', config, cwd / 'neck', cwd, SHORT)
    assert all(math.isfinite(r['distill.loss_psd']) for r in logged_scalars(cwd / 'neck'))


def test_resume_continues_iterations_and_alw_schedule(workspace):
    cwd, teacher_ckpt = workspace
    config = leaf_config('aicsd', 'aicsd')
    options = SHORT + [f'model.teacher_ckpt={teacher_ckpt}']
    full = cwd / 'aicsd_full'
    mim_train('mmrazor', config, full, cwd, options)
    part = cwd / 'aicsd_part'
    shutil.copytree(full, part, ignore=shutil.ignore_patterns('iter_6.pth', '*.json', '2*'))
    with open(part / 'last_checkpoint', 'w') as f:
        f.write(str(part / 'iter_3.pth'))
    log = mim_train('mmrazor', config, part, cwd, options, extra=['--resume'])
    assert 'resumed epoch: 0, iter: 3' in log
    resumed = {r['iter']: r for r in logged_scalars(part)}
    uninterrupted = {r['iter']: r for r in logged_scalars(full)}
    assert sorted(resumed) == [4, 6]
    for it in (4, 6):  # the schedules continue exactly; the losses differ only through RNG
        # state (dropout, flips), which MMEngine does not checkpoint
        assert resumed[it]['alw_rising_factor'] == uninterrupted[it]['alw_rising_factor']
        assert resumed[it]['lr'] == uninterrupted[it]['lr']
        assert math.isfinite(resumed[it]['loss'])

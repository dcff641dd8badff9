"""End to end: the real `mim train mmseg` / `mim train mmrazor` commands on the tiny pairs."""
import glob
import math
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch
from tiny_pair import REPO, leaf_config

from benchmarks import tiny
from mmseg_distill.methods import all_forms, stage1_forms

pytestmark = pytest.mark.e2e


MIM = tiny.MIM
SHORT = ['train_cfg.max_iters=6', 'train_cfg.val_interval=6', 'default_hooks.logger.interval=2',
         'default_hooks.checkpoint.interval=3', 'train_dataloader.batch_size=2']


def mim_train(package, config, work_dir, cwd, options=(), extra=()):
    out = tiny.mim_train(package, config, work_dir, cwd, options, extra, timeout=600)
    assert out.returncode == 0, (out.stdout[-4000:], out.stderr[-4000:])
    return out.stdout + out.stderr


logged_scalars = tiny.training_records


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


# every one-stage form but AICSD's official-ICSD one (the same code path as the paper form's),
# and DSD's extension to stage maps; the two-stage forms: test_two_stages_through_mim
ONE_STAGE = [(m.directory, f.prefix) for m, f in all_forms()
             if not f.stage1 and f.prefix != 'aicsd-official-icsd'] + [('dsd', 'dsd-stages')]
TWO_STAGE, STAGE2 = stage1_forms()[0]


@pytest.mark.parametrize('method_dir,name', ONE_STAGE)
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


def test_two_stages_through_mim(workspace):
    cwd, teacher_ckpt = workspace
    stage = STAGE2.stage1
    mim_train('mmrazor', leaf_config(TWO_STAGE.directory, stage.prefix), cwd / 'ka1', cwd,
              SHORT + [f'model.teacher_ckpt={teacher_ckpt}'])
    stage1 = logged_scalars(cwd / 'ka1')
    assert set(k for k in stage1[0] if 'loss' in k) == {'loss', 'distill.loss_ae'}
    mim_train('mmrazor', leaf_config(TWO_STAGE.directory, STAGE2.prefix), cwd / 'ka2', cwd,
              SHORT + [f'model.teacher_ckpt={teacher_ckpt}',
                       f'{stage.checkpoint_key}={cwd / "ka1" / "iter_6.pth"}'])
    stage2 = logged_scalars(cwd / 'ka2')
    assert all(math.isfinite(r[f'distill.{loss}']) for r in stage2 for loss in STAGE2.losses)


def test_neck_pair_through_mim(workspace):
    cwd, _ = workspace
    config = osp.join(REPO, 'configs/dsd/dsd-stages_fpn-r18-tiny_fpn-mbv2-tiny_1xb4-40_'
                      'synthetic-64x64.py')
    mim_train('mmrazor', config, cwd / 'neck', cwd, SHORT)
    assert all(math.isfinite(r['distill.loss_psd']) for r in logged_scalars(cwd / 'neck'))


@pytest.mark.parametrize('val_interval', [3, 2],
                         ids=['validation-at-the-checkpoint', 'validation-elsewhere'])
def test_resume_continues_iterations_and_alw_schedule_exactly(workspace, val_interval):
    """Resumed from iter_3, a run logs what the uninterrupted one logged, bit for bit, also
    when validation ran at the checkpoint's iteration (after the checkpoint was written: it
    drew from the training random streams, which the resumed run never saw)."""
    cwd, teacher_ckpt = workspace
    config = leaf_config('aicsd', 'aicsd')
    options = SHORT + [f'model.teacher_ckpt={teacher_ckpt}',
                       f'train_cfg.val_interval={val_interval}']
    full = cwd / f'aicsd_full_val{val_interval}'
    mim_train('mmrazor', config, full, cwd, options)
    part = cwd / f'aicsd_part_val{val_interval}'
    shutil.copytree(full, part, ignore=shutil.ignore_patterns('iter_6.pth', '*.json', '2*'))
    with open(part / 'last_checkpoint', 'w') as f:
        f.write(str(part / 'iter_3.pth'))
    log = mim_train('mmrazor', config, part, cwd, options, extra=['--resume'])
    assert 'resumed epoch: 0, iter: 3' in log
    resumed = {r['iter']: r for r in logged_scalars(part)}
    uninterrupted = {r['iter']: r for r in logged_scalars(full)}
    assert sorted(resumed) == [4, 6]
    for it in (4, 6):  # schedules, optimizer, data and dropout (RNGStateHook) continue exactly
        assert resumed[it]['alw_rising_factor'] == uninterrupted[it]['alw_rising_factor']
        assert resumed[it]['lr'] == uninterrupted[it]['lr']
        assert resumed[it]['loss'] == uninterrupted[it]['loss']


def test_a_resumed_two_process_run_equals_the_uninterrupted_one(workspace):
    """With ``randomness.diff_rank_seed=True`` each rank draws its own dropout masks: resumed,
    each must continue from its own random state (rank 0's on every rank changed rank 1's
    masks, hence the summed gradients and rank 0's later losses)."""
    cwd, teacher_ckpt = workspace
    config = leaf_config('pixel_kd', 'pixel-kd')
    options = SHORT + [f'model.teacher_ckpt={teacher_ckpt}', 'randomness.diff_rank_seed=True']
    two = ['--launcher', 'pytorch', '--gpus', '2']
    full = cwd / 'ddp_full'
    mim_train('mmrazor', config, full, cwd, options, extra=two)
    part = cwd / 'ddp_part'
    shutil.copytree(full, part, ignore=shutil.ignore_patterns('iter_6.pth', '*.json', '2*',
                                                              'student'))
    (part / 'last_checkpoint').write_text(str(part / 'iter_3.pth'))
    state = torch.load(part / 'iter_3.pth', weights_only=False)['rng_state']
    assert len(state['ranks']) == 2 and not torch.equal(state['ranks'][0]['torch'],
                                                        state['ranks'][1]['torch'])
    mim_train('mmrazor', config, part, cwd, options, extra=two + ['--resume'])
    resumed = {r['iter']: r for r in logged_scalars(part)}
    uninterrupted = {r['iter']: r for r in logged_scalars(full)}
    assert sorted(resumed) == [4, 6]
    for it in (4, 6):
        assert resumed[it]['loss'] == uninterrupted[it]['loss']


def test_recorders_on_norm_layers_follow_sync_bn_in_two_processes(workspace):
    """``sync_bn='torch'`` makes MMEngine convert the BatchNorm layers to SyncBN (new modules)
    and the CPU wrapper reverts them (new again): the official AICSD leaf records a norm layer
    on both sides (the teacher's ``decode_head.bottleneck.bn``, the student's
    ``decode_head.convs.0.bn``) and must still record on every rank."""
    cwd, teacher_ckpt = workspace
    work = cwd / 'sync_bn'
    log = mim_train('mmrazor', leaf_config('aicsd', 'aicsd-official'), work, cwd,
                    SHORT + [f'model.teacher_ckpt={teacher_ckpt}', 'sync_bn=torch'],
                    extra=['--launcher', 'pytorch', '--gpus', '2'])
    assert 'the distributed backend is gloo' in log
    records = logged_scalars(work)
    assert [r['iter'] for r in records] == [2, 4, 6]
    assert all(math.isfinite(r['distill.loss_pa']) for r in records)


def test_same_seed_same_config_gives_identical_losses(workspace):
    cwd, teacher_ckpt = workspace
    config = leaf_config('pfs', 'pfs')
    options = SHORT + [f'model.teacher_ckpt={teacher_ckpt}']
    mim_train('mmrazor', config, cwd / 'det_a', cwd, options)
    mim_train('mmrazor', config, cwd / 'det_b', cwd, options)
    first, second = logged_scalars(cwd / 'det_a'), logged_scalars(cwd / 'det_b')
    keys = [k for k in first[0] if 'loss' in k]
    assert [[r[k] for k in keys] for r in first] == [[r[k] for k in keys] for r in second]


def test_same_seed_baseline_is_identical(workspace):
    """`mim train mmseg`: two runs of the student with the same seed log the same numbers."""
    from tiny_pair import STUDENT_CFG
    cwd, _ = workspace
    mim_train('mmseg', STUDENT_CFG, cwd / 'base_a', cwd, SHORT)
    mim_train('mmseg', STUDENT_CFG, cwd / 'base_b', cwd, SHORT)
    first, second = logged_scalars(cwd / 'base_a'), logged_scalars(cwd / 'base_b')
    keys = [k for k in first[0] if 'loss' in k or 'acc' in k]
    assert keys and [[r[k] for k in keys] for r in first] == [[r[k] for k in keys]
                                                              for r in second]


def test_exported_student_loads_in_plain_mmseg_and_predicts_like_the_distilled_student(workspace):
    import re

    import torch
    from mmengine.config import Config
    from mmengine.runner import load_checkpoint
    from mmrazor.registry import MODELS
    from mmseg.apis import inference_model, init_model
    from tiny_pair import STUDENT_CFG

    import mmseg_distill  # noqa: F401
    from mmseg_distill.engine.export import export_student

    cwd, teacher_ckpt = workspace
    work_dir = cwd / 'export'
    config = leaf_config('pixel_kd', 'pixel-kd')
    log = mim_train('mmrazor', config, work_dir, cwd,
                    SHORT + [f'model.teacher_ckpt={teacher_ckpt}'])
    path, _ = export_student(str(work_dir / 'iter_6.pth'), str(work_dir / 'zoo'), 'pixel-kd_tiny')
    assert re.fullmatch(r'pixel-kd_tiny_\d{8}_\d{6}-[0-9a-f]{8}\.pth', osp.basename(path))
    exported = torch.load(path)
    assert set(exported) == {'meta', 'state_dict'}

    algorithm = MODELS.build(Config.fromfile(config).model)
    load_checkpoint(algorithm, str(work_dir / 'iter_6.pth'))
    assert set(exported['state_dict']) == set(algorithm.student.state_dict())

    model = init_model(STUDENT_CFG, path, device='cpu')
    algorithm.student.eval()
    algorithm.student.cfg = model.cfg  # inference_model reads the test pipeline from .cfg
    image = glob.glob(str(cwd / 'data/synthetic_scenes/img_dir/val/*.png'))[0]
    ours = inference_model(model, image).seg_logits.data
    theirs = inference_model(algorithm.student, image).seg_logits.data
    torch.testing.assert_close(ours, theirs)

    # MMSeg's own test loop on the student config reproduces the student's validation mIoU
    val_miou = re.findall(r'Iter\(val\).*? mIoU: ([0-9.]+)', log)[-1]
    out = subprocess.run([MIM, 'test', 'mmseg', STUDENT_CFG, '--checkpoint', path,
                          '--work-dir', str(work_dir / 'test')], cwd=cwd, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert re.findall(r'mIoU: ([0-9.]+)', out.stdout + out.stderr)[-1] == val_miou


def test_two_process_gloo_run_through_mim_and_torchrun(workspace):
    """MMEngine's distributed runner on a CPU-only machine, by both launch routes, with no
    option changed: the fragments' wrapper fits CPU and the backend falls back to gloo."""
    cwd, teacher_ckpt = workspace
    config = leaf_config('pixel_kd', 'pixel-kd')
    per_rank = SHORT[:-1] + ['train_dataloader.batch_size=2', f'model.teacher_ckpt={teacher_ckpt}']
    # 1) `mim train --launcher pytorch`: torch.distributed.launch passes --local-rank, which the
    #    start-up hook rewrites for MMRazor's train script
    log = mim_train('mmrazor', config, cwd / 'ddp_mim', cwd, per_rank,
                    extra=['--launcher', 'pytorch', '--gpus', '2'])
    assert 'the distributed backend is gloo' in log
    # 2) torchrun
    import mmrazor
    train_py = osp.join(osp.dirname(mmrazor.__file__), '.mim', 'tools', 'train.py')
    out = subprocess.run([osp.join(osp.dirname(sys.executable), 'torchrun'),
                          '--nproc_per_node=2', '--master_port=29517', train_py, config,
                          '--launcher', 'pytorch', '--work-dir', str(cwd / 'ddp_torchrun'),
                          '--cfg-options'] + per_rank, cwd=cwd, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-4000:]
    single = cwd / 'ddp_single'  # one process, the same total batch of 4
    mim_train('mmrazor', config, single, cwd, SHORT[:-1] + ['train_dataloader.batch_size=4',
                                                            f'model.teacher_ckpt={teacher_ckpt}'])
    reference = logged_scalars(single)
    for work_dir in ('ddp_mim', 'ddp_torchrun'):
        assert sorted(p.name for p in (cwd / work_dir).glob('iter_*.pth')) == [
            'iter_3.pth', 'iter_6.pth']  # one checkpoint per save, from rank 0 only
        records = logged_scalars(cwd / work_dir)
        assert [r['iter'] for r in records] == [r['iter'] for r in reference]
        for got, want in zip(records, reference):
            # the same 4 images per step; the student's BatchNorm sees 2 images per rank
            # instead of 4, so the values agree only approximately
            assert got['distill.loss_kd'] == pytest.approx(want['distill.loss_kd'], rel=0.25)
            assert math.isfinite(got['loss'])

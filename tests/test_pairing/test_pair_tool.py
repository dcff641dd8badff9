"""The pair tool as a user meets it: terms measured against the task loss and kept in band,
errors that name the crop or the option to pass, and its help."""
import os.path as osp
import subprocess
import sys

import pytest
from tiny_pair import REPO, STUDENT_CFG, TEACHER_CFG

from mmseg_distill.engine.shares import BAND, INSIDE, TermStats, format_shares, task_loss

TOOL = osp.join(REPO, 'tools', 'inspect_pair.py')


def pair_tool(*args, cwd=None):
    out = subprocess.run([sys.executable, TOOL] + [str(a) for a in args], capture_output=True,
                         text=True, cwd=cwd, timeout=900)
    return out.returncode, out.stdout, out.stderr


def test_term_status_and_the_weight_that_brings_it_in():
    dead = TermStats(weight=10.0, unweighted=6.2e-12, spread=0.0, share=6.2e-11 / 2)
    dominant = TermStats(weight=50.0, unweighted=12.7, spread=0.0, share=635 / 0.75)
    fine = TermStats(weight=1.0, unweighted=0.5, spread=0.0, share=0.5)
    assert (dead.status, dominant.status, fine.status) == ('dead', 'dominant', 'ok')
    assert fine.weight_in_band() is None
    # moved INSIDE times inside the edge each crossed
    assert dead.weight_in_band() * dead.unweighted / 2 == pytest.approx(BAND[0] * INSIDE)
    assert dominant.weight_in_band() * dominant.unweighted / 0.75 == \
        pytest.approx(BAND[1] / INSIDE)
    table = format_shares({'loss_csd': dead, 'loss_ka': dominant}, 2.0, 'pair:')
    assert '| loss_csd |' in table and 'dead' in table and 'dominant' in table


def test_task_loss_is_the_students_own_losses():
    import torch
    losses = {'student.decode.loss_ce': torch.tensor(1.0), 'student.decode.acc_seg':
              torch.tensor(90.0), 'student.aux.loss_ce': torch.tensor(0.5),
              'distill.loss_kd': torch.tensor(3.0)}
    assert task_loss(losses) == 1.5


@pytest.mark.e2e  # runs the tool (or Python) in a subprocess
def test_positional_arguments_have_help():
    code, out, _ = pair_tool('--help')
    assert code == 0
    assert 'teacher config: a file' in out and 'student config: a file' in out


@pytest.mark.e2e  # runs the tool (or Python) in a subprocess
def test_a_crop_too_small_names_the_crop_and_the_smallest_that_works(tmp_path):
    student = 'mmseg::mobilenet_v3/mobilenet-v3-d8_lraspp_4xb4-320k_cityscapes-512x1024.py'
    code, _, err = pair_tool(TEACHER_CFG, student, '--num-classes', 7, '--crop', 64, 64)
    assert code == 2
    assert '--crop 64 64' in err and 'the student cannot run' in err
    assert 'smallest square crop at which both models run is 416x416' in err


@pytest.mark.e2e  # runs the tool (or Python) in a subprocess
def test_a_class_count_mismatch_names_num_classes(tmp_path):
    code, _, err = pair_tool('mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py',
                             'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py',
                             '--crop', 64, 64, '--method', 'pixel_kd', '--out',
                             tmp_path / 'kd.py')
    assert code == 2
    assert 'teacher predicts 150 classes and the student 19' in err and '--num-classes' in err


@pytest.fixture(scope='module')
def briefly_trained_teacher(tmp_path_factory):
    """The tiny teacher after a few iterations on the synthetic scenes (a trained teacher's
    checkpoint, as far as the pair tool is concerned)."""
    cwd = tmp_path_factory.mktemp('teacher')
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    out = subprocess.run([mim, 'train', 'mmseg', TEACHER_CFG, '--work-dir', str(cwd / 'run'),
                          '--cfg-options', 'train_cfg.max_iters=4', 'train_cfg.val_interval=4',
                          'default_hooks.checkpoint.interval=4'], cwd=cwd, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return cwd, str(cwd / 'run' / 'iter_4.pth')


DATA = 'mmseg_distill::_base_/datasets/synthetic_scenes.py'


@pytest.mark.e2e  # runs the tool (or Python) in a subprocess
def test_out_of_band_terms_get_a_calibrated_weight_with_the_measurement(
        briefly_trained_teacher):
    cwd, teacher = briefly_trained_teacher
    leaf = cwd / 'dsd_calibrated.py'
    code, out, err = pair_tool(TEACHER_CFG, STUDENT_CFG, '--method', 'dsd', '--num-classes', 7,
                               '--crop', 64, 64, '--out', leaf, '--teacher-ckpt', teacher,
                               '--data', DATA, '--check', cwd=cwd)
    assert code == 0, err[-3000:]
    assert '| loss_psd |' in out and '| loss_csd |' in out  # every term's share is printed
    assert 'every term between the band edges' in out
    text = leaf.read_text()
    # the CSD of an early teacher is dead at CIRKD's 10: the leaf says so and by how much
    assert 'calibration: tools/inspect_pair.py measured loss_csd at' in text
    assert "fragment's (source) weight 10" in text


@pytest.mark.e2e  # runs the tool (or Python) in a subprocess
def test_keeping_source_weights_names_the_terms_and_check_fails_on_them(
        briefly_trained_teacher):
    cwd, teacher = briefly_trained_teacher
    leaf = cwd / 'dsd_sources.py'
    code, out, err = pair_tool(TEACHER_CFG, STUDENT_CFG, '--method', 'dsd', '--num-classes', 7,
                               '--crop', 64, 64, '--out', leaf, '--teacher-ckpt', teacher,
                               '--data', DATA, '--keep-source-weights', '--check', cwd=cwd)
    assert code == 1
    assert 'loss_csd dead' in err and '--allow-out-of-band' in err
    text = leaf.read_text()
    assert text.startswith('# out of band: ') and 'would bring it inside' in text
    assert 'calibration:' not in text
    code, _, err = pair_tool(TEACHER_CFG, STUDENT_CFG, '--method', 'dsd', '--num-classes', 7,
                             '--crop', 64, 64, '--out', leaf, '--teacher-ckpt', teacher,
                             '--data', DATA, '--keep-source-weights', '--check',
                             '--allow-out-of-band', cwd=cwd)
    assert code == 0, err[-3000:]


def test_term_share_hook_logs_shares_and_warns_once_when_a_term_leaves_the_band():
    import types

    import torch

    from mmseg_distill.engine.hooks import TermShareHook
    scalars, warnings_ = {}, []
    losses = {'loss_kd': types.SimpleNamespace(loss_weight=1.0),
              'loss_icsd': types.SimpleNamespace(loss_weight=0.0)}
    runner = types.SimpleNamespace(
        model=types.SimpleNamespace(distiller=types.SimpleNamespace(distill_losses=losses)),
        message_hub=types.SimpleNamespace(update_scalar=scalars.__setitem__),
        logger=types.SimpleNamespace(warning=warnings_.append))
    hook = TermShareHook(window=3)
    for _ in range(5):  # kd swamps the task loss; icsd is switched off by its schedule
        hook.after_train_iter(runner, 0, outputs={
            'student.decode.loss_ce': torch.tensor(0.5), 'student.decode.acc_seg':
            torch.tensor(80.0), 'distill.loss_kd': torch.tensor(400.0),
            'distill.loss_icsd': torch.tensor(0.0)})
    assert scalars['train/share_loss_kd'] == 800.0
    assert 'train/share_loss_icsd' not in scalars
    assert len(warnings_) == 1 and 'distill.loss_kd is dominant' in warnings_[0]


# ------------------------------------------------------------------ a user's own folder
def _points():
    from mmseg_distill.pairing import RecordingPoint
    teacher = [RecordingPoint('SegHeadFeature (decode)', 'head feature', 64, (8, 8), 8),
               RecordingPoint('SegLogits (decode)', 'logits', 7, (8, 8), 8)]
    student = [RecordingPoint('SegHeadFeature (decode)', 'head feature', 32, (8, 8), 8),
               RecordingPoint('SegLogits (decode)', 'logits', 7, (8, 8), 8)]
    return teacher, student


def test_ka_stage2_names_the_stage1_runs_work_directory_whatever_its_length(tmp_path):
    """Not a checkpoint file named after stage 1's iterations (which depend on the schedule
    and the GPU count): the run's work directory, whose last checkpoint the connector loads."""
    from mmengine.config import Config

    from mmseg_distill.pairing import Pair, leaf_texts
    student_cfg = Config(dict(train_cfg=dict(type='IterBasedTrainLoop', max_iters=160000)))
    schedule = Config(dict(train_cfg=dict(type='IterBasedTrainLoop', max_iters=100)))
    out = str(tmp_path / 'leaves' / 'ka_x.py')
    for pair, kwargs in ((Pair('t.py', 's.py', 'ka', out, (64, 64), 7, schedule='sched.py'),
                          dict(schedule_cfg=schedule)),
                         (Pair('t.py', 's.py', 'ka', out, (64, 64), 7), {})):
        stage2 = dict(leaf_texts(pair, *_points(), student_cfg, **kwargs))[out]
        assert "work_dirs/ka_x_stage1'" in stage2
        assert 'iter_100' not in stage2 and 'iter_160000' not in stage2


def test_every_path_the_leaf_names_resolves_from_the_leaf_wherever_it_is_run(tmp_path,
                                                                             monkeypatch):
    from mmengine.config import Config

    from mmseg_distill.pairing import Pair, leaf_texts
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'my_configs').mkdir()
    (tmp_path / 'my_configs' / 'data.py').write_text("crop_size = (64, 64)\n")
    (tmp_path / 'my_configs' / 'sched.py').write_text(
        "train_cfg = dict(type='IterBasedTrainLoop', max_iters=8)\n")
    (tmp_path / 'models').mkdir()
    for name in ('t.py', 's.py'):
        (tmp_path / 'models' / name).write_text('model = dict()\n')
    (tmp_path / 'run').mkdir()
    (tmp_path / 'run' / 'teacher.pth').write_bytes(b'')
    out = 'leaves/deep/ka_x.py'
    pair = Pair('models/t.py', 'models/s.py', 'ka', out, (64, 64), 7, 'my_configs/data.py',
                'run/teacher.pth', 'my_configs/sched.py', seed=3,
                init_checkpoint='leaves/deep/ka_x_init.pth')
    texts = leaf_texts(pair, *_points(), Config(dict(train_cfg=dict(max_iters=160000))),
                       schedule_cfg=Config.fromfile('my_configs/sched.py'))
    for path, text in texts:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    monkeypatch.chdir('/')  # another working directory: everything still resolves
    cfg = Config.fromfile(str(tmp_path / out))
    assert cfg.crop_size == (64, 64) and cfg.train_cfg.max_iters == 8  # the _base_ files
    assert osp.samefile(cfg.model.architecture.cfg_path, tmp_path / 'models' / 's.py')
    assert osp.samefile(cfg.model.teacher.cfg_path, tmp_path / 'models' / 't.py')
    assert osp.samefile(cfg.model.teacher_ckpt, tmp_path / 'run' / 'teacher.pth')
    # the initial student is an initialisation, not load_from (which --resume would resume from)
    assert cfg.get('load_from') is None
    assert cfg.model.architecture.init_cfg.type == 'Pretrained'
    assert osp.normpath(cfg.model.architecture.init_cfg.checkpoint) == \
        str(tmp_path / 'leaves/deep/ka_x_init.pth')
    assert cfg.randomness.seed == 3
    checkpoint = cfg.model.distiller.connectors.teacher_autoencoder.checkpoint
    # the stage-1 run's work directory (its last checkpoint is loaded), from the leaf's folder
    assert osp.normpath(checkpoint) == str(tmp_path / 'work_dirs/ka_x_stage1')
    stage1 = Config.fromfile(str(tmp_path / 'leaves/deep/ka_x_stage1.py'))
    assert stage1.get('load_from') is None  # stage 1 trains no student
    assert 'init_cfg' not in stage1.model.architecture


@pytest.mark.e2e  # runs the tool (or Python) in a subprocess
def test_a_missing_teacher_checkpoint_is_named_before_anything_is_written(tmp_path):
    code, _, err = pair_tool(TEACHER_CFG, STUDENT_CFG, '--method', 'pixel_kd', '--num-classes',
                             7, '--crop', 64, 64, '--out', 'leaves/kd.py', '--teacher-ckpt',
                             'work_dirs/teacher/iter_4.pth', cwd=tmp_path)
    assert code == 2
    assert '--teacher-ckpt work_dirs/teacher/iter_4.pth: no such file' in err
    assert 'Traceback' not in err and not (tmp_path / 'leaves').exists()


@pytest.mark.e2e  # runs the tool (or Python) in a subprocess
def test_relative_paths_a_baseline_and_a_bad_mask_from_a_users_folder(
        briefly_trained_teacher, tmp_path):
    from mmengine.config import Config
    cwd, teacher = briefly_trained_teacher
    (cwd / 'my_configs').mkdir(exist_ok=True)
    (cwd / 'my_configs' / 'data.py').write_text(f"_base_ = ['{DATA}']\n")
    teacher_cfg = osp.relpath(TEACHER_CFG, cwd)
    code, out, err = pair_tool(teacher_cfg, STUDENT_CFG, '--method', 'aicsd', '--num-classes', 7,
                               '--crop', 64, 64, '--out', 'leaves/aicsd.py', '--teacher-ckpt',
                               osp.relpath(teacher, cwd), '--data', 'my_configs/data.py',
                               '--schedule', 'mmseg_distill::_base_/schedules/tiny_cpu.py',
                               '--seed', 5, cwd=cwd)
    assert code == 0, err[-3000:]
    assert '[data] scanned all 200 training masks' in out
    # ALW: the share at the first iteration beside the one at full weight
    assert 'share at iteration 0 (scheduled weight)' in out and '(x0)' in out
    leaf = Config.fromfile(str(cwd / 'leaves' / 'aicsd.py'))  # its _base_ resolved
    assert leaf.randomness.seed == 5 and leaf.get('load_from') is None
    assert osp.samefile(leaf.model.architecture.init_cfg.checkpoint,
                        cwd / 'leaves' / 'aicsd_init.pth')
    assert osp.isfile(leaf.model.teacher_ckpt) and osp.isfile(leaf.model.teacher.cfg_path)
    baseline = Config.fromfile(str(cwd / 'leaves' / 'aicsd_baseline.py'))
    assert baseline.model.type == 'EncoderDecoder' and baseline.randomness.seed == 5
    assert baseline.train_cfg == leaf.train_cfg and \
        baseline.train_dataloader == leaf.train_dataloader
    assert baseline.get('load_from') is None
    assert osp.samefile(baseline.model.init_cfg.checkpoint, cwd / 'leaves' / 'aicsd_init.pth')
    import torch
    plain = torch.load(baseline.model.init_cfg.checkpoint)['state_dict']
    prefixed = torch.load(cwd / 'leaves' / 'aicsd_init_architecture.pth')['state_dict']
    assert set(prefixed) == {'architecture.' + k for k in plain}
    assert all(torch.equal(plain[k], prefixed['architecture.' + k]) for k in plain)
    # a mask value that is neither a class nor the ignore index: named, nothing written
    import cv2
    import numpy as np
    bad = tmp_path / 'bad'
    for sub in ('img_dir/train', 'ann_dir/train'):
        (bad / sub).mkdir(parents=True)
    for index in range(3):
        cv2.imwrite(str(bad / 'img_dir/train' / f'{index}.png'), np.zeros((64, 64, 3), np.uint8))
        mask = np.zeros((64, 64), np.uint8)
        mask[10:20, 10:20] = 9 if index == 1 else 255
        cv2.imwrite(str(bad / 'ann_dir/train' / f'{index}.png'), mask)
    (cwd / 'my_configs' / 'bad.py').write_text(
        f"_base_ = ['{DATA}']\n"
        f"train_dataloader = dict(dataset=dict(_delete_=True, type='BaseSegDataset',\n"
        f"    data_root='{bad}', img_suffix='.png', seg_map_suffix='.png',\n"
        "    data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),\n"
        "    pipeline=_base_.train_pipeline))\n")
    code, out, err = pair_tool(teacher_cfg, STUDENT_CFG, '--method', 'pixel_kd', '--num-classes',
                               7, '--crop', 64, 64, '--out', 'leaves/bad.py', '--data',
                               'my_configs/bad.py', cwd=cwd)
    assert code == 2
    assert f"{bad / 'ann_dir/train/1.png'} has label value(s) 9" in out
    assert 'num_classes=7' in out and 'ignores 255' in out
    assert not (cwd / 'leaves' / 'bad.py').exists()


def test_the_initial_student_leaves_pretrained_parts_to_the_runs_and_downloads_nothing(tmp_path):
    """PSPNet R18 initialises its backbone from an ImageNet checkpoint by URL: the shared
    initial student holds every other part, both runs load the backbone themselves."""
    import torch

    from mmseg_distill.pairing.baseline import write_initial_student
    student = 'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py'
    plain, prefixed, left_out = write_initial_student(student, str(tmp_path / 'kd.py'), 5, 3)
    assert left_out == {'backbone': 'open-mmlab://resnet18_v1c'}
    state = torch.load(plain)['state_dict']
    assert state and not any(k.startswith('backbone.') for k in state)
    assert state['decode_head.conv_seg.weight'].shape[0] == 5
    again, _, _ = write_initial_student(student, str(tmp_path / 'again.py'), 5, 3)
    assert all(torch.equal(v, torch.load(again)['state_dict'][k]) for k, v in state.items())
    assert set(torch.load(prefixed)['state_dict']) == {'architecture.' + k for k in state}

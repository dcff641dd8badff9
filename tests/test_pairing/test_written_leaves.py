"""What the pair tool writes, run as a user runs it, on a pair and data of this test's own: the
user's 5-class JPEG data set in MMSeg's layout with 255 on object borders, a teacher checkpoint
of theirs, and MMSeg's STDC1 zoo config as the student (plain BatchNorm, a detail head with two
classes of its own). Resume of the leaf and its baseline, one validation result in 1 or 2
processes equal to ``mim test``, every mask checked, the ``--check`` figures."""
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest
import torch
from tiny_pair import REPO, TEACHER_CFG
from user_data import data_config, write_mmseg_folder

from benchmarks import tiny

pytestmark = pytest.mark.e2e

TOOL = osp.join(REPO, 'tools', 'inspect_pair.py')
# the student: MMSeg's zoo config as it is (plain BatchNorm, no ImageNet download)
STDC1 = 'mmseg::stdc/stdc1_4xb12-80k_cityscapes-512x1024.py'
SHORT = ['train_cfg.max_iters=4', 'train_cfg.val_interval=4', 'default_hooks.logger.interval=1',
         'default_hooks.checkpoint.interval=2']


def pair_tool(cwd, *args):
    out = subprocess.run([sys.executable, TOOL] + [str(a) for a in args], capture_output=True,
                         text=True, cwd=cwd, timeout=900)
    return out.returncode, out.stdout, out.stderr


@pytest.fixture(scope='module')
def user_folder(tmp_path_factory):
    """The user's folder: data, data and student configs, a teacher checkpoint, and the leaf
    the pair tool wrote (with --check) with relative paths."""
    from mmseg_distill.models import ModelFromConfig
    cwd = tmp_path_factory.mktemp('user')
    write_mmseg_folder(str(cwd / 'data' / 'my5'), train=8, val=8)
    (cwd / 'my_configs').mkdir()
    (cwd / 'my_configs' / 'my_data.py').write_text(data_config('data/my5'))
    teacher = ModelFromConfig(TEACHER_CFG, num_classes=5, random_init=True)
    (cwd / 'work_dirs').mkdir()
    torch.save({'state_dict': teacher.state_dict()}, cwd / 'work_dirs' / 'teacher.pth')
    code, out, err = pair_tool(
        cwd, osp.relpath(TEACHER_CFG, cwd), STDC1, '--method', 'pixel_kd',
        '--num-classes', 5, '--crop', 64, 64, '--data', 'my_configs/my_data.py', '--schedule',
        'mmseg_distill::_base_/schedules/tiny_cpu.py', '--teacher-ckpt',
        'work_dirs/teacher.pth', '--out', 'leaves/kd.py', '--check')
    assert code == 0, (out + err)[-4000:]
    assert 'build_pixel_sampler' not in out + err  # MMSeg's deprecation note, silenced
    return cwd, out


def train_in_process(config, work_dir, options, resume=False):
    """What `mim train` does with the config (tools/train.py of MMSeg / MMRazor): the runner
    from the config with --cfg-options, ``--resume`` as ``cfg.resume = True``."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mmseg_distill.pairing.search import parse_options
    cfg = Config.fromfile(str(config))
    cfg.merge_from_dict(parse_options(options))
    cfg.work_dir = str(work_dir)
    cfg.resume = resume
    # MMEngine keeps one visualizer per name in the process: a new one writes to this run
    cfg.visualizer.name = f'visualizer_{work_dir}'
    Runner.from_cfg(cfg).train()
    return {r['iter']: r for r in tiny.training_records(str(work_dir))}


@pytest.mark.parametrize('which,val_interval', [
    ('kd.py', 2), ('kd.py', 4), ('kd_baseline.py', 2)],
    ids=['leaf-validation-at-the-checkpoint', 'leaf-validation-elsewhere', 'baseline'])
def test_resume_of_what_the_tool_wrote_continues_bit_for_bit(user_folder, monkeypatch, which,
                                                             val_interval):
    """The leaf starts from the initial student by initialisation, not ``load_from``: with
    ``load_from`` set, MMEngine resumes *from it* (``KeyError: 'epoch'``)."""
    cwd, _ = user_folder
    monkeypatch.chdir(cwd)  # the data config's data_root is relative to the user's folder
    config = cwd / 'leaves' / which
    options = SHORT + [f'train_cfg.val_interval={val_interval}']
    full = cwd / 'work_dirs' / f'full_{which[:-3]}_{val_interval}'
    uninterrupted = train_in_process(config, full, options)
    part = cwd / 'work_dirs' / f'part_{which[:-3]}_{val_interval}'
    part.mkdir()
    shutil.copy(full / 'iter_2.pth', part / 'iter_2.pth')
    (part / 'last_checkpoint').write_text(str(part / 'iter_2.pth'))
    resumed = train_in_process(config, part, options, resume=True)
    assert sorted(resumed) == [3, 4]
    for it in (3, 4):  # schedule, optimizer, data order and random state continue exactly
        assert resumed[it]['loss'] == uninterrupted[it]['loss']
        assert resumed[it]['lr'] == uninterrupted[it]['lr']


def test_two_processes_validate_what_mim_test_of_the_checkpoint_and_the_export_give(
        user_folder):
    """STDC1 has plain BatchNorm: each process's running statistics part; the run's last
    validation must be the model its checkpoint (rank 0's) and its export hold."""
    cwd, _ = user_folder
    work = cwd / 'work_dirs' / 'ddp'
    out = tiny.mim_train('mmrazor', 'leaves/kd.py', work, cwd, SHORT,
                         extra=['--launcher', 'pytorch', '--gpus', '2'], timeout=900,
                         env=dict(os.environ, OMP_NUM_THREADS='1'))
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    val = re.findall(r'Iter\(val\) .*? mIoU: ([0-9.]+)', log)
    assert val, log[-3000:]
    exported = sorted((work / 'student').glob('kd_*.pth'))
    assert len(exported) == 1
    tests = []
    for package, config, checkpoint in (('mmrazor', 'leaves/kd.py', work / 'iter_4.pth'),
                                        ('mmseg', str(work / 'student' / 'kd.py'), exported[0])):
        done = subprocess.run([tiny.MIM, 'test', package, config, '--checkpoint',
                               str(checkpoint), '--work-dir', str(work / f'test_{package}')],
                              cwd=cwd, capture_output=True, text=True, timeout=600,
                              env=dict(os.environ, OMP_NUM_THREADS='1'))
        assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
        tests.append(re.findall(r'Iter\(test\) .*? mIoU: ([0-9.]+)', done.stdout +
                                done.stderr)[-1])
    assert tests == [val[-1], val[-1]]
    # the detail head keeps its 2 classes in the exported student
    from mmengine.config import Config
    heads = Config.fromfile(str(work / 'student' / 'kd.py')).model.auxiliary_head
    assert [h['num_classes'] for h in heads] == [5, 5, 2]


def test_every_mask_is_checked_by_the_tool_and_the_baseline_fails_as_the_distillation_does(
        user_folder, tmp_path, monkeypatch):
    from mmseg_distill.utils.data_check import LabelError
    cwd, _ = user_folder
    # one bad mask in 240, at an index an even sample of 32 skips (0, 8, 15, ...)
    write_mmseg_folder(str(tmp_path / 'big'), train=240, val=2, bad=[5])
    (cwd / 'my_configs' / 'big.py').write_text(data_config(str(tmp_path / 'big')))
    code, out, err = pair_tool(cwd, osp.relpath(TEACHER_CFG, cwd), STDC1,
                               '--method', 'pixel_kd', '--num-classes', 5, '--crop', 64, 64,
                               '--data', 'my_configs/big.py', '--out', 'leaves/big.py')
    assert code == 2, (out + err)[-3000:]
    assert '[data] scanned all 240 training masks' in out
    assert f"{tmp_path / 'big' / 'ann_dir' / 'train' / '5.png'} has label value(s) 9" in out
    assert not (cwd / 'leaves' / 'big.py').exists()
    # the baseline the tool wrote, trained on masks that are all bad: the named error, not
    # MMSeg's bare IndexError
    write_mmseg_folder(str(tmp_path / 'bad'), train=4, val=2, bad=range(4))
    monkeypatch.chdir(cwd)
    with pytest.raises(LabelError, match=r"ann_dir/train/\d\.png has label value\(s\) 9"):
        train_in_process(cwd / 'leaves' / 'kd_baseline.py', tmp_path / 'run',
                         SHORT + [f"train_dataloader.dataset.data_root={tmp_path / 'bad'}"])


def test_check_reports_the_tables_figures_and_the_relative_data_root(user_folder):
    _, out = user_folder
    table = dict(re.findall(r'^\| (loss_\w+) \|(?: [^|]+ \|){3} ([^ |]+) \|', out, re.M))
    checked = re.search(r'\[check\] kd\.py: shares at full weight on .*?: (.*?); every term', out)
    assert table and checked, out[-3000:]
    figures = dict(item.split(' ') for item in checked.group(1).split(', '))
    assert figures == table  # the same measurement, of the leaf as written
    assert 'one training step on a random 64x64 batch ran' in out
    assert "data_root ['data/my5'] is relative" in out
    # the batch the schedule's lr is set for, for --auto-scale-lr (tiny_cpu.py's)
    from mmengine.config import Config
    cwd, _ = user_folder
    assert Config.fromfile(str(cwd / 'leaves' / 'kd.py')).auto_scale_lr.base_batch_size == 4

"""The weight search: candidates, the paired comparison that picks a known best on a toy
objective without false precision, the leaf it writes, and a real search on the tiny pair."""
import math
import os.path as osp
import random
import subprocess
import sys

import pytest
from tiny_pair import REPO

from benchmarks.tiny import tiny_leaf
from mmseg_distill.pairing.search import (Candidate, candidates, chosen_leaf_text, compare,
                                          loss_weight_keys, markdown, record, search, value_at)

KEY = 'model.distiller.distill_losses.loss_kd.loss_weight'


def test_candidates_of_each_mode():
    shipped = {'a.loss_weight': 2.0, 'b.loss_weight': 10.0}
    together = candidates(shipped, (0.1, 1, 10))
    assert [c.values for c in together] == [{'a.loss_weight': 0.2, 'b.loss_weight': 1.0},
                                            {'a.loss_weight': 2.0, 'b.loss_weight': 10.0},
                                            {'a.loss_weight': 20.0, 'b.loss_weight': 100.0}]
    each = candidates(shipped, (0.1, 1, 10), 'each')
    assert len(each) == 1 + 2 * 2 and each[0].values == shipped
    assert {'a.loss_weight': 0.2, 'b.loss_weight': 10.0} in [c.values for c in each]
    assert len(candidates(shipped, (0.1, 1, 10), 'grid')) == 9
    with pytest.raises(ValueError, match='nothing to search'):
        candidates({})
    with pytest.raises(ValueError, match='positive'):
        candidates(shipped, (0, 1))


def toy(best_weight, noise):
    """A score peaked at ``best_weight`` (in decades) plus a per-seed offset shared by every run
    of that seed (what pairing removes) and a small per-run noise."""
    def evaluate(candidate, seed):
        offset = [3.0, -2.0, 0.5, 4.0, -1.0][seed]
        if candidate is None:
            return 60.0 + offset
        weight = candidate.values['w']
        run_noise = noise * random.Random(f'{seed}-{weight}').gauss(0, 1)
        return 62.0 - (math.log10(weight / best_weight)) ** 2 + offset + run_noise
    return evaluate


def test_the_search_picks_the_known_best_weight_on_a_toy_objective():
    found = candidates({'w': 1.0}, (0.01, 0.1, 1, 10, 100))
    result = search(toy(10.0, 0.05), found, seeds=[0, 1, 2, 3, 4])
    assert result['best'] == 'x10'
    best = result['rows']['x10']['to_baseline']
    assert best['verdict'] == 'gain' and best['mean'] == pytest.approx(2.0, abs=0.1)
    # the neighbours lose a whole point against the best: told apart with 5 seeds
    assert result['tied'] == []
    assert result['rows']['x1']['to_best']['high'] < 0


def test_candidates_the_seeds_cannot_separate_are_reported_as_tied_with_the_best():
    found = candidates({'w': 1.0}, (0.9, 1.0, 1.1))  # 0.04 decades apart: within the noise
    result = search(toy(1.0, 2.0), found, seeds=[0, 1, 2])
    assert set(result['tied']) | {result['best']} == {'x0.9', 'x1', 'x1.1'}
    table = markdown(result, found, 'score')
    assert table.count('not told apart from the best') == 2
    # one seed: nothing can be told apart, and no interval is printed
    one = search(toy(10.0, 0.0), candidates({'w': 1.0}, (1, 10)), seeds=[0])
    assert one['tied'] == ['x1'] and '(1 seed)' in markdown(one, candidates({'w': 1}, (1, 10)))


def test_keys_and_values_are_read_from_a_composed_leaf():
    leaf = tiny_leaf('dsd', 'dsd')
    keys = loss_weight_keys(leaf)
    assert set(keys) == {'model.distiller.distill_losses.loss_psd.loss_weight',
                         'model.distiller.distill_losses.loss_csd.loss_weight'}
    # the leaf's own calibration (1000 x 64 / 8192) over the fragment's 1000
    assert keys['model.distiller.distill_losses.loss_psd.loss_weight'] == 1000.0 * 64 / 8192
    assert value_at(leaf, 'train_cfg.max_iters') == 40
    with pytest.raises(KeyError, match='no .loss_kdd.'):
        value_at(leaf, 'model.distiller.distill_losses.loss_kdd.loss_weight')


def test_the_distillation_runs_get_the_teacher_and_a_first_stage_only_where_one_is_loaded():
    from mmseg_distill.methods import METHODS
    from mmseg_distill.pairing.search import distill_options
    assert distill_options(tiny_leaf('pixel_kd', 'pixel-kd')) == []
    assert distill_options(tiny_leaf('pixel_kd', 'pixel-kd'), 't.pth') == [
        'model.teacher_ckpt=t.pth']
    stage1 = METHODS['ka'].stage1
    assert distill_options(tiny_leaf('ka', 'ka-stage2'), 't.pth', 's.pth') == [
        'model.teacher_ckpt=t.pth', f'{stage1.checkpoint_key}=s.pth']
    with pytest.raises(ValueError, match='loads no first stage'):
        distill_options(tiny_leaf('pixel_kd', 'pixel-kd'), 't.pth', 's.pth')


def test_the_written_leaf_builds_with_the_chosen_weight_and_carries_the_record(tmp_path):
    from mmengine.config import Config

    from mmseg_distill.models.distillers import flat_distiller
    leaf = tiny_leaf('pixel_kd', 'pixel-kd')
    chosen = Candidate('x10', {KEY: 10.0})
    result = compare({'x10': [62.0, 63.0], 'x1': [61.0, 61.5]}, [60.0, 60.5])
    out = tmp_path / 'searched.py'
    out.write_text(chosen_leaf_text(leaf, str(out), chosen, result,
                                    'python tools/search_weights.py leaf.py', [0, 1]))
    text = out.read_text()
    comment = [line for line in text.splitlines() if line.startswith('# weight search')]
    assert len(comment) == 1
    assert 'validation split' in comment[0] and 'tools/search_weights.py leaf.py' in comment[0]
    assert '+2.25 [' in comment[0] and '2 seeds' in comment[0] and 'baseline' in comment[0]
    cfg = Config.fromfile(str(out))
    assert flat_distiller(cfg.model.distiller)['distill_losses']['loss_kd']['loss_weight'] == 10
    assert cfg.train_cfg.max_iters == 40  # everything else from the leaf


def test_the_search_log_records_the_machine_its_numbers_came_from(tmp_path):
    """The same run gives other digits on another CPU (docs/reproducibility.md): the log says
    which CPU and kernels made its numbers."""
    import json

    import torch

    from mmseg_distill.pairing.runs import machine, machine_text
    leaf = tiny_leaf('pixel_kd', 'pixel-kd')
    found = [Candidate('x1', {KEY: 1.0}), Candidate('x10', {KEY: 10.0})]
    result = dict(compare({'x1': [61.0, 61.5], 'x10': [62.0, 63.0]}, [60.0, 60.5]),
                  seconds=1.0, job_seconds=2.0)
    record(leaf, str(tmp_path / 'searched.py'), str(tmp_path), 'cmd', {KEY: 1.0}, found,
           result, [0, 1])
    stem = osp.splitext(osp.basename(leaf))[0]
    log = json.loads((tmp_path / f'search_{stem}.json').read_text())
    assert log['machine'] == machine()
    cpu_backend = getattr(torch.backends, 'cpu', None)  # torch >= 2.1 says which kernels
    assert log['machine']['cpu_kernels'] == (cpu_backend.get_cpu_capability() if cpu_backend
                                             else 'unknown')
    assert log['machine']['torch'] == torch.__version__ and log['machine']['cpu']
    table = (tmp_path / f'search_{stem}.md').read_text()
    assert f"{log['machine']['cpu_kernels']} kernels, torch {torch.__version__}" in table
    assert log['best'] == 'x10'  # the record itself unchanged by the addition
    assert machine_text(None) == 'machine not recorded'


def test_a_failed_runs_cause_is_the_exception_its_log_ends_with(tmp_path):
    from mmseg_distill.pairing.runs import failure_cause
    log = tmp_path / 'run.log'
    log.write_text('12/07 10:00:00 - mmengine - INFO - Iter(train) [ 20/40] loss: 1.2\n'
                   'Traceback (most recent call last):\n  File "train.py", line 1, in <module>\n'
                   'mmseg_distill.utils.data_check.LabelError: the mask a.png has label value(s) 9'
                   '\n\nERROR: command failed\n')
    assert failure_cause(str(log)) == ('mmseg_distill.utils.data_check.LabelError: the mask '
                                       'a.png has label value(s) 9')
    log.write_text('killed\n')
    assert failure_cause(str(log)) == 'no exception in the log; its last line: killed'
    assert failure_cause(str(tmp_path / 'none.log')).startswith('no log at')


@pytest.mark.e2e  # runs the tool in a subprocess
def test_a_leaf_that_cannot_run_fails_the_search_before_any_training(tmp_path):
    """A recorder on a module the student does not have: named at once, nothing trained."""
    leaf = tmp_path / 'broken.py'
    leaf.write_text(f"_base_ = [{tiny_leaf('pixel_kd', 'pixel-kd')!r}]\n"
                    "model = dict(distiller=dict(student_recorders=dict(logits=dict(\n"
                    "    _delete_=True, type='ModuleOutputs', source='decode_head.no_such'))))\n")
    cmd = [sys.executable, osp.join(REPO, 'tools', 'search_weights.py'), str(leaf),
           '--factors', '1', '10', '--seeds', '0', '--iters', '2',
           '--work-dir', str(tmp_path / 'work')]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=str(tmp_path))
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-3000:]
    assert 'nothing was trained: candidate x1' in done.stderr
    assert "source 'decode_head.no_such' is not a module of the student" in done.stderr
    assert 'Traceback' not in done.stderr and 'start seed' not in done.stdout
    assert not list((tmp_path / 'work').glob('seed0/*/run.log'))
    # an option that breaks every run (here: the baseline's too) is named the same way
    done = subprocess.run(cmd[:3] + cmd[3:] + ['--cfg-options', 'train_dataloader.dataset.'
                                               'data_prefix.img_path=nowhere'],
                          capture_output=True, text=True, timeout=600, cwd=str(tmp_path))
    assert done.returncode == 2 and 'nothing was trained: the baseline' in done.stderr


@pytest.mark.e2e
def test_a_real_search_on_the_tiny_pair_trains_pairs_and_writes_the_leaf(tmp_path):
    """Two candidates, one seed, a few iterations: the whole path of the tool (initial
    students, baseline, jobs, the validation split, table, leaf)."""
    from mmengine.config import Config
    leaf = tiny_leaf('pixel_kd', 'pixel-kd')
    out = tmp_path / 'searched.py'
    cmd = [sys.executable, osp.join(REPO, 'tools', 'search_weights.py'), leaf,
           '--factors', '0.1', '10', '--seeds', '0', '--iters', '4',
           '--work-dir', str(tmp_path / 'work'), '--out', str(out),
           '--cfg-options', 'train_dataloader.batch_size=2']
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=str(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert '| baseline | student alone |' in done.stdout and '| x10 |' in done.stdout
    assert 'start seed 0: baseline' in done.stdout and 'left)' in done.stdout
    assert 'checked the baseline and 2 candidate leaves' in done.stdout
    # the record names the command as it was run, not a path the user may not have
    assert f"by `python {osp.join(REPO, 'tools', 'search_weights.py')} " in out.read_text()
    cfg = Config.fromfile(str(out))
    assert cfg.model.distiller.distill_losses.loss_kd.loss_weight in (0.1, 10.0)
    # the runs start in the caller's working directory: the leaf's relative data_root is read
    # (here: generated) there, as by the user's own `mim train`, not under the work directory
    assert (tmp_path / 'data' / 'synthetic_scenes' / 'img_dir' / 'val').is_dir()
    assert not (tmp_path / 'work' / 'data').exists()
    seed0 = tmp_path / 'work' / 'seed0'
    baselines = list(seed0.glob('baseline_*/result.json'))
    stem = osp.splitext(osp.basename(leaf))[0]
    assert len(baselines) == 1
    for run in ('x0.1', 'x10'):
        assert (seed0 / stem / run / 'result.json').exists()
    # the same initial student in every run of the seed
    logs = [(run / 'run.log').read_text() for run in (baselines[0].parent, seed0 / stem / 'x10')]
    assert all('student_init' in log for log in logs)
    # a second leaf of the same pair in the same work directory reuses the baseline
    again = subprocess.run(cmd[:2] + [tiny_leaf('cwd', 'cwd')] + cmd[3:], capture_output=True,
                           text=True, timeout=900, cwd=str(tmp_path))
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert 'start seed 0: baseline' in again.stdout  # resumed from its result, not trained
    assert list(seed0.glob('baseline_*/result.json')) == baselines


@pytest.mark.e2e
def test_a_search_with_two_gpus_per_job_trains_each_run_in_two_processes(tmp_path):
    """--gpus-per-job N: every training (baseline and candidates) runs N processes, as the
    user's `mim train --launcher pytorch --gpus N` (gloo processes on this CPU machine)."""
    cmd = [sys.executable, osp.join(REPO, 'tools', 'search_weights.py'),
           tiny_leaf('pixel_kd', 'pixel-kd'), '--factors', '10', '--seeds', '0', '--iters', '2',
           '--work-dir', 'work', '--out', 'searched.py', '--jobs', '1', '--gpus-per-job', '2',
           '--cfg-options', 'train_dataloader.batch_size=2']
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=str(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    logs = list((tmp_path / 'work' / 'seed0').glob('**/run.log'))
    assert len(logs) == 2  # the baseline and the candidate
    for log in logs:
        text = log.read_text()
        assert 'Distributed training: True' in text and 'GPU number: 2' in text, log

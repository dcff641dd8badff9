"""The demo's second table: which search logs count, what they chose, and how the answer to
'does each seed method beat tuned pixel KD?' is worded."""
import json

from benchmarks.demo.pipeline import SHORT
from benchmarks.demo.report import tuned_markdown
from benchmarks.demo.tuned import (CHOSEN, MISSING, OTHER_REGIME, choose, regime_differences,
                                   regime_of, search_log)
from mmseg_distill.utils.stats import paired

LEAF = 'configs/dist/dist_tiny.py'
KEY = 'model.distiller.distill_losses.loss_dist.loss_weight'


def command(lr=0.08, iters=1000, batch=8, num_train=1000, num_val=300):
    return (f'python tools/search_weights.py {LEAF} --factors 0.1 1 --seeds 0 1 --iters {iters} '
            f'--cfg-options optim_wrapper.optimizer.lr={lr} param_scheduler.0.end={iters} '
            f'train_dataloader.batch_size={batch} '
            f'train_dataloader.dataset.generator.num_train={num_train} '
            f'train_dataloader.dataset.generator.num_val={num_val} '
            'train_dataloader.dataset.generator.size=64 '
            "train_dataloader.dataset.data_root='my data'")


def write_log(folder, cmd, best='x0.1'):
    with open(search_log(str(folder), LEAF), 'w') as f:
        json.dump(dict(command=cmd, best=best, tied=['x1'], shipped={KEY: 1.0},
                       candidates={'x0.1': {KEY: 0.1}, 'x1': {KEY: 1.0}}), f)


def test_the_regime_is_read_from_the_search_command():
    assert regime_of(command()) == dict(student_iters=1000, student_lr=0.08, batch=8,
                                        num_train=1000, num_val=300, size=64)
    assert regime_differences(command(), SHORT) == []
    differences = regime_differences(command(lr=0.03, batch=4), SHORT)
    assert differences == ['batch: 4 in the search, 8 in the demo',
                           'student_lr: 0.03 in the search, 0.08 in the demo']
    # a setting the search left at the leaf's default is not the demo's
    assert 'batch: not set in the search, 8 in the demo' in regime_differences(
        command().replace('train_dataloader.batch_size=8 ', ''), SHORT)


def test_a_log_counts_only_at_the_demos_regime(tmp_path):
    missing = choose(str(tmp_path), LEAF, 'DIST', SHORT)
    assert missing.status == MISSING and not missing.changes_weights
    write_log(tmp_path, command(iters=2000))
    other = choose(str(tmp_path), LEAF, 'DIST', SHORT)
    assert other.status == OTHER_REGIME and not other.changes_weights
    assert 'student_iters: 2000 in the search, 1000 in the demo' in other.reason
    write_log(tmp_path, command())
    chosen = choose(str(tmp_path), LEAF, 'DIST', SHORT)
    assert chosen.status == CHOSEN and chosen.candidate == 'x0.1' and chosen.tied == ['x1']
    assert chosen.changes_weights and chosen.options() == [f'{KEY}=0.1']
    write_log(tmp_path, command(), best='x1')
    kept = choose(str(tmp_path), LEAF, 'DIST', SHORT)
    assert kept.status == CHOSEN and not kept.changes_weights


def _row(values, reference, baseline_method=False):
    base = [60.0, 61.0, 62.0]
    return dict(status=CHOSEN, reason='', baseline_method=baseline_method, candidate='x1',
                values={KEY: 1.0}, shipped_run=True, miou=values,
                mean=sum(values) / len(values), paired=paired(values, base),
                **({'to_pixel_kd': paired(values, reference)} if reference else {}))


def test_the_answer_names_each_seed_method_against_tuned_pixel_kd_only():
    kd = [61.0, 62.0, 63.0]
    tuned = {'pixel KD': _row(kd, None, baseline_method=True),
             'DSD': _row([62.0, 63.1, 63.9], kd),  # +1.0 +- small: beats
             'PFS': _row([60.0, 61.1, 61.9], kd),  # -1.0: loses to
             'KA': _row([63.0, 60.0, 64.0], kd),  # spread: not told apart
             'CWD': _row([64.0, 65.0, 66.0], kd, baseline_method=True),  # a baseline: no answer
             'AICSD': dict(status=MISSING, reason='no log', log='docs/weight_search/x.json',
                           baseline_method=False)}
    text = '\n'.join(tuned_markdown(tuned))
    assert 'DSD beats pixel KD at its searched weight' in text
    assert 'PFS loses to pixel KD' in text
    assert 'KA is not told apart from pixel KD' in text
    assert 'CWD beats' not in text and 'CWD is' not in text
    assert '| AICSD | no search log: docs/weight_search/x.json |' in text
    # a row whose search changed its weights: its test change against the shipped run
    shipped = [62.5, 62.6, 64.4]
    tuned['DSD'].update(shipped_run=False, to_shipped=paired([62.0, 63.1, 63.9], shipped))
    row = next(line for line in tuned_markdown(tuned) if line.startswith('| DSD |'))
    assert row.endswith('| -0.17 [-1.60, +1.27] |'), row  # t(2) = 4.303, se 1/3
    assert next(line for line in tuned_markdown(tuned) if line.startswith('| PFS |')).endswith(
        ' |  |')
    assert 'Not answered (no usable search log' in text and 'AICSD' in text.split('Not answered')[1]

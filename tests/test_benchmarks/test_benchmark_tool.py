"""The benchmark's measurement paths, on sizes that take seconds."""

import pytest

from benchmarks.speed import losses, report, runner, timing
from benchmarks.tiny import tiny_leaf
from mmseg_distill.methods import METHODS

pytestmark = pytest.mark.e2e


def _spec(loss='PixelFeatureSimilarityLoss', options=None, shape=('feat', 2, 8, 8, 8, 16),
          budget_gib=4.0):
    return dict(loss=loss, options=options or {}, shape=shape, device='cpu', threads=1,
                repeats=3, max_seconds=5, budget_gib=budget_gib, naive_timeout=120)


def test_ours_and_naive_agree_and_are_timed_interleaved():
    ours = runner.run_worker('ours', _spec())
    pair = runner.run_worker('pair', _spec())
    assert ours['status'] == pair['status'] == 'ok'
    assert abs(ours['value'] - pair['value']) <= 1e-5 * abs(pair['value'])
    assert ours['time']['median'] > 0 and pair['time_ratio']['n'] >= 2
    assert pair['time_ratio']['low'] <= pair['time_ratio']['median'] <= \
        pair['time_ratio']['high']


def test_naive_beyond_its_memory_budget_is_reported_not_crashed():
    result = runner.run_worker('pair', _spec(shape=('feat', 2, 64, 64, 8, 16),
                                             budget_gib=0.0005))
    assert result['status'] == 'oom'


def test_table_marks_what_could_not_run():
    rows = [dict(loss='AffinityLoss', options={}, case='c',
                 ours={'status': 'ok', 'time': timing.summary([1.0, 1.1]),
                       'peak_extra_mib': 2.0}, naive={'status': 'oom'})]
    table = report.loss_table(dict(device='cpu', preset='quick', date='d', torch='t',
                                   threads=1, naive_budget_gib=3, losses=rows))
    assert 'cannot run: > 3 GiB' in table


def test_variants_agree_with_their_own_naive_form_and_report_the_algorithm():
    cases = [('AffinityLoss', dict(losses.PAPER, **losses.TILED), 'tiled'),
             ('AffinityLoss', {}, None),  # torchdistill's channel loop
             ('PixelFeatureSimilarityLoss', losses.GRAM64, 'gram'),
             ('InterClassSimilarityLoss', {'formulation': 'official'}, None)]
    for loss, options, algorithm in cases:
        shape = ('logits', 2, 6, 6, 5) if loss == 'InterClassSimilarityLoss' else \
            ('feat', 2, 6, 6, 8, 8)
        spec_ = _spec(loss, options, shape)
        ours = runner.run_worker('ours', spec_)
        pair = runner.run_worker('pair', spec_)
        assert ours['algorithm'] == algorithm, (loss, options)
        assert abs(ours['value'] - pair['value']) <= 1e-5 * abs(pair['value']), loss


def test_a_difference_within_the_noise_is_reported_as_noise_never_negative():
    noisy = timing.difference([10.0, 10.5, 9.0, 11.0], [10.2, 9.9, 10.0, 10.1])
    assert not noisy['resolved']
    assert timing.fmt_stat(noisy).startswith('< noise')
    clear = timing.difference([20.0, 21.0, 19.5, 20.5], [10.0, 10.5, 9.5, 10.0])
    assert clear['resolved'] and timing.fmt_stat(clear).startswith('10.')


def test_interleaved_rounds_time_every_part_alike():
    calls = []
    samples = timing.interleaved({'a': lambda: calls.append('a'),
                                  'b': lambda: calls.append('b')}, 3, lambda fn: fn() or 1.0)
    assert calls == ['a', 'b'] * 4  # one warm-up round, then three
    assert samples == {'a': [1.0] * 3, 'b': [1.0] * 3}


@pytest.mark.parametrize('directory,prefix,losses_', [('pixel_kd', 'pixel-kd', {'loss_kd'}),
                                                      ('ka', 'ka-stage2',
                                                       {'loss_ka', 'loss_affinity'})])
def test_step_parts_of_a_leaf(tmp_path, directory, prefix, losses_):
    spec_ = dict(device='cpu', threads=1, size=[64, 64], batch=2, rounds=2, tmp=str(tmp_path),
                 num_classes=7, leaf=tiny_leaf(directory, prefix))
    row = runner.run_worker('step', spec_)
    for part in ('step', 'teacher', 'student', 'distill', 'teacher_side'):
        assert row[part]['median'] >= 0, part
    assert set(row['per_loss']) == losses_
    # KA: the frozen encoder is the teacher side; the student side is never a negative figure
    if directory == 'ka':
        assert row['teacher_side']['median'] > 0
    for stats in list(row['per_loss'].values()) + [row['student_side_ms']]:
        assert stats.get('resolved', True) is False or stats['median'] >= 0
    row.update(method=prefix, fast_path=True, teacher_precision='fp32', peak_extra_mib=1.0)
    table = report.step_table(dict(pair='P', input='I', rows=[row]))
    assert f'| {prefix} | on, fp32 |' in table


def test_gpu_preset_rows_and_targets_on_a_tiny_crop(tmp_path):
    """The GPU preset's model-zoo step row, on CPU at a tiny crop: the SegFormer KA leaf."""
    _, pair, _, batch, classes = runner.ZOO_PAIRS[3]
    two_stage = next(m.key for m in METHODS.values() if m.stage1)
    leaf = dict(runner.default_leaves(pair))[two_stage]
    spec_ = dict(device='cpu', threads=1, size=[32, 32], batch=batch, rounds=2,
                 tmp=str(tmp_path), num_classes=classes, leaf=leaf)
    row = runner.run_worker('step', spec_)
    row.update(pair='SegFormer', method=two_stage, crop=[32, 32], batch=batch)
    assert f'| SegFormer | 32x32 x 2 | {two_stage} |' in report.zoo_table([row])
    assert 'target <= 1.10x' in report.gpu_targets(dict(zoo_steps=[row], losses=[]))
    cases = losses.gpu_cases(16)
    assert {c[2][1] for c in cases} == {2, 8}
    assert ('feat', 8, 4, 8, 128, 512) in [c[2] for c in cases]


def test_steps_only_without_an_earlier_run_writes_the_step_table(tmp_path, monkeypatch):
    stats = timing.summary([1.0, 2.0])
    row = dict(method='ka', fast_path=True, teacher_precision='bf16', step=stats,
               teacher=stats, student=stats, step_ratio=stats, distill=stats,
               teacher_side=stats, student_side_ms=dict(stats, resolved=False),
               distill_overhead=stats,
               student_side_overhead=dict(timing.summary([-0.03, 0.1]), resolved=False),
               peak_extra_mib=5.0, per_loss={'loss_ka': stats, 'loss_affinity': stats})
    steps = dict(pair='P', input='I', rows=[row])
    monkeypatch.setattr(runner, 'bench_steps', lambda args: steps)
    runner.run(runner.parse_args(['--steps-only', '--out', str(tmp_path), '--device', 'cpu']))
    table = (tmp_path / 'benchmark.md').read_text()
    assert '| ka | on, bf16 |' in table and '< noise' in table
    # the share of a difference within the noise: no negative percentage
    assert '< noise (spread to 10.0%)' in table and '-3.0' not in table
    assert 'ka (bf16): loss_ka 1.50 (1.00-2.00)' in table
    assert (tmp_path / 'benchmark.json').exists()

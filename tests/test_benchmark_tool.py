"""The benchmark tool's measurement paths, on sizes that take seconds."""
import importlib.util
import os.path as osp

from tiny_pair import REPO

spec = importlib.util.spec_from_file_location('benchmark', osp.join(REPO, 'tools/benchmark.py'))
benchmark = importlib.util.module_from_spec(spec)
spec.loader.exec_module(benchmark)


def _spec(impl, budget_gib=4.0, loss='PixelFeatureSimilarityLoss'):
    return dict(loss=loss, options={}, shape=('feat', 2, 8, 8, 8, 16), device='cpu', threads=1,
                repeats=2, max_seconds=5, budget_gib=budget_gib, impl=impl)


def test_ours_and_naive_agree_and_report_time_and_memory():
    ours = benchmark.run_worker('loss', _spec('ours'))
    naive = benchmark.run_worker('loss', _spec('naive'))
    assert ours['status'] == naive['status'] == 'ok'
    assert abs(ours['value'] - naive['value']) <= 1e-5 * abs(naive['value'])
    assert ours['time_ms'] > 0 and ours['repeats'] >= 1


def test_naive_beyond_its_memory_budget_is_reported_not_crashed():
    result = benchmark.run_worker('loss', dict(_spec('naive', budget_gib=0.0005),
                                               shape=('feat', 2, 64, 64, 8, 16)))
    assert result['status'] == 'oom'


def test_markdown_marks_what_could_not_run():
    rows = [dict(loss='AffinityLoss', options={}, case='c', ours={'status': 'ok', 'time_ms': 1.0,
                                                                   'peak_extra_mib': 2.0},
                 naive={'status': 'oom'})]
    table = benchmark.markdown(dict(device='cpu', preset='quick', date='d', torch='t', threads=1,
                                    naive_budget_gib=3, losses=rows))
    assert 'cannot run: > 3 GiB' in table


def test_variants_agree_with_their_own_naive_form_and_report_the_algorithm():
    cases = [('AffinityLoss', benchmark.TILED, ('feat', 2, 6, 6, 8, 16), 'tiled'),
             ('PixelFeatureSimilarityLoss', benchmark.GRAM64, ('feat', 2, 6, 6, 8, 16), 'gram'),
             ('InterClassSimilarityLoss', {'formulation': 'official'}, ('logits', 2, 6, 6, 5),
              None)]
    for loss, options, shape, algorithm in cases:
        spec = dict(_spec('ours', loss=loss), options=options, shape=shape)
        ours = benchmark.run_worker('loss', spec)
        naive = benchmark.run_worker('loss', dict(spec, impl='naive'))
        assert ours['algorithm'] == algorithm
        assert abs(ours['value'] - naive['value']) <= 1e-5 * abs(naive['value']), loss

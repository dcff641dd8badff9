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


def test_gpu_preset_step_path_runs_a_pair_tool_leaf_and_reports_targets(tmp_path):
    """The GPU preset's model-zoo step rows, on CPU at a tiny crop: one pair, one method."""
    import sys
    from argparse import Namespace
    sys.path.insert(0, osp.join(REPO, 'tools'))
    import inspect_pair
    _, teacher, student, _, batch, classes = benchmark.ZOO_PAIRS[3]  # SegFormer B2 -> B0
    crop = [32, 32]
    t_model, _ = inspect_pair.build(teacher, classes, crop)
    s_model, s_cfg = inspect_pair.build(student, classes, crop)
    leaf = str(tmp_path / 'ka.py')
    leaves = inspect_pair.write_leaves(
        Namespace(teacher=teacher, student=student, method='ka', num_classes=classes, crop=crop,
                  out=leaf), inspect_pair.candidates(t_model, crop),
        inspect_pair.candidates(s_model, crop), s_cfg)
    for path, text in leaves:
        with open(path, 'w') as f:
            f.write(text)
    base = dict(device='cpu', threads=1, size=crop, batch=2, repeats=1, tmp=str(tmp_path),
                student=student, num_classes=classes, fast_path=True)
    row = benchmark.run_worker('step', dict(base, method='ka', leaf=leaf))
    alone = benchmark.run_worker('step', dict(base, method='student_only'))
    assert row['step_ms'] > 0 and row['teacher_forward_ms'] > 0 and row['distill_losses_ms'] > 0
    # KA: the frozen encoder is timed as the teacher side, each loss alone as the student side
    assert row['teacher_connectors_ms'] > 0
    assert set(row['per_loss_ms']) == {'loss_ka', 'loss_affinity'}
    row.update(pair='SegFormer', method='ka', crop=crop, batch=2,
               student_step_ms=alone['step_ms'], student_peak_mib=alone['peak_extra_mib'])
    row['step_ratio'] = row['step_ms'] / (alone['step_ms'] + row['teacher_forward_ms'])
    assert '| SegFormer | 32x32 x 2 | ka |' in benchmark.zoo_markdown([row])
    results = dict(zoo_steps=[row], losses=[])
    assert 'target <= 1.10x' in benchmark.gpu_targets(results)
    cases = benchmark.gpu_cases(16)
    assert {c[2][1] for c in cases} == {2, 8} and ('feat', 8, 4, 8, 128, 512) in \
        [c[2] for c in cases]


def test_steps_only_without_an_earlier_run_writes_the_step_table(tmp_path, monkeypatch):
    """--steps-only in an empty --out: the step table alone, with the same-run student step,
    the teacher precision and the per-loss split of a method with two losses."""
    import sys
    row = dict(method='ka_stage2', teacher_fast_path=True, teacher_precision='bf16',
               step_ms=40.0, teacher_forward_ms=20.0, student_step_ms=10.0, step_ratio=4 / 3,
               distill_losses_ms=3.0, teacher_connectors_ms=1.0, distill_overhead=0.3,
               distill_overhead_student_side=0.2, peak_extra_mib=5.0,
               per_loss_ms={'loss_ka': 0.5, 'loss_affinity': 1.5})
    steps = dict(pair='P', input='I', rows=[dict(method='student_only', step_ms=9.0), row])
    monkeypatch.setattr(benchmark, 'bench_steps', lambda args: steps)
    monkeypatch.setattr(sys, 'argv', ['benchmark.py', '--steps-only', '--out', str(tmp_path),
                                      '--device', 'cpu'])
    benchmark.main()
    table = (tmp_path / 'benchmark.md').read_text()
    assert '| ka_stage2 | on, bf16 | 40.0 | 20.0 | 10.0 | 1.33 | 3.00 | 1.00 | 30.0% | 20.0% |' \
        in table
    assert 'ka_stage2 (bf16): loss_ka 0.50, loss_affinity 1.50' in table
    assert (tmp_path / 'benchmark.json').exists()

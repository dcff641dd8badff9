"""The demo's job graph: every job of a seed uses that seed's files (nothing is trained)."""
import argparse
import glob
import json
import os
import os.path as osp

import pytest

from benchmarks import tiny
from benchmarks.demo.pipeline import Pipeline
from benchmarks.demo.report import wall_text
from benchmarks.demo.tuned import CHOSEN, MISSING
from mmseg_distill.methods import METHODS, stage1_forms
from mmseg_distill.utils.stats import paired

STAGE = stage1_forms()[0][1].stage1  # the first stage the demo trains per seed (KA's)


@pytest.fixture
def pipeline(tmp_path, monkeypatch):
    args = argparse.Namespace(quick=True, seeds=[0, 1, 2], out=str(tmp_path), jobs=1,
                              force=False)
    pipe = Pipeline(args)
    monkeypatch.setattr(pipe, 'initial_students',
                        lambda seed: (f'init{seed}.pth', f'init{seed}_architecture.pth'))
    calls = []
    monkeypatch.setattr(pipe, 'train', lambda *a, **k: calls.append(('train', a, k)))
    monkeypatch.setattr(pipe, 'transfer', lambda *a: calls.append(('transfer', a)))
    return pipe, calls


def test_each_seed_transfer_measures_with_its_own_first_stage_encoder(pipeline):
    pipe, calls = pipeline
    jobs = [job for job in pipe.jobs() if job.name.endswith('transfer')]
    assert len(jobs) == 3
    for job in jobs:
        job.fn()
    for (_, (seed, _, stage1)) in calls:
        assert osp.join(f'seed{seed}', STAGE.prefix) in stage1, (seed, stage1)


def test_each_seed_trains_from_its_own_initial_student_and_first_stage(pipeline):
    pipe, calls = pipeline
    for job in pipe.jobs():
        if job.name.startswith('seed') and 'transfer' not in job.name:
            job.fn()
    trained = [args for kind, args, _ in calls if kind == 'train']
    retrained = [label for label, c in pipe.choices.items() if c.changes_weights]
    assert len(trained) == 3 * (1 + len(pipe.stages) + len(pipe.forms) + len(retrained))
    with_stage1 = 0
    for package, config, work_dir, iters, seed, *rest in trained:
        assert f'seed{seed}' in work_dir
        options = ' '.join(rest[1] if len(rest) > 1 else [])
        if 'load_from=' in options:
            assert f'init{seed}' in options, (work_dir, options)
        if f'{STAGE.checkpoint_key}=' in options:
            with_stage1 += 1
            assert osp.join(f'seed{seed}', STAGE.prefix) in options, (work_dir, options)
    stage1_rows = [f for _, f in pipe.forms if f.stage1]
    stage1_tuned = [f for f in stage1_rows if pipe.choices[f.label].changes_weights]
    assert with_stage1 == 3 * (len(stage1_rows) + len(stage1_tuned))


def test_the_presets_table_the_default_forms_and_all_forms_adds_the_others(tmp_path):
    def forms(**kw):
        args = argparse.Namespace(seeds=None, out=str(tmp_path), jobs=1, force=False, **kw)
        return [f.label for _, f in Pipeline(args).forms]

    defaults = [m.default.label for m in METHODS.values()]
    assert forms(quick=True) == forms(quick=False) == defaults
    everything = forms(quick=False, preset='all-forms')
    assert set(defaults) < set(everything) and 'AICSD (official command)' in everything
    with pytest.raises(ValueError, match='no demo preset'):
        forms(quick=False, preset='fast')


def test_a_row_whose_search_changed_its_weights_trains_again_with_them(pipeline):
    """The quick preset's committed logs (docs/weight_search/quick_regime) chose other weights
    for some rows and kept PFS's: those retrain with the chosen values, PFS reuses its run."""
    pipe, calls = pipeline
    jobs = pipe.jobs()
    assert pipe.choices['PFS'].status == CHOSEN and not pipe.choices['PFS'].changes_weights
    changed = {label for label, c in pipe.choices.items() if c.changes_weights}
    assert changed and 'PFS' not in changed
    for job in jobs:
        if job.name.startswith('seed 1') and 'searched weights' in job.name:
            job.fn()
    trained = [args for kind, args, _ in calls if kind == 'train']
    assert len(trained) == len(changed)
    for package, config, work_dir, iters, seed, lr, extra in trained:
        label = next(lb for lb in changed if osp.basename(work_dir) ==
                     next(f.prefix for _, f in pipe.forms if f.label == lb) + '-tuned')
        assert seed == 1 and set(pipe.choices[label].options()) <= set(extra)
        assert 'load_from=init1_architecture.pth' in extra
    # the rows without a usable log: KA and AICSD were not searched at the quick regime
    assert pipe.choices['AICSD (paper)'].status == MISSING
    # the transfer measures the first table's runs only, so it does not wait for these
    transfer = next(job for job in jobs if job.name == 'seed 1: transfer')
    assert not any('searched weights' in job.name for job in transfer.after)
    assert len([j for j in transfer.after if j.name.startswith('seed 1: ')]) == 1 + len(
        pipe.stages) + len(pipe.forms)


def test_the_demos_own_search_writes_logs_its_regime_check_accepts(tmp_path, monkeypatch):
    """--search runs the search at the demo's regime; the logs it writes must pass the check
    that keeps logs of other regimes out (a mismatch would drop every searched row)."""
    from mmseg_distill.pairing import search as search_module
    args = argparse.Namespace(quick=True, seeds=[0], out=str(tmp_path), jobs=1, force=False,
                              search=True)
    pipe = Pipeline(args)
    monkeypatch.setattr(pipe, 'initial_students', lambda seed: ('i.pth', 'i_arch.pth'))
    monkeypatch.setattr(pipe, 'train', lambda *a, **k: None)

    def fake_run(search):  # x10 best on every row: no training here
        scores = {c.name: [50.0 + (c.name == 'x10')] for c in search.found}
        return dict(search_module.compare(scores, [49.0]), seconds=0, job_seconds=0)

    monkeypatch.setattr(search_module.WeightSearch, 'run', fake_run)
    monkeypatch.setattr(search_module.WeightSearch, 'prepare', lambda self: 'baseline.py')
    # the demo's folder inside "the repository", as a user's work_dirs/demo is: the committed
    # log's command must not carry the machine's absolute paths
    with monkeypatch.context() as patch:
        patch.setattr(tiny, 'REPO', str(tmp_path))
        pipe.search()
    pipe.jobs()
    assert pipe.searched == str(tmp_path / 'search')
    for log in glob.glob(str(tmp_path / 'search' / 'search_*.json')):
        with open(log) as f:
            command = json.load(f)['command']
        assert str(tmp_path) not in command
        assert '--teacher-ckpt teacher/iter_' in command and '--work-dir search ' in command
    for label, choice in pipe.choices.items():
        assert choice.status == CHOSEN, (label, choice.reason)
        assert choice.candidate == 'x10' and choice.changes_weights


def test_the_resolution_ablation_trains_dsd_pfs_and_ka_at_128_without_a_second_table(tmp_path):
    args = argparse.Namespace(preset='positions-16', seeds=None, out=str(tmp_path), jobs=1,
                              force=False)
    pipe = Pipeline(args)
    assert [m.key for m, _ in pipe.forms] == ['dsd', 'ka', 'pfs']
    assert pipe.seeds == [0, 1] and pipe.searched is None
    options = pipe.options(1000, 0)
    assert 'train_dataloader.dataset.generator.size=128' in options
    assert 'test_dataloader.dataset.data_prefix.img_path=img_dir/test' in options


def test_every_committed_search_log_is_read_at_the_regime_of_the_preset_that_names_it():
    """A preset names the folder of its search logs; a log there of another regime would drop
    its row from the second table without a word in the committed docs (the first round's logs
    moved with its regime to the short preset when the full preset changed regime)."""

    from benchmarks.demo.pipeline import PRESETS
    from benchmarks.demo.tuned import choose, search_log
    from mmseg_distill.methods import all_forms
    checked = set()
    for name, preset in PRESETS.items():
        if not preset['searched']:
            continue
        folder = osp.join(tiny.REPO, 'docs', 'weight_search', preset['searched'])
        for method, form in all_forms():
            leaf = tiny.tiny_leaf(method.directory, form.prefix)
            if not osp.exists(search_log(folder, leaf)):
                continue
            choice = choose(folder, leaf, form.label, preset)
            assert choice.status == CHOSEN, (name, form.label, choice.reason)
            checked.add(osp.realpath(search_log(folder, leaf)))
    # and no committed log belongs to no preset
    committed = glob.glob(osp.join(tiny.REPO, 'docs', 'weight_search', '*', 'search_*.json'))
    assert checked and checked == {osp.realpath(p) for p in committed}


def test_an_ablation_pairs_with_every_form_at_the_regime_of_its_demo_run(tmp_path):
    """docs/demo.md's ablations were measured against the first round's runs: reproducing them
    needs every form at that regime (--preset short), not at the full preset's."""
    from benchmarks.demo.ablation import demo_pipeline, parse_args
    from benchmarks.demo.pipeline import PRESETS
    from mmseg_distill.methods import all_forms
    for preset in ('full', 'short'):
        args = parse_args(['variant', '--row', 'KA (paper form)', '--preset', preset,
                           '--out', str(tmp_path)])
        pipe = demo_pipeline(args)
        assert [f.label for _, f in pipe.forms] == [f.label for _, f in all_forms()]
        assert pipe.preset['student_iters'] == PRESETS[preset]['student_iters']
    assert parse_args(['variant', '--row', 'x']).preset == 'full'


def test_the_wall_time_names_reused_runs_that_no_invocation_trained(tmp_path):
    """A run another command trained in the demo's folder is read, not trained: the report
    must not count it in the time of the invocations that built the table."""
    def invocation(trained, reused):
        args = argparse.Namespace(quick=True, seeds=[0], out=str(tmp_path), jobs=1, force=False)
        pipe = Pipeline(args)
        pipe.trained, pipe.reused = trained, reused
        return pipe, pipe.wall_ledger()

    pipe, ledger = invocation(['seed0/dsd'], ['seed0/baseline', 'seed0/pixel-kd'])
    assert pipe.untracked_runs(ledger) == ['seed0/baseline', 'seed0/pixel-kd']
    assert '2 runs reused that none of these invocations trained' in wall_text(
        ledger, pipe.untracked_runs(ledger))
    pipe, ledger = invocation(['seed0/pixel-kd'], ['seed0/baseline', 'seed0/dsd'])
    assert [entry['trained'] for entry in ledger] == [['seed0/dsd'], ['seed0/pixel-kd']]
    untracked = pipe.untracked_runs(ledger)
    assert untracked == ['seed0/baseline']
    text = wall_text(ledger, untracked)
    assert 'training 1 run;' in text and '1 run reused that none' in text
    # every reused run trained by a listed invocation: nothing to name
    pipe, ledger = invocation([], ['seed0/dsd', 'seed0/pixel-kd'])
    assert pipe.untracked_runs(ledger) == []
    assert 'reused' not in wall_text(ledger, [])


def test_an_ablation_of_the_searched_weights_starts_from_them_and_pairs_with_their_run(
        tmp_path, monkeypatch):
    from benchmarks.demo import ablation
    from benchmarks.demo.ablation import demo_pipeline, parse_args, row_runs

    def rows(row, *flags):
        args = parse_args(['variant', '--row', row, '--seeds', '0', '1', '--out', str(tmp_path),
                           *flags])
        pipe = demo_pipeline(args)
        monkeypatch.setattr(pipe, 'initial_students', lambda seed: ('i.pth', 'i_arch.pth'))
        pipe.jobs()
        return pipe, row_runs(pipe, row, args.seeds, args.searched_weights)

    # the full preset's committed search chose x10 for AICSD (paper): its second-table runs
    pipe, (dirs, options) = rows('AICSD (paper)', '--searched-weights')
    choice = pipe.choices['AICSD (paper)']
    assert choice.changes_weights and options == choice.options()
    assert dirs == {s: pipe.tuned_runs[s, 'AICSD (paper)'] for s in (0, 1)}
    assert all(d.endswith('-tuned') for d in dirs.values())
    # without the flag: the first table's run at the shipped weights
    pipe, (dirs, options) = rows('AICSD (paper)')
    assert options == [] and dirs == {s: pipe.runs[s, 'AICSD (paper)'] for s in (0, 1)}
    # a search that kept the shipped weights: its second-table run is the first table's
    pipe, (dirs, options) = rows('CWD (MMRazor)', '--searched-weights')
    assert not pipe.choices['CWD (MMRazor)'].changes_weights
    assert options == [] and dirs == {s: pipe.runs[s, 'CWD (MMRazor)'] for s in (0, 1)}
    # a form nobody searched: refused with what makes the search
    with pytest.raises(SystemExit, match='no usable search.*search_weights.py'):
        rows('AICSD (official command)', '--searched-weights')

    # the whole command (no training): the variant starts from the searched weights with the
    # given changes on top, and is paired with the row and the compared row at theirs
    args = parse_args(['no-alw', '--row', 'AICSD (paper)', '--searched-weights', '--seeds', '0',
                       '1', '--compare', 'pixel KD', '--out', str(tmp_path), '--cfg-options',
                       'custom_hooks.1.floor=1.0'])
    pipe = demo_pipeline(args)
    monkeypatch.setattr(ablation, 'demo_pipeline', lambda _: pipe)
    monkeypatch.setattr(pipe, 'initial_students', lambda seed: ('i.pth', 'i_arch.pth'))
    monkeypatch.setattr(ablation, 'run_jobs', lambda jobs, *_: [job.fn() for job in jobs])
    trained = []
    monkeypatch.setattr(pipe, 'train', lambda *a: (trained.append(a), os.makedirs(a[2])))
    pipe.jobs()
    kd = pipe.tuned_runs[0, 'pixel KD'], pipe.tuned_runs[1, 'pixel KD']
    scores = {pipe.runs[0, 'baseline']: 60.0, pipe.runs[1, 'baseline']: 61.0,
              pipe.tuned_runs[0, 'AICSD (paper)']: 62.0, pipe.tuned_runs[1, 'AICSD (paper)']: 64.0,
              kd[0]: 66.0, kd[1]: 66.5}
    for run_dir in scores:
        os.makedirs(run_dir, exist_ok=True)
        open(osp.join(run_dir, f"iter_{pipe.preset['student_iters']}.pth"), 'w').close()
    variant = {osp.join(str(tmp_path), 'ablations', 'no-alw', f'seed{s}'): 63.0 + s
               for s in (0, 1)}
    monkeypatch.setattr(pipe, 'miou', lambda run_dir: {**scores, **variant}[run_dir])
    ablation.run(args)
    assert [a[2] for a in trained] == list(variant)
    for (_, _, _, _, seed, _, extra) in trained:
        assert extra[-len(choice.options()) - 1:] == choice.options() + [
            'custom_hooks.1.floor=1.0'], extra
    with open(osp.join(str(tmp_path), 'ablations', 'no-alw', 'results.json')) as f:
        results = json.load(f)
    assert results['miou']['pixel KD'] == [66.0, 66.5]
    assert results['miou']['AICSD (paper)'] == [62.0, 64.0]
    assert results['variant_minus_row']['diffs'] == [1.0, 0.0]
    assert results['variant_minus_compared']['pixel KD']['diffs'] == [-3.0, -2.5]


def test_a_searched_row_is_paired_with_its_own_shipped_run_only_where_it_retrained(
        pipeline, monkeypatch):
    """'What did the search's choice do on test' pairs the retrained run with the same row's
    first-table run, seed by seed; a row whose search kept its weights has no such pair."""
    pipe, _ = pipeline
    pipe.jobs()
    changed = {label for label, c in pipe.choices.items() if c.changes_weights}
    tuned_miou = {0: 61.0, 1: 64.5, 2: 62.0}
    monkeypatch.setattr(pipe, 'miou', lambda run_dir: tuned_miou[int(
        next(p for p in run_dir.split(os.sep) if p.startswith('seed'))[4:])])
    first = {form.label: [60.0 + i, 62.0, 63.5] for i, (_, form) in enumerate(pipe.forms)}
    first['baseline'] = [59.0, 60.0, 61.0]
    rows = pipe.tuned_rows(first)
    for label in changed:
        assert rows[label]['to_shipped'] == paired([61.0, 64.5, 62.0], first[label]), label
    kept = [label for label, entry in rows.items()
            if entry['status'] == CHOSEN and label not in changed]
    assert kept and all('to_shipped' not in rows[label] for label in kept)

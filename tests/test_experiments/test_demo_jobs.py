"""The demo's job graph: every job of a seed uses that seed's files (nothing is trained)."""
import argparse
import os.path as osp

import pytest

from mmseg_distill.experiments.demo import Pipeline
from mmseg_distill.methods import stage1_forms

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
    assert len(trained) == 3 * (1 + len(pipe.stages) + len(pipe.forms))
    with_stage1 = 0
    for package, config, work_dir, iters, seed, *rest in trained:
        assert f'seed{seed}' in work_dir
        options = ' '.join(rest[1] if len(rest) > 1 else [])
        if 'load_from=' in options:
            assert f'init{seed}' in options, (work_dir, options)
        if f'{STAGE.checkpoint_key}=' in options:
            with_stage1 += 1
            assert osp.join(f'seed{seed}', STAGE.prefix) in options, (work_dir, options)
    assert with_stage1 == 3 * len(stage1_forms())

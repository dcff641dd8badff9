"""tools/demo.py's command line: presets, --all-forms with any preset, and where each run goes
(nothing is trained: the pipeline is replaced)."""
import importlib.util
import os.path as osp
import sys

import pytest

from benchmarks import tiny
from benchmarks.demo.pipeline import Pipeline  # before the fixture replaces it


@pytest.fixture
def demo_main(monkeypatch):
    import benchmarks.demo.pipeline as demo
    seen = []

    class Recorded:
        def __init__(self, args):
            seen.append(args)

        def run(self):
            pass

    monkeypatch.setattr(demo, 'Pipeline', Recorded)
    spec = importlib.util.spec_from_file_location(
        'demo_tool', osp.join(tiny.REPO, 'tools', 'demo.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)

    def main(*argv):
        monkeypatch.setattr(sys, 'argv', ['demo.py'] + list(argv))
        tool.main()
        args = seen[-1]
        return args.preset, args.forms, osp.relpath(args.out, tiny.REPO)

    main.seen = seen
    return main


def test_every_form_can_be_run_at_any_presets_regime(demo_main):
    assert demo_main() == ('full', None, 'work_dirs/demo')
    assert demo_main('--all-forms') == ('full', 'all', 'work_dirs/demo-all-forms')
    # the first round's ablations pair with every form at the first round's regime
    assert demo_main('--preset', 'short', '--all-forms') == (
        'short', 'all', 'work_dirs/demo-short-all-forms')
    assert demo_main('--quick') == ('quick', None, 'work_dirs/demo-quick')
    assert demo_main('--preset', 'all-forms') == ('all-forms', None, 'work_dirs/demo-all-forms')
    with pytest.raises(SystemExit):
        demo_main('--quick', '--preset', 'short')


def test_the_second_table_is_asked_for_except_in_the_smoke_run(demo_main, tmp_path):
    import argparse
    tuned = {}
    for argv in ([], ['--tuned'], ['--search'], ['--searched', 'x'], ['--quick'],
                 ['--preset', 'short']):
        demo_main(*argv)
        tuned[' '.join(argv)] = demo_main.seen[-1].tuned
    assert tuned == {'': False, '--tuned': True, '--search': True, '--searched x': True,
                     '--quick': True, '--preset short': False}

    def searched(**given):  # what the pipeline makes of it
        args = argparse.Namespace(preset='full', seeds=None, out=str(tmp_path), jobs=1,
                                  executor='local', force=False, **given)
        return Pipeline(args).searched

    assert searched(tuned=False) is None
    assert searched(tuned=True).endswith(osp.join('docs', 'weight_search', 'b8-2000-lr0.03'))


def test_the_demos_trainings_run_in_the_processes_asked_for(tmp_path, monkeypatch):
    import argparse
    import types

    import benchmarks.demo.pipeline as demo
    launched = []

    def fake_mim_train(package, config, work_dir, cwd, options=(), extra=(), **kwargs):
        launched.append(list(extra))
        open(osp.join(work_dir, 'iter_5.pth'), 'w').close()
        return types.SimpleNamespace(returncode=0)

    monkeypatch.setattr(demo, 'mim_train', fake_mim_train)
    for gpus, expected in ((None, []), (2, ['--launcher', 'pytorch', '--gpus', '2'])):
        args = argparse.Namespace(preset='quick', seeds=None, out=str(tmp_path / str(gpus)),
                                  jobs=1, executor='local', force=False, gpus_per_job=gpus)
        pipe = Pipeline(args)
        pipe.train('mmseg', tiny.STUDENT_CFG, str(tmp_path / str(gpus) / 'run'), 5, 0)
        assert launched[-1] == expected

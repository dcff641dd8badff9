"""`mmseg_distill::` base configs resolve from any directory, editable or regular install."""
import glob
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import zipfile

import pytest
from tiny_pair import REPO, STUDENT_CFG, TEACHER_CFG

pytestmark = pytest.mark.e2e

# the method fragments (_runtime.py is the block they all inherit, not a method)
FRAGMENTS = sorted(osp.basename(p) for p in
                   glob.glob(osp.join(REPO, 'configs', '_base_', 'distill', '*.py'))
                   if not osp.basename(p).startswith('_'))
USER_LEAF = """_base_ = ['mmseg_distill::_base_/distill/{fragment}']
model = dict(architecture=dict(type='ModelFromConfig', cfg_path='{student}'),
             teacher=dict(type='ModelFromConfig', cfg_path='{teacher}'))
"""
CHECK = r'''
import sys, os.path as osp
from mmengine.config import Config
from mmengine.registry import DefaultScope, HOOKS
cfg = Config.fromfile(sys.argv[1])
import mmseg_distill

print('PACKAGE', osp.dirname(mmseg_distill.__file__))
with DefaultScope.overwrite_default_scope('mmseg'):
    hooks = [HOOKS.build(h) for h in cfg.custom_hooks]
print('HOOKS', [type(h).__name__ for h in hooks])
'''


def write_leaf(folder, fragment='pixel_kd.py'):
    path = folder / 'my_leaf.py'
    path.write_text(USER_LEAF.format(fragment=fragment, student=STUDENT_CFG,
                                     teacher=TEACHER_CFG))
    return str(path)


@pytest.mark.parametrize('fragment', FRAGMENTS)
def test_every_fragment_resolves_outside_the_repository(tmp_path, fragment, monkeypatch):
    from mmengine.config import Config
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile(write_leaf(tmp_path, fragment))
    assert cfg.model.type == 'SegmentationDistill'
    from mmseg_distill.models.distillers import flat_distiller
    assert flat_distiller(cfg.model.distiller)['distill_losses']


def test_a_user_leaf_builds_and_its_hooks_build_without_custom_imports(tmp_path):
    out = subprocess.run([sys.executable, '-c', CHECK, write_leaf(tmp_path, 'aicsd.py')],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "HOOKS ['RNGStateHook', 'AdaptiveLossWeightHook']" in out.stdout


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    """The project's wheel, as `pip wheel .` builds it."""
    tmp_path = tmp_path_factory.mktemp('wheel')
    # built from a copy: building in place would swap the checkout's .mim links for copies
    source = tmp_path / 'source'
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(
        '.venv', 'work_dirs', '.git', 'data', 'build', '*.egg-info', '.mim', '.whl'))
    wheel_dir = tmp_path / 'wheel'
    built = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
                            '--no-build-isolation', '-q', '-w', str(wheel_dir), str(source)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    return glob.glob(str(wheel_dir / '*.whl'))[0]


def test_the_wheel_installs_into_an_existing_stack_and_replaces_none_of_it(wheel, tmp_path):
    """Into an environment that already has its torch, compiled mmcv and OpenMMLab stack (this
    one), pip installs the plugin alone: every requirement is a range the stack satisfies
    (--no-index: anything else to install would fail to resolve)."""
    import json
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(archive.read(n).decode() for n in archive.namelist()
                        if n.endswith('.dist-info/METADATA'))
    requires = [line.split(':', 1)[1].strip() for line in metadata.splitlines()
                if line.startswith('Requires-Dist:') and 'extra ==' not in line]
    pinned = [r for r in requires if '==' in r]
    assert not pinned, f'exact pins would replace the user\'s stack: {pinned}'
    assert {'torch>=2.0', 'mmcv<=2.1.0,>=2.0.0rc4', 'mmsegmentation<2.0.0,>=1.2.0',
            'mmrazor<2.0.0,>=1.0.0', 'mmengine<1.0.0,>=0.10.0'} <= set(requires)
    report = tmp_path / 'report.json'
    # from a folder of the user's (in the checkout, pip would take the build's
    # mmseg_distill.egg-info on sys.path for an installed copy and install nothing)
    done = subprocess.run([sys.executable, '-m', 'pip', 'install', '--dry-run', '--no-index',
                           '--disable-pip-version-check', '--report', str(report), wheel],
                          capture_output=True, text=True, timeout=600, cwd=str(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    install = [item['metadata']['name'] for item in json.loads(report.read_text())['install']]
    assert install == ['mmseg_distill'], install


def test_the_wheel_holds_the_plugin_and_not_the_lab(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    tops = {name.split('/')[0] for name in names}
    assert tops == {'mmseg_distill', 'mmseg_distill_boot.py', 'mmseg_distill_boot.pth',
                    osp.basename(wheel).split('-py3')[0] + '.dist-info'}, tops
    tools = {name.split('/')[-1] for name in names if name.startswith('mmseg_distill/.mim/tools/')}
    from mmseg_distill import cli
    assert set(cli.COMMANDS.values()) <= tools
    assert tools == {'inspect_pair.py', 'search_weights.py', 'export_student.py', 'transfer.py',
                     'calibrate_weights.py', 'visualize_similarity.py'}


def test_the_wheels_console_command_runs_the_installed_tools(wheel, tmp_path):
    """`mmseg-distill <command>` for a pip user: the tools come with the wheel (no clone)."""
    with zipfile.ZipFile(wheel) as archive:
        entry_points = next(archive.read(n).decode() for n in archive.namelist()
                            if n.endswith('.dist-info/entry_points.txt'))
        archive.extractall(tmp_path / 'site')
    assert 'mmseg-distill = mmseg_distill.cli:main' in entry_points
    run = (f'import sys; sys.path.insert(0, {str(tmp_path / "site")!r})\n'
           'from mmseg_distill import cli\n'
           'print("TOOL", cli.tool_path("export"))\n'
           'sys.exit(cli.main(sys.argv[1:]))')
    out = subprocess.run([sys.executable, '-c', run, 'export', '--help'], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"TOOL {tmp_path / 'site' / 'mmseg_distill' / '.mim' / 'tools'}" in out.stdout
    text = ' '.join(out.stdout.split())  # argparse wraps the description
    assert 'usage: export_student.py' in text and 'student-only checkpoint' in text
    wrong = subprocess.run([sys.executable, '-c', run, 'distil'], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
    assert wrong.returncode == 2 and 'mmseg-distill pair TEACHER STUDENT' in wrong.stderr


def test_regular_install_layout_resolves_from_site_packages(wheel, tmp_path):
    """A wheel (copies of the configs under .mim), imported ahead of the editable checkout."""
    site = tmp_path / 'site'
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    assert (site / 'mmseg_distill' / '.mim' / 'configs' / '_base_' / 'distill' /
            'pixel_kd.py').is_file()
    leaf = write_leaf(tmp_path)
    out = subprocess.run([sys.executable, '-c', f'import sys; sys.path.insert(0, {str(site)!r})'
                          + '\n' + CHECK, leaf], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300, env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert out.returncode == 0, out.stderr[-3000:]
    assert f'PACKAGE {site / "mmseg_distill"}' in out.stdout


def test_the_license_file_is_the_license_setup_declares():
    with open(osp.join(REPO, 'setup.py')) as f:
        declared = re.search(r"license='([^']+)'", f.read()).group(1)
    with open(osp.join(REPO, 'LICENSE')) as f:
        text = f.read()
    assert declared == 'Apache License 2.0'
    assert 'Apache License' in text and 'Version 2.0, January 2004' in text
    assert 'END OF TERMS AND CONDITIONS' in text  # the whole text, not a mention

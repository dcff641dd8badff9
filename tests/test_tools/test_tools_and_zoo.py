"""Model-zoo metadata is consistent, and the visual tool draws from the real models."""
import glob
import os.path as osp
import subprocess
import sys

import pytest
import yaml
from tiny_pair import REPO, STUDENT_CFG, TEACHER_CFG

from mmseg_distill.methods import METHODS as REGISTRY

METHODS = [method.directory for method in REGISTRY.values()]


def test_model_index_lists_every_leaf_config_once():
    with open(osp.join(REPO, 'model-index.yml')) as f:
        imports = yaml.safe_load(f)['Import']
    assert sorted(imports) == sorted(f'configs/{m}/metafile.yml' for m in METHODS)
    listed = []
    for path in imports:
        with open(osp.join(REPO, path)) as f:
            meta = yaml.safe_load(f)
        for model in meta['Models']:
            assert osp.exists(osp.join(REPO, model['Config'])), model['Config']
            assert model['Name'] == osp.basename(model['Config'])[:-3]
            listed.append(model['Config'])
    leaves = sorted(osp.relpath(p, REPO) for m in METHODS
                    for p in glob.glob(osp.join(REPO, 'configs', m, '*.py')))
    assert sorted(listed) == leaves


def test_each_method_readme_has_recipe_results_and_bibtex():
    for method in METHODS:
        with open(osp.join(REPO, 'configs', method, 'README.md')) as f:
            text = f.read()
        for part in ('## Recipe', '## Results', '### Published', '### Measured here',
                     '```bibtex', '@'):
            assert part in text, (method, part)


@pytest.mark.e2e  # runs the tool (or Python) in a subprocess
def test_visualize_similarity_writes_the_three_figures(tmp_path):
    import cv2

    from mmseg_distill.datasets.synthetic_scenes import render_scene
    image = str(tmp_path / 'scene.png')
    cv2.imwrite(image, render_scene(64, 0, 0, 'val')[0][..., ::-1])
    out = subprocess.run([sys.executable, osp.join(REPO, 'tools/visualize_similarity.py'),
                          TEACHER_CFG, 'none', STUDENT_CFG, 'none', image, '--out',
                          str(tmp_path / 'vis')], capture_output=True, text=True, timeout=300,
                         cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr[-3000:]
    for name in ('psd.png', 'class_similarity.png', 'pixel_similarity.png'):
        assert (tmp_path / 'vis' / name).stat().st_size > 1000


def test_each_method_readme_lists_exactly_its_configs():
    import re
    for method in METHODS:
        folder = osp.join(REPO, 'configs', method)
        with open(osp.join(folder, 'README.md')) as f:
            section = f.read().split('## Configs', 1)[1].split('\n## ', 1)[0]
        listed = sorted(re.findall(r'^\| `([^`]+\.py)` \|', section, re.M))
        shipped = sorted(osp.basename(p) for p in glob.glob(osp.join(folder, '*.py')))
        assert listed == shipped, (method, sorted(set(listed) ^ set(shipped)))


def test_load_config_takes_files_and_package_scopes():
    """The tools' --data and config arguments: a path, or a config of an installed package
    (Config.fromfile alone takes 'mmseg_distill::...' for a file name)."""
    from mmseg_distill.utils import load_config
    by_scope = load_config('mmseg_distill::_base_/datasets/synthetic_scenes.py')
    by_path = load_config(osp.join(REPO, 'configs/_base_/datasets/synthetic_scenes.py'))
    assert by_scope.train_dataloader.dataset.type == by_path.train_dataloader.dataset.type
    assert load_config('mmseg::_base_/datasets/ade20k.py').dataset_type == 'ADE20KDataset'


def test_every_tools_help_describes_it_in_whole_sentences():
    """`--help` shows the first paragraph of the tool's docstring, whole (a first line alone
    stopped mid-sentence), and the tools do so by the same expression."""
    import ast
    for path in sorted(glob.glob(osp.join(REPO, 'tools', '*.py'))):
        with open(path) as f:
            source = f.read()
        doc = ast.get_docstring(ast.parse(source))
        if 'description=' not in source:
            continue
        assert "description=__doc__.split('\\n\\n')[0].replace('\\n', ' ')" in source, path
        first = doc.split('\n\n')[0].replace('\n', ' ')
        assert first.rstrip().endswith(('.', ':')), (path, first)


@pytest.mark.e2e  # runs the tool in a subprocess
def test_the_transfer_tools_help_is_a_whole_sentence():
    out = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'transfer.py'), '--help'],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert 'every relation the methods distil (``mmseg_distill.evidence``), on the same ' \
        'validation images.' in ' '.join(out.stdout.split())

"""A loss or a method added by docs/adding_a_method.md reached every place the guide lists."""
import ast
import inspect
import os.path as osp

import pytest
from mmrazor.registry import MODELS
from tiny_pair import PAIR, REPO

import mmseg_distill.models.losses as losses_package
from mmseg_distill.methods import all_forms
from mmseg_distill.models.utils.precision import float32_compute

LOSSES = losses_package.__all__


def test_losses_test_file_covers_every_loss():
    """Each loss has its edge-case entry (ALL_PAIRS) in the loss tests
    (tests/test_models/test_losses/test_losses.py)."""
    with open(osp.join(REPO, 'tests', 'test_models', 'test_losses', 'test_losses.py')) as f:
        tree = ast.parse(f.read())
    all_pairs = next(node.value for node in tree.body if isinstance(node, ast.Assign) and
                     getattr(node.targets[0], 'id', '') == 'ALL_PAIRS')
    covered = {key.value.split('/')[0] for key in all_pairs.keys}
    missing = set(LOSSES) - covered - {'AutoEncoderReconstructionLoss'}  # a stage-1 objective
    assert not missing, f'losses without edge-case tests in ALL_PAIRS: {missing}'


@pytest.mark.parametrize('name', LOSSES)
def test_every_loss_is_registered_documented_and_float32(name):
    cls = getattr(losses_package, name)
    assert MODELS.get(name) is cls
    doc = inspect.getdoc(cls) or ''
    assert '.. math::' in doc or 'L =' in doc, f'{name}: its docstring gives no formula'
    assert 'et al.' in doc, f'{name}: its docstring names no paper'
    assert "project" in doc.lower(), f"{name}: its docstring names no project choice"
    # float32_compute's own wrapper (every wrapper it makes runs one code object), not merely
    # some functools.wraps decorator
    assert cls.forward.__code__ is float32_compute(lambda: None).__code__, \
        f'{name}.forward is not @float32_compute'


def test_every_form_has_its_fragment_tiny_leaf_readme_and_metafile():
    for method, form in all_forms():
        assert osp.isfile(osp.join(REPO, 'configs/_base_/distill', form.fragment)), form
        assert osp.isfile(osp.join(REPO, 'configs', form.leaf(method.directory, PAIR))), form
        for name in ('README.md', 'metafile.yml'):
            assert osp.isfile(osp.join(REPO, 'configs', method.directory, name))

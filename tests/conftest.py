import os
import sys

import pytest
import torch

# tests/ has no __init__.py (the mmrazor wheel ships a top-level `tests` package); make the
# helper modules beside this file importable.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _restore_default_scope():
    """A test that builds a Runner leaves its default scope ('mmseg') current, and every later
    bare MODELS.build would then look in MMSeg's registry: put back what was there."""
    from mmengine.registry import DefaultScope
    saved = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)


@pytest.fixture(scope='session')
def repo_root():
    return REPO

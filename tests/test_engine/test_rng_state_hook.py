"""``RNGStateHook``: validation leaves every training random state where it was."""
import random

import numpy as np
import torch

import mmseg_distill  # noqa: F401

FAST_SCNN = 'mmseg::fastscnn/fast_scnn_8xb4-160k_cityscapes-512x1024.py'


def test_validation_leaves_every_training_random_state_where_it_was():
    from mmseg_distill.engine.hooks import RNGStateHook
    hook = RNGStateHook()
    torch.manual_seed(3)
    np.random.seed(3)
    random.seed(3)
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.manual_seed(3)
    np.random.seed(3)
    random.seed(3)
    hook.before_val(None)
    torch.rand(5), np.random.rand(5), random.random()  # what a validation may draw
    iter(torch.utils.data.DataLoader(range(4)))  # a new loader iterator draws a base seed
    hook.after_val(None)
    got = (torch.rand(3), np.random.rand(3), random.random())
    torch.testing.assert_close(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    assert got[2] == expected[2]

"""``mmseg_distill.engine.shares``: shares under a weight schedule (AICSD's ALW)."""
import os.path as osp

import pytest
from tiny_pair import REPO

import mmseg_distill  # noqa: F401

FAST_SCNN = 'mmseg::fastscnn/fast_scnn_8xb4-160k_cityscapes-512x1024.py'


# ------------------------------------------------------------------------ shares under ALW
def test_alw_shares_are_shown_at_the_first_iteration_and_at_full_weight():
    from mmengine.config import Config

    from mmseg_distill.engine.shares import (TermStats, apply_start_factors, format_shares,
                                             schedule_start_factors)
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/distill/aicsd_paper.py'))
    factors, task_factor = schedule_start_factors(cfg)
    assert factors == {'loss_kd': 1.0, 'loss_icsd': 0.0} and task_factor == 0.0
    floored = Config(dict(custom_hooks=[dict(cfg.custom_hooks[1], floor=0.25)]))
    assert schedule_start_factors(floored)[0]['loss_icsd'] == 0.25
    terms = {'loss_icsd': TermStats(84.0, 0.03, 0.0, share=2.31),
             'loss_kd': TermStats(10.0, 0.25, 0.0, share=0.9)}
    apply_start_factors(terms, dict(factors, loss_icsd=0.25))
    assert terms['loss_icsd'].start_share == pytest.approx(2.31 * 0.25)
    table = format_shares(terms, 1.1, 'aicsd:', task_factor)
    assert '| share at full weight | share at iteration 0 (scheduled weight) |' in table
    assert '| loss_icsd | 84 | 0.03 (0) | 2.52 | 2.31 | 0.578 (x0.25) | ok |' in table
    assert "student's task loss is scheduled too (x0 at iteration 0)" in table
    assert schedule_start_factors(Config(dict(custom_hooks=[]))) == ({}, None)
    plain = format_shares({'loss_kd': TermStats(1.0, 0.5, 0.0, share=0.5)}, 1.0, 'kd:')
    assert 'iteration 0' not in plain

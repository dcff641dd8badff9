"""Methods composed in one leaf: every pair of methods on the tiny pair builds and trains (the
pair tool's ``--method a+b``), the two forms of one method or two methods with one term are
clear errors, and a leaf written by hand over two terms files composes as documented."""
import itertools
import os.path as osp

import pytest
import torch
from tiny_pair import REPO, STUDENT_CFG, TEACHER_CFG

from mmseg_distill.methods import METHODS, methods_of

FRAGMENTS = osp.join(REPO, 'configs', '_base_', 'distill')
# combinations that cannot work, and why (the error must say it)
REFUSED = {('pixel_kd', 'aicsd'): "both define the loss 'loss_kd'"}


@pytest.fixture(scope='module')
def points():
    from mmseg_distill.pairing import build_random, inspect_model
    torch.manual_seed(0)
    teacher, _ = build_random(TEACHER_CFG, 7)
    student, student_cfg = build_random(STUDENT_CFG, 7)
    return inspect_model(teacher, (64, 64)), inspect_model(student, (64, 64)), student_cfg


def write_leaves(tmp_path, spec, points):
    from mmseg_distill.pairing import Pair, leaf_texts
    teacher, student, student_cfg = points
    out = str(tmp_path / f"{spec.replace('+', '_')}.py")
    pair = Pair(TEACHER_CFG, STUDENT_CFG, spec, out, (64, 64), 7)
    texts = leaf_texts(pair, teacher, student, student_cfg)
    for path, text in texts:
        with open(path, 'w') as f:
            f.write(text)
    return [path for path, _ in texts]


@pytest.mark.parametrize('first,second', list(itertools.combinations(METHODS, 2)))
def test_every_pair_of_methods_composes_builds_and_trains(tmp_path, points, first, second):
    from mmseg_distill.pairing import PairError
    from mmseg_distill.pairing.check import build_leaf_model, one_iteration, save_stage1
    spec = f'{first}+{second}'
    refused = REFUSED.get((first, second)) or REFUSED.get((second, first))
    if refused:
        with pytest.raises(PairError, match=refused):
            write_leaves(tmp_path, spec, points)
        return
    paths = write_leaves(tmp_path, spec, points)
    stage1 = None
    for path in paths:
        model = build_leaf_model(path, stage1, None)
        if path.endswith('_stage1.py'):
            one_iteration(model, (64, 64), 7)
            stage1 = save_stage1(model)
            continue
        expected = [loss for method in methods_of(spec) for loss in method.default.losses]
        assert sorted(model.distiller.distill_losses) == sorted(expected)
        for _ in range(2):  # two SGD steps: every term computed, finite, backpropagated
            values = one_iteration(model, (64, 64), 7)
            assert sorted(values) == sorted(f'distill.{loss}' for loss in expected)
            assert all(torch.isfinite(torch.tensor(v)) for v in values.values())


def test_a_weight_scheduled_method_brings_its_hook_into_the_composed_leaf(tmp_path, points):
    from mmengine.config import Config
    path = write_leaves(tmp_path, 'aicsd+dsd', points)[-1]
    hooks = [h['type'] for h in Config.fromfile(path).custom_hooks]
    assert hooks == ['mmrazor.RNGStateHook', 'mmrazor.AdaptiveLossWeightHook']


def test_two_forms_of_one_method_cannot_be_composed_by_config(tmp_path):
    from mmengine.config import Config
    from mmrazor.registry import MODELS

    import mmseg_distill  # noqa: F401
    from mmseg_distill.models.distillers import CompositionError

    # the terms files of two forms define the same name: MMEngine refuses the two bases
    leaf = tmp_path / 'two_forms.py'
    leaf.write_text(f"_base_ = ['{FRAGMENTS}/_algorithm.py', '{FRAGMENTS}/terms/dsd_cirkd.py', "
                    f"'{FRAGMENTS}/terms/dsd_paper.py']\n")
    with pytest.raises(KeyError, match='dsd_terms'):
        Config.fromfile(str(leaf))
    # put under two names by hand, the distiller names the clash when it is built
    cirkd = Config.fromfile(f'{FRAGMENTS}/terms/dsd_cirkd.py').dsd_terms
    paper = Config.fromfile(f'{FRAGMENTS}/terms/dsd_paper.py').dsd_terms
    # the message names both compose entries
    with pytest.raises(CompositionError,
                       match="'dsd' and 'dsd_paper' both define the loss 'loss_psd'"):
        MODELS.build(dict(type='SegmentationDistiller', compose=dict(dsd=cirkd, dsd_paper=paper)))


def test_a_leaf_written_by_hand_composes_two_fragments_and_sets_a_weight(tmp_path):
    """The README's composed leaf: DSD's fragment, pixel KD's terms, a weight by override."""
    from mmengine.config import Config

    from mmseg_distill.models.distillers import flat_distiller
    leaf = tmp_path / 'dsd_plus_kd.py'
    leaf.write_text(
        f"_base_ = ['{FRAGMENTS}/dsd_cirkd.py', '{FRAGMENTS}/terms/pixel_kd.py',\n"
        f"          '{REPO}/configs/_base_/pairs/deeplabv3-r18-tiny_fcn-mbv2-tiny_"
        "synthetic-64x64.py']\n"
        'model = dict(\n'
        '    architecture=_base_.student_model, teacher=_base_.teacher_model,\n'
        '    distiller=dict(\n'
        '        compose=dict(pixel_kd=_base_.pixel_kd_terms),\n'
        '        distill_losses=dict(loss_kd=dict(loss_weight=0.5))))\n')
    cfg = Config.fromfile(str(leaf))
    flat = flat_distiller(cfg.model.distiller)
    assert list(flat['distill_losses']) == ['loss_psd', 'loss_csd', 'loss_kd']
    assert flat['distill_losses']['loss_kd']['loss_weight'] == 0.5
    assert flat['distill_losses']['loss_psd']['loss_weight'] == 1000.0
    assert list(flat['student_recorders']) == ['aux_logits', 'head_feat', 'logits']


def test_a_method_composed_twice_or_unknown_is_refused():
    with pytest.raises(KeyError, match='twice'):
        methods_of('dsd+dsd')
    with pytest.raises(KeyError, match="'dsdx'"):
        methods_of('dsd+dsdx')


def test_the_exported_student_config_of_a_composed_leaf_carries_no_distillation(
        tmp_path, points):
    from mmengine.config import Config

    from mmseg_distill.engine.export import student_config_from
    path = write_leaves(tmp_path, 'aicsd+dsd', points)[-1]
    exported = student_config_from(Config.fromfile(path)).to_dict()
    runtime = ('default_hooks', 'custom_hooks')
    assert not [k for k in exported if k.endswith(('_terms', '_hooks')) and k not in runtime]
    assert exported['model']['type'] == 'EncoderDecoder'
    # the runtime's exact-resume hook stays (the baseline resumes as the leaf does); the
    # weight schedule of AICSD's terms goes
    assert [h['type'] for h in exported.get('custom_hooks', [])] == ['mmrazor.RNGStateHook']

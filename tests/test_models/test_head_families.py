"""Heads with classes of their own (STDC's detail head) keep them when a pair is built for
another data set, and are not taken for the data set's auxiliary logits."""
import pytest

import mmseg_distill  # noqa: F401
from mmseg_distill.models.head_families import has_own_classes, own_class_heads

STDC = 'mmseg::stdc/stdc1_4xb12-80k_cityscapes-512x1024.py'


def test_an_auxiliary_head_of_its_own_class_count_keeps_it():
    from mmseg_distill.models.model_from_config import load_model_cfg
    model_cfg, _, _ = load_model_cfg(STDC, num_classes=5, random_init=True)
    heads = {head['type']: head for head in model_cfg.auxiliary_head}
    assert model_cfg.decode_head.num_classes == 5
    assert [h['num_classes'] for h in model_cfg.auxiliary_head if h['type'] == 'FCNHead'] == \
        [5, 5]
    assert heads['STDCHead']['num_classes'] == 2  # boundary / not: the detail head's classes


def test_the_rule_by_type_and_by_a_class_count_unlike_the_decode_heads():
    assert has_own_classes('STDCHead', 2, 2)  # by type, even on a 2-class data set
    assert has_own_classes('FCNHead', 2, 19)  # configured unlike the decode head
    assert not has_own_classes('FCNHead', 19, 19)
    assert not has_own_classes('FCNHead', None, 19)


@pytest.mark.e2e  # builds a model-zoo model
def test_the_pair_tool_and_the_transfer_measurement_name_and_skip_the_detail_head():
    from mmseg_distill.evidence.relations import aux_logit_sources
    from mmseg_distill.pairing import build_random, inspect_model
    model, _ = build_random(STDC, 5)
    assert own_class_heads(model) == {'auxiliary_head.2': ('STDCHead', 2)}
    points = {p.name: p for p in inspect_model(model, (64, 64))}
    assert points['auxiliary_head.2.conv_seg'].what == 'STDCHead logits (2 classes of its own)'
    assert points['auxiliary_head.0.conv_seg'].what == 'auxiliary logits'
    assert points['auxiliary_head.0.conv_seg'].channels == 5
    assert 'auxiliary_head.2.conv_seg' not in aux_logit_sources(model)
    assert 'auxiliary_head.0.conv_seg' in aux_logit_sources(model)

"""Bad input names itself: the loss, its recorders and shapes, the weight, at build time where
possible."""
import math
import warnings

import pytest
from mmrazor.registry import MODELS
from tiny_pair import fake_batch, load_model_cfg

import mmseg_distill  # noqa: F401


def build(cfg):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return MODELS.build(cfg)


@pytest.mark.parametrize('weight,error,message', [
    (-1.0, ValueError, 'finite number >= 0'), (math.inf, ValueError, 'finite number >= 0'),
    (math.nan, ValueError, 'finite number >= 0'), ('1.0', TypeError, 'must be a number'),
    (True, TypeError, 'must be a number')])
def test_a_bad_loss_weight_is_a_build_error_naming_the_loss(weight, error, message):
    cfg = load_model_cfg('pixel_kd', 'pixel-kd')
    cfg.distiller.distill_losses.loss_kd.loss_weight = weight
    with pytest.raises(error, match=rf"distill loss 'loss_kd' \(PixelwiseKDLoss\).*{message}"):
        build(cfg)


def test_mmrazors_own_loss_failing_names_the_loss_its_recorders_and_shapes():
    """MMRazor's CWD on feature maps of 32 (teacher) and 16 (student) channels."""
    cfg = load_model_cfg('pfs', 'pfs')
    cfg.distiller.distill_losses = dict(
        loss_cwd=dict(type='ChannelWiseDivergence', tau=1.0, loss_weight=1.0))
    cfg.distiller.loss_forward_mappings = dict(
        loss_cwd=dict(preds_S=dict(recorder='head_feat', from_student=True),
                      preds_T=dict(recorder='head_feat', from_student=False)))
    model = build(cfg)
    with pytest.raises(RuntimeError) as error:
        model.loss(*fake_batch())
    text = str(error.value)
    assert "distill loss 'loss_cwd' (ChannelWiseDivergence)" in text
    assert "preds_S = student recorder 'head_feat' of shape (2, 16, 8, 8)" in text
    assert "preds_T = teacher recorder 'head_feat' of shape (2, 32, 8, 8)" in text


def test_a_student_record_without_its_adapter_is_named_as_such():
    import torch

    from mmseg_distill.models.losses import KnowledgeAdaptationLoss
    with pytest.raises(ValueError, match=r'the student record has 16 channels.*adapter '
                                         r'connector with out_channel=32'):
        KnowledgeAdaptationLoss()(torch.randn(2, 16, 4, 4), torch.randn(2, 32, 4, 4))


LOGIT_LOSSES = ['PixelwiseKDLoss', 'WeightedSoftImitationLoss', 'CategorySimilarityLoss',
                'InterClassSimilarityLoss']


@pytest.mark.parametrize('loss', LOGIT_LOSSES)
@pytest.mark.parametrize('argument,value,error,message', [
    ('tau', 0.0, ValueError, 'tau must be positive'),
    ('tau', -1.0, ValueError, 'tau must be positive'),
    ('tau', float('inf'), ValueError, 'tau must be positive'),
    ('tau', '4', ValueError, 'tau must be positive'),
    ('align_to', 'both', ValueError, "align_to must be one of \\('teacher', 'student'\\)"),
    ('ignore_index', 255.5, TypeError, 'ignore_index must be an integer label'),
])
def test_every_logit_loss_refuses_bad_arguments_when_it_is_built(loss, argument, value, error,
                                                                 message):
    from mmrazor.registry import MODELS
    with pytest.raises(error, match=message):
        MODELS.build(dict(type=loss, **{argument: value}))

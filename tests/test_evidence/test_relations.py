"""``mmseg_distill.evidence``: the relation distances, against their definitions, and the
students they can be read from."""

import math

import pytest
import torch
from tiny_pair import STUDENT_CFG, TEACHER_CFG

import mmseg_distill  # noqa: F401

FAST_SCNN = 'mmseg::fastscnn/fast_scnn_8xb4-160k_cityscapes-512x1024.py'


# ------------------------------------------------------------------------ transfer
def test_transfer_reads_a_student_with_a_list_of_auxiliary_heads_and_names_what_it_leaves_out():
    from mmseg_distill.evidence import aux_logit_sources, left_out, measure_students
    from mmseg_distill.models import ModelFromConfig
    from mmseg_distill.utils import random_seg_batch
    torch.manual_seed(0)
    teacher = ModelFromConfig(TEACHER_CFG, num_classes=7, random_init=True)
    fast_scnn = ModelFromConfig(FAST_SCNN, num_classes=7, random_init=True)
    from mmengine.model import revert_sync_batchnorm
    fast_scnn = revert_sync_batchnorm(fast_scnn)
    plain = ModelFromConfig(STUDENT_CFG, num_classes=7, random_init=True)
    assert aux_logit_sources(fast_scnn) == ['auxiliary_head.0.conv_seg',
                                            'auxiliary_head.1.conv_seg']
    inputs, samples = random_seg_batch(2, (64, 64), 7, seed=0)
    results = measure_students(teacher, {'fast_scnn': fast_scnn}, [(inputs, samples)])
    assert 'psd' in results['fast_scnn']  # it was silently missing with a list of heads
    reasons = left_out(teacher, {'fast_scnn': fast_scnn})
    assert 'psd' not in reasons
    assert '--stage1' in reasons['ka_affinity'] and '--pre-relu' in reasons['pairwise']
    del plain.auxiliary_head
    reasons = left_out(teacher, {'plain': plain})
    assert 'no auxiliary head on plain' in reasons['psd']


# ------------------------------------------------------------------------ the relations
def _cka_naive(x, y):
    """Linear CKA from its definition (Kornblith et al. 2019): HSIC with linear kernels on
    centred position vectors, ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F)."""
    x, y = x - x.mean(0), y - y.mean(0)
    return ((y.T @ x).norm() ** 2 / ((x.T @ x).norm() * (y.T @ y).norm())).item()


def test_linear_cka_distance_is_its_definition_per_image_and_ignores_rotation_and_scale():
    from mmseg_distill.evidence import linear_cka_distance
    torch.manual_seed(0)
    s, t = torch.randn(2, 5, 6, 7).double(), torch.randn(2, 3, 6, 7).double()
    rows = [(img.flatten(1).T, other.flatten(1).T) for img, other in zip(s, t)]
    expected = sum(1 - _cka_naive(a, b) for a, b in rows) / 2
    assert linear_cka_distance(s, t).item() == pytest.approx(expected, rel=1e-5)
    rotation, _ = torch.linalg.qr(torch.randn(5, 5).double())
    turned = torch.einsum('oc,bchw->bohw', rotation, s) * 3.0
    assert linear_cka_distance(turned, s).item() == pytest.approx(0.0, abs=1e-6)
    assert 0.0 < linear_cka_distance(s, t).item() <= 1.0


def test_every_relation_of_a_student_equal_to_the_teacher_is_at_its_closest():
    from mmseg_distill.evidence import Relations
    torch.manual_seed(0)
    record = dict(logits=torch.randn(2, 5, 8, 8), feature=torch.randn(2, 6, 8, 8),
                  aux_logits=torch.randn(2, 5, 8, 8), pre_relu=torch.randn(2, 6, 8, 8))
    same = Relations().distances(record, record)
    other = Relations().distances({k: torch.randn_like(v) for k, v in record.items()}, record)
    assert same['agreement'] == 1.0 and other['agreement'] < 1.0
    for name, value in same.items():
        if name == 'agreement':
            continue
        assert value == pytest.approx(0.0, abs=1e-5), name
        # and the relation does see a difference (CSD's scale is tiny: ~1e-7 on random logits)
        assert other[name] > 100 * abs(value) + 1e-12, name


def test_a_logit_relation_aligns_a_student_predicting_at_another_size():
    from mmseg_distill.evidence import Relations
    torch.manual_seed(0)
    # piecewise-constant logits, so pooling them to half the size keeps their argmax
    coarse = torch.nn.functional.interpolate(torch.randn(1, 4, 4, 4), size=(16, 16))
    teacher = dict(logits=coarse, feature=torch.randn(1, 6, 16, 16))
    student = dict(logits=torch.nn.functional.avg_pool2d(teacher['logits'], 2),
                   feature=torch.randn(1, 3, 8, 8))
    values = Relations().distances(student, teacher)
    assert all(math.isfinite(v) for v in values.values())
    assert values['agreement'] > 0.8  # aligned back, the pooled logits keep the argmax


def test_the_transfer_reads_at_most_max_images_validation_images(tmp_path):
    from user_data import data_config, write_mmseg_folder

    from mmseg_distill.evidence.transfer import val_batches
    from mmseg_distill.models import ModelFromConfig
    from mmseg_distill.utils.config import load_config
    root = write_mmseg_folder(tmp_path / 'data', train=2, val=5)
    config = tmp_path / 'data.py'
    config.write_text(data_config(root).replace('batch_size=1,', 'batch_size=2,'))
    data_cfg = load_config(str(config))
    model = ModelFromConfig(STUDENT_CFG, num_classes=5, random_init=True)
    sizes = [len(samples) for _, samples in val_batches(data_cfg, model, 0, max_images=3)]
    assert sizes == [2, 1]  # the last batch cut to the bound
    assert [len(s) for _, s in val_batches(data_cfg, model, 0)] == [2, 2, 1]
    assert [len(s) for _, s in val_batches(data_cfg, model, 1, max_images=3)] == [2]

"""Every loss against its naive reference, plus the edge cases of the brief."""
import pytest
import torch
from mmrazor.registry import MODELS

import mmseg_distill  # noqa: F401  (registers)
from benchmarks import naive_reference as naive
from mmseg_distill.models.losses import (AffinityLoss, AutoEncoderReconstructionLoss,
                                         InterClassSimilarityLoss, KnowledgeAdaptationLoss,
                                         PairwiseSimilarityLoss, PixelFeatureSimilarityLoss,
                                         PixelSimilarityLoss, PixelwiseKDLoss,
                                         WeightedSoftImitationLoss)

LOGIT_LOSSES = {
    'PixelwiseKDLoss': (dict(tau=2.0), lambda s, t: naive.pixel_kd(s, t, tau=2.0)),
    'WeightedSoftImitationLoss': (dict(tau=2.0),
                                  lambda s, t: naive.weighted_soft_imitation(s, t, tau=2.0)),
    'CategorySimilarityLoss': (dict(tau=4.0, pool_size=2),
                               lambda s, t: naive.category_similarity(s, t, 4.0, 2, True)),
    'InterClassSimilarityLoss': (dict(tau=1.0),
                                 lambda s, t: naive.inter_class_similarity(s, t, 1.0, True)),
    'InterClassSimilarityLoss/official': (
        dict(tau=2.0), lambda s, t: naive.inter_class_similarity_official(s, t, 2.0)),
    'PixelwiseKDLoss/class-mean': (dict(tau=2.0),
                                   lambda s, t: naive.pixel_kd_as_kldivloss(s, t, 2.0)),
}
# Variants of a registered loss: 'Type/variant' -> constructor arguments.
VARIANTS = {
    'InterClassSimilarityLoss/official': dict(formulation='official'),
    'PixelwiseKDLoss/class-mean': dict(class_reduction='mean'),
    'AffinityLoss/paper': dict(formulation='paper'),
    'KnowledgeAdaptationLoss/paper': dict(formulation='paper'),
}
# pairwise position-similarity losses evaluated without a P x P matrix (both exact algorithms)
FEATURE_LOSSES = {
    'PixelFeatureSimilarityLoss': (dict(), naive.pixel_feature_similarity),
    'AffinityLoss/paper': (dict(), naive.affinity),
}


def build(name, **kwargs):
    return MODELS.build(dict(type=name.split('/')[0], **VARIANTS.get(name, {}), **kwargs))


@pytest.mark.parametrize('name', sorted(LOGIT_LOSSES))
@pytest.mark.parametrize('shapes', [((2, 5, 6, 6), (2, 5, 6, 6)), ((2, 4, 5, 7), (2, 4, 10, 9)),
                                    ((1, 3, 8, 8), (1, 3, 4, 4))])
def test_logit_losses_match_naive(name, shapes):
    kwargs, reference = LOGIT_LOSSES[name]
    zs = torch.randn(*shapes[0]) * 3
    zt = torch.randn(*shapes[1]) * 3
    loss = build(name, **kwargs)(zs, zt)
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss, torch.as_tensor(float(reference(zs, zt))),
                               rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('name', sorted(FEATURE_LOSSES))
@pytest.mark.parametrize('shapes', [((2, 8, 5, 6), (2, 8, 5, 6)), ((2, 6, 4, 4), (2, 16, 6, 5)),
                                    ((1, 32, 7, 7), (1, 4, 7, 7))])
@pytest.mark.parametrize('chunk', [None, 7])
@pytest.mark.parametrize('algorithm', ['auto', 'gram', 'tiled'])
def test_feature_similarity_losses_match_explicit_pxp(name, shapes, chunk, algorithm):
    kwargs, reference = FEATURE_LOSSES[name]
    fs = torch.randn(*shapes[0], requires_grad=True)
    ft = torch.relu(torch.randn(*shapes[1]))
    loss = build(name, chunk_size=chunk, algorithm=algorithm, **kwargs)(fs, ft)
    fs_ref = fs.detach().double().requires_grad_()
    expected = reference(fs_ref, ft.double())
    torch.testing.assert_close(loss, expected.float(), rtol=1e-5, atol=1e-7)
    loss.backward()
    expected.backward()
    torch.testing.assert_close(fs.grad, fs_ref.grad.float(), rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize('chunk', [None, 5])
def test_pfs_softmax_kl_matches_explicit_pxp(chunk):
    fs, ft = torch.randn(2, 6, 4, 5), torch.randn(2, 9, 4, 5)
    loss = PixelFeatureSimilarityLoss(mode='softmax_kl', tau=0.5, chunk_size=chunk)(fs, ft)
    torch.testing.assert_close(loss, naive.pixel_feature_similarity(fs, ft, 'softmax_kl', 0.5),
                               rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('pairs', ['adjacent', 'all'])
def test_pixel_similarity_matches_naive_with_mixed_channels_and_sizes(pairs):
    feats_s = [torch.randn(2, 4, 8, 8), torch.randn(2, 6, 4, 4), torch.randn(2, 12, 4, 4)]
    feats_t = [torch.randn(2, 16, 8, 8), torch.randn(2, 32, 8, 8), torch.randn(2, 7, 4, 4)]
    loss = PixelSimilarityLoss(pairs=pairs)(feats_s, feats_t)
    torch.testing.assert_close(loss, naive.pixel_similarity(feats_s, feats_t, pairs),
                               rtol=1e-5, atol=1e-7)


def test_pixel_similarity_accepts_tuple_record_and_rejects_single_tensor():
    feats = tuple(torch.randn(1, 3, 4, 4) for _ in range(3))
    assert PixelSimilarityLoss()(feats, feats).item() == 0.0
    with pytest.raises(TypeError, match='sequence of >= 2 feature maps'):
        PixelSimilarityLoss()(torch.randn(1, 3, 4, 4), feats)
    with pytest.raises(ValueError, match='same number of layers'):
        PixelSimilarityLoss()(feats[:2], feats)


@pytest.mark.parametrize('shapes', [((2, 6, 3, 4), (2, 6, 6, 8)), ((3, 5, 4, 4), (3, 5, 4, 4))])
def test_knowledge_adaptation_both_forms_match_naive_and_require_equal_channels(shapes):
    fs, ft = torch.randn(*shapes[0]), torch.randn(*shapes[1])
    for p in (1, 2):
        torch.testing.assert_close(KnowledgeAdaptationLoss(formulation='paper', p=p)(fs, ft),
                                   naive.knowledge_adaptation(fs, ft, p), rtol=1e-5, atol=1e-7)
        torch.testing.assert_close(KnowledgeAdaptationLoss(p=p)(fs, ft),
                                   naive.knowledge_adaptation_torchdistill(fs, ft, p),
                                   rtol=1e-5, atol=1e-7)
    for form in ('paper', 'torchdistill'):
        with pytest.raises(ValueError, match=r'out_channel=' + str(ft.shape[1])):
            KnowledgeAdaptationLoss(formulation=form)(torch.randn(2, 3, 3, 4), ft[:2])
    with pytest.raises(ValueError, match='formulation'):
        KnowledgeAdaptationLoss(formulation='map')


def test_the_two_ka_forms_differ_by_orders_of_magnitude():
    """The reason a weight of one form does not carry to the other (docs/methods.md)."""
    fs, ft = torch.randn(2, 64, 16, 32), torch.randn(2, 64, 16, 32)
    paper = KnowledgeAdaptationLoss(formulation='paper')(fs, ft)
    torchdistill = KnowledgeAdaptationLoss(formulation='torchdistill')(fs, ft)
    assert paper / torchdistill > 1000


def assert_value_and_student_grad_match(loss_fn, reference, student, teacher):
    """``loss_fn`` and the naive ``reference`` agree in value and in the student's gradient."""
    ours, ref = student.clone().requires_grad_(), student.clone().requires_grad_()
    loss, expected = loss_fn(ours, teacher), reference(ref, teacher)
    torch.testing.assert_close(loss, expected)
    loss.backward()
    expected.backward()
    torch.testing.assert_close(ours.grad, ref.grad)


@pytest.mark.parametrize('shapes', [((2, 5, 4, 6), (2, 5, 4, 6)), ((1, 3, 3, 5), (1, 3, 6, 7))])
def test_torchdistill_affinity_matches_the_outer_products(shapes):
    fs = torch.randn(*shapes[0], dtype=torch.float64)
    ft = torch.randn(*shapes[1], dtype=torch.float64)
    assert_value_and_student_grad_match(AffinityLoss(), naive.affinity_torchdistill, fs, ft)
    with pytest.raises(ValueError, match='out_channel=' + str(ft.shape[1])):
        AffinityLoss()(torch.randn(shapes[0][0], 7, 4, 4), ft.float())


def test_torchdistill_affinity_is_exact_near_equal_maps():
    """The naive |x|^4 + |y|^4 - 2 (x.y)^2 cancels to noise here; the loss must not."""
    ft = torch.randn(2, 4, 6, 6, dtype=torch.float64)
    fs = ft + 1e-4 * torch.randn_like(ft)
    expected = naive.affinity_torchdistill(fs, ft)
    got = AffinityLoss()(fs.float(), ft.float())
    assert expected > 0
    torch.testing.assert_close(got.double(), expected, rtol=1e-3, atol=0)


@pytest.mark.parametrize('shapes', [((2, 6, 8, 8), (2, 6, 8, 8)), ((2, 5, 9, 7), (2, 11, 9, 7)),
                                    ((1, 4, 5, 6), (1, 3, 10, 13))])
def test_pairwise_similarity_matches_the_official_computation(shapes):
    fs = torch.randn(*shapes[0], dtype=torch.float64, requires_grad=True)
    ft = torch.randn(*shapes[1], dtype=torch.float64)
    # gradients too: the channel norm is detached in both
    assert_value_and_student_grad_match(PairwiseSimilarityLoss(), naive.pairwise_similarity_skd,
                                        fs.detach(), ft)
    torch.testing.assert_close(PairwiseSimilarityLoss(pool_scale=0.25)(fs, ft),
                               naive.pairwise_similarity_skd(fs, ft, 0.25))


def test_pairwise_similarity_gradient_differs_from_a_normalisation_with_gradient():
    """The detached norm is part of the official term: a full cosine gives other gradients."""
    fs = torch.randn(1, 4, 6, 6, dtype=torch.float64, requires_grad=True)
    ft = torch.randn(1, 4, 6, 6, dtype=torch.float64)
    PairwiseSimilarityLoss()(fs, ft).backward()
    other = fs.detach().clone().requires_grad_()
    pool = torch.nn.functional.max_pool2d
    unit = lambda f: torch.nn.functional.normalize(pool(f, 3, 3, ceil_mode=True), dim=1)  # noqa
    sim = lambda f: unit(f).flatten(2).transpose(1, 2) @ unit(f).flatten(2)  # noqa
    ((sim(ft) - sim(other))**2).sum().div(16).backward()
    assert not torch.allclose(fs.grad, other.grad)


def test_pairwise_similarity_refuses_a_map_smaller_than_its_pooling():
    with pytest.raises(ValueError, match='too small'):
        PairwiseSimilarityLoss()(torch.randn(1, 3, 1, 4), torch.randn(1, 3, 1, 4))
    with pytest.raises(ValueError, match='pool_scale'):
        PairwiseSimilarityLoss(pool_scale=0)


@pytest.mark.parametrize('code_reduction', ['batch_sum', 'image_mean'])
def test_autoencoder_reconstruction_matches_formula(code_reduction):
    target, recon, code = torch.randn(2, 8, 4, 4), torch.randn(2, 8, 4, 4), torch.randn(2, 4, 4, 4)
    loss = AutoEncoderReconstructionLoss(alpha=1e-2, code_reduction=code_reduction)(
        (code, recon), target)
    torch.testing.assert_close(
        loss, naive.autoencoder_reconstruction(recon, target, code, 1e-2, code_reduction))
    with pytest.raises(ValueError, match='in_channels=8'):
        AutoEncoderReconstructionLoss()((code, recon[:, :5]), target)


ALL_PAIRS = {
    'PixelwiseKDLoss': lambda: (torch.randn(2, 5, 6, 6) * 3, ),
    'WeightedSoftImitationLoss': lambda: (torch.randn(2, 5, 6, 6) * 3, ),
    'CategorySimilarityLoss': lambda: (torch.randn(2, 5, 6, 6) * 3, ),
    'InterClassSimilarityLoss': lambda: (torch.randn(2, 5, 6, 6) * 3, ),
    'InterClassSimilarityLoss/official': lambda: (torch.randn(2, 5, 6, 6) * 3, ),
    'PixelwiseKDLoss/class-mean': lambda: (torch.randn(2, 5, 6, 6) * 3, ),
    'PixelFeatureSimilarityLoss': lambda: (torch.randn(2, 8, 5, 5), ),
    'AffinityLoss': lambda: (torch.randn(2, 8, 5, 5), ),
    'AffinityLoss/paper': lambda: (torch.randn(2, 8, 5, 5), ),
    'KnowledgeAdaptationLoss': lambda: (torch.randn(2, 8, 5, 5), ),
    'KnowledgeAdaptationLoss/paper': lambda: (torch.randn(2, 8, 5, 5), ),
    'PairwiseSimilarityLoss': lambda: (torch.randn(2, 8, 6, 5), ),
    'PixelSimilarityLoss': lambda: ([torch.randn(2, 4, 6, 6), torch.randn(2, 8, 6, 6),
                                     torch.randn(2, 8, 3, 3)], ),
}


def _clone_with_grad(x):
    if isinstance(x, list):
        return [_clone_with_grad(v) for v in x]
    return x.clone().requires_grad_(True)


def _grads(x):
    return [v.grad for v in x] if isinstance(x, list) else [x.grad]


@pytest.mark.parametrize('name', sorted(ALL_PAIRS))
def test_student_equal_to_teacher_gives_exactly_zero_and_finite_grads(name):
    (x, ) = ALL_PAIRS[name]()
    student = _clone_with_grad(x)
    loss = build(name)(student, x)
    assert loss.item() == 0.0
    loss.backward()
    for grad in _grads(student):
        assert grad is not None and torch.isfinite(grad).all()
        assert grad.abs().max().item() < 1e-6


@pytest.mark.parametrize('name', sorted(FEATURE_LOSSES))
@pytest.mark.parametrize('algorithm', ['gram', 'tiled'])
def test_near_equal_features_are_accurate(name, algorithm):
    """Neither the Gram identity (float64) nor the float32 tiles may lose a tiny loss to
    cancellation."""
    ft = torch.randn(2, 16, 12, 12, dtype=torch.float64)
    fs = ft + 1e-3 * torch.randn_like(ft)
    _, reference = FEATURE_LOSSES[name]
    expected = reference(fs, ft)
    got = build(name, algorithm=algorithm)(fs.float(), ft.float())
    assert expected > 0
    torch.testing.assert_close(got.double(), expected, rtol=2e-2, atol=0)


@pytest.mark.parametrize('name', sorted(ALL_PAIRS))
@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_half_precision_inputs_are_computed_in_float32(name, dtype):
    (xs, ) = ALL_PAIRS[name]()
    (xt, ) = ALL_PAIRS[name]()
    to = (lambda v: [t.to(dtype) for t in v]) if isinstance(xs, list) else \
        (lambda v: v.to(dtype))
    loss = build(name)(to(xs), to(xt))
    back = (lambda v: [t.float() for t in v]) if isinstance(xs, list) else (lambda v: v.float())
    expected = build(name)(back(to(xs)), back(to(xt)))
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('name', sorted(ALL_PAIRS))
def test_bf16_autocast_gives_finite_float32_loss_and_grads(name):
    (xs, ) = ALL_PAIRS[name]()
    (xt, ) = ALL_PAIRS[name]()
    student = _clone_with_grad(xs)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = build(name)(student, xt)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    torch.testing.assert_close(loss, build(name)(xs, xt), rtol=1e-5, atol=1e-7)
    loss.backward()
    assert all(torch.isfinite(g).all() for g in _grads(student))


# The official pair-wise term divides by a detached norm on purpose: finite differences would
# see the norm move, so its gradient is checked against the naive reference instead.
@pytest.mark.parametrize('name', sorted(set(ALL_PAIRS) - {'PairwiseSimilarityLoss'}))
def test_gradcheck_float64(name):
    (xs, ) = ALL_PAIRS[name]()
    (xt, ) = ALL_PAIRS[name]()
    small = (lambda v: [t[:1, :, :3, :3].double() for t in v]) if isinstance(xs, list) else \
        (lambda v: v[:1, :, :3, :3].double())
    xs, xt = small(xs), small(xt)
    # WSI's weights are a stop-gradient: finite differences would move them too, so its
    # gradient is checked with uniform weights here and against the naive one below.
    options = {'CategorySimilarityLoss': {'pool_size': None},
               'WeightedSoftImitationLoss': {'weighting': 'uniform'}}
    module = build(name, **options.get(name, {}))
    if isinstance(xs, list):
        assert torch.autograd.gradcheck(lambda *s: module(list(s), xt),
                                        tuple(t.requires_grad_() for t in xs))
    else:
        assert torch.autograd.gradcheck(lambda s: module(s, xt), (xs.requires_grad_(), ))


def test_ignored_pixels_match_naive_and_all_ignored_is_zero():
    zs, zt = torch.randn(2, 4, 6, 6) * 2, torch.randn(2, 4, 6, 6) * 2
    gt = torch.randint(0, 4, (2, 6, 6))
    gt[0, :3] = 255
    gt[1, :, 4:] = 255
    valid = gt != 255
    torch.testing.assert_close(PixelwiseKDLoss()(zs, zt, gt),
                               torch.as_tensor(float(naive.pixel_kd(zs, zt, 1.0, valid))))
    torch.testing.assert_close(
        InterClassSimilarityLoss()(zs, zt, gt),
        torch.as_tensor(naive.inter_class_similarity(zs, zt, 1.0, True, valid),
                        dtype=torch.float32),
        rtol=1e-4, atol=1e-7)
    all_ignored = torch.full_like(gt, 255)
    for name in ('PixelwiseKDLoss', 'WeightedSoftImitationLoss', 'CategorySimilarityLoss',
                 'InterClassSimilarityLoss'):
        student = zs.clone().requires_grad_()
        loss = build(name)(student, zt, all_ignored)
        assert loss.item() == 0.0, name
        loss.backward()
        assert torch.isfinite(student.grad).all(), name


def test_ignore_mask_is_resized_to_the_logits():
    zs, zt = torch.randn(1, 3, 4, 4), torch.randn(1, 3, 4, 4)
    gt = torch.zeros(1, 16, 16, dtype=torch.long)
    gt[:, :8] = 255  # top half ignored -> top two logit rows ignored
    valid = torch.zeros(1, 4, 4, dtype=torch.bool)
    valid[:, 2:] = True
    torch.testing.assert_close(PixelwiseKDLoss()(zs, zt, gt),
                               torch.as_tensor(float(naive.pixel_kd(zs, zt, 1.0, valid))))


@pytest.mark.parametrize('name', sorted(LOGIT_LOSSES))
def test_absent_classes_and_huge_logits_stay_finite(name):
    zt = torch.randn(2, 5, 6, 6) * 1e4
    zt[:, 2] = -1e4  # a class absent from every pixel
    student = (torch.randn(2, 5, 6, 6) * 1e4).requires_grad_()
    loss = build(name)(student, zt)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(student.grad).all()


@pytest.mark.parametrize('name', ['PixelFeatureSimilarityLoss', 'AffinityLoss',
                                  'AffinityLoss/paper',
                                  'KnowledgeAdaptationLoss', 'KnowledgeAdaptationLoss/paper',
                                  'PairwiseSimilarityLoss', 'PixelSimilarityLoss'])
def test_constant_and_zero_features_stay_finite(name):
    if name == 'PixelSimilarityLoss':
        student = [torch.zeros(2, 4, 5, 5, requires_grad=True),
                   torch.ones(2, 4, 5, 5, requires_grad=True)]
        teacher = [torch.ones(2, 4, 5, 5), torch.ones(2, 4, 5, 5)]
    else:
        student = [torch.zeros(2, 4, 5, 5, requires_grad=True)]
        teacher = [torch.ones(2, 4, 5, 5)]
    args = (student, teacher) if name == 'PixelSimilarityLoss' else (student[0], teacher[0])
    loss = build(name)(*args)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(s.grad).all() for s in student)


@pytest.mark.parametrize('name', sorted(LOGIT_LOSSES))
def test_class_count_mismatch_names_both_shapes(name):
    with pytest.raises(ValueError, match=r'\(2, 5, 4, 4\).*\(2, 6, 4, 4\)'):
        build(name)(torch.randn(2, 5, 4, 4), torch.randn(2, 6, 4, 4))


def test_loss_weight_scales_and_teacher_gets_no_gradient():
    zs = torch.randn(1, 3, 4, 4, requires_grad=True)
    zt = torch.randn(1, 3, 4, 4, requires_grad=True)
    base = PixelwiseKDLoss()(zs, zt)
    torch.testing.assert_close(PixelwiseKDLoss(loss_weight=3.0)(zs, zt), 3 * base)
    base.backward()
    assert zs.grad is not None and zt.grad is None


def test_align_to_student_resizes_the_teacher():
    zs, zt = torch.randn(1, 3, 4, 4), torch.randn(1, 3, 8, 8)
    resized = torch.nn.functional.interpolate(zt, size=(4, 4), mode='bilinear',
                                              align_corners=False)
    torch.testing.assert_close(PixelwiseKDLoss(align_to='student')(zs, zt),
                               PixelwiseKDLoss()(zs, resized))


def test_weighted_imitation_gradient_treats_weights_as_constants():
    zs, zt = torch.randn(2, 4, 3, 3, dtype=torch.float64), torch.randn(2, 4, 3, 3,
                                                                       dtype=torch.float64)
    a, b = zs.clone().requires_grad_(), zs.clone().requires_grad_()
    WeightedSoftImitationLoss(tau=2.0)(a, zt).backward()
    naive.weighted_soft_imitation(b, zt, tau=2.0).backward()
    torch.testing.assert_close(a.grad, b.grad)


@pytest.mark.parametrize('precision', ['float64', 'float32'])
def test_gram_helpers_gradcheck_for_student_and_teacher(precision):
    from mmseg_distill.models.utils import (cosine_affinity_row_distance, cosine_affinity_sq_error,
                                            gram_dtype)
    s = torch.randn(2, 7, 3, dtype=torch.float64, requires_grad=True)
    t = torch.randn(2, 7, 5, dtype=torch.float64, requires_grad=True)
    if precision == 'float64':
        # chunk 3: rows formed again in the backward pass; chunk 7 (one chunk for all 7 rows):
        # the forward pass's normalised rows and D S are kept for it
        for fn in (cosine_affinity_sq_error, cosine_affinity_row_distance):
            for chunk in (3, 7):
                assert torch.autograd.gradcheck(
                    lambda x, y: fn(x, y, chunk, torch.float64), (s, t))
    else:  # float32 Gram algebra: same values, lower precision
        torch.testing.assert_close(cosine_affinity_sq_error(s, t, 3, gram_dtype(precision)),
                                   cosine_affinity_sq_error(s, t, 3).float())


def test_official_icsd_matches_the_loop_for_any_class_count_and_is_not_the_paper_form():
    for classes in (2, 21, 23):
        zs, zt = torch.randn(3, classes, 5, 4) * 2, torch.randn(3, classes, 5, 4) * 2
        official = build('InterClassSimilarityLoss/official')(zs, zt)
        torch.testing.assert_close(official, naive.inter_class_similarity_official(zs, zt),
                                   rtol=1e-4, atol=1e-8)
        assert not torch.allclose(official, build('InterClassSimilarityLoss')(zs, zt))


def test_official_icsd_pools_the_batch_into_one_matrix():
    """Not a per-image mean: the loss of a batch differs from the mean of its images' losses."""
    zs, zt = torch.randn(2, 4, 6, 6) * 2, torch.randn(2, 4, 6, 6) * 2
    loss = build('InterClassSimilarityLoss/official')
    halves = [loss(zs[i:i + 1], zt[i:i + 1]) for i in range(2)]
    assert not torch.allclose(loss(zs, zt), (halves[0] + halves[1]) / 2)


def test_official_icsd_refuses_an_ignore_mask_and_row_normalisation_off():
    zs, zt = torch.randn(2, 4, 6, 6), torch.randn(2, 4, 6, 6)
    with pytest.raises(ValueError, match="formulation='paper'"):
        build('InterClassSimilarityLoss/official')(zs, zt, torch.zeros(2, 6, 6))
    with pytest.raises(ValueError, match='normalize_rows'):
        build('InterClassSimilarityLoss/official', normalize_rows=False)
    with pytest.raises(ValueError, match='formulation'):
        build('InterClassSimilarityLoss', formulation='offical')


def test_class_mean_pixel_kd_is_the_summed_kl_divided_by_the_class_count():
    zs, zt = torch.randn(2, 19, 4, 4), torch.randn(2, 19, 4, 4)
    torch.testing.assert_close(build('PixelwiseKDLoss/class-mean')(zs, zt),
                               build('PixelwiseKDLoss')(zs, zt) / 19)
    with pytest.raises(ValueError, match='class_reduction'):
        build('PixelwiseKDLoss', class_reduction='none')


def test_tiled_helpers_gradcheck_for_student_and_teacher():
    from mmseg_distill.models.utils.tiled_similarity import (tiled_affinity_row_distance,
                                                             tiled_affinity_sq_error)
    s = torch.nn.functional.normalize(torch.randn(2, 7, 3, dtype=torch.float64), dim=-1)
    t = torch.nn.functional.normalize(torch.randn(2, 7, 5, dtype=torch.float64), dim=-1)
    for fn in (tiled_affinity_sq_error, tiled_affinity_row_distance):
        assert torch.autograd.gradcheck(lambda x, y: fn(x, y, 3),
                                        (s.requires_grad_(), t.requires_grad_()))


def test_cost_model_picks_tiles_for_few_positions_and_gram_for_many():
    from mmseg_distill.models.utils import pairwise_algorithm
    cpu = torch.device('cpu')
    # KA at 16x32 positions, 256 code channels: P^2 (C+C) < 2 * P (3 C^2)
    assert pairwise_algorithm(512, 256, 256, torch.float64, cpu) == 'tiled'
    # Cityscapes scale, 64x128 positions, 128/512 channels: the Gram algebra is far cheaper
    assert pairwise_algorithm(8192, 128, 512, torch.float64, cpu) == 'gram'
    # float32 Gram algebra is cheaper than float64's: the crossover moves
    assert pairwise_algorithm(640, 256, 256, torch.float64, cpu) == 'tiled'
    assert pairwise_algorithm(640, 256, 256, torch.float32, cpu) == 'gram'
    with pytest.raises(ValueError, match='algorithm'):
        build('AffinityLoss/paper', algorithm='naive')

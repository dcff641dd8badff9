"""Every loss on an accelerator equals the CPU float64 evaluation, in float32 and under AMP.

Marked ``cuda``: skipped unless a GPU is present. ``tools/gpu_check.py --device cpu`` runs the
same tests with the CPU standing in for the device (``MMSEG_DISTILL_TEST_DEVICE=cpu``) and
without the Cityscapes-scale shapes (``MMSEG_DISTILL_TEST_SIZES=small``), so the GPU run is
not the first run of this file.
"""
import os
import zlib

import pytest
import torch
from mmrazor.registry import MODELS

import mmseg_distill  # noqa: F401

DEVICE = os.environ.get('MMSEG_DISTILL_TEST_DEVICE', 'cuda')
SMALL = os.environ.get('MMSEG_DISTILL_TEST_SIZES') == 'small'
pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(DEVICE == 'cuda' and not torch.cuda.is_available(),
                       reason='needs a CUDA GPU (MMSEG_DISTILL_TEST_DEVICE=cpu to run on CPU)'),
]

# (type, options, kind); kind picks the inputs below
LOSSES = [
    ('PixelwiseKDLoss', {}, 'logits'),
    ('PixelwiseKDLoss', {'class_reduction': 'mean'}, 'logits'),
    ('WeightedSoftImitationLoss', {}, 'logits'),
    ('CategorySimilarityLoss', {}, 'logits'),
    ('CategorySimilarityLoss', {'normalize_rows': False}, 'logits'),
    ('InterClassSimilarityLoss', {}, 'logits'),
    ('InterClassSimilarityLoss', {'formulation': 'official'}, 'logits'),
    ('PixelFeatureSimilarityLoss', {'algorithm': 'gram'}, 'feat'),
    ('PixelFeatureSimilarityLoss', {'algorithm': 'tiled'}, 'feat'),
    ('PixelFeatureSimilarityLoss', {'algorithm': 'gram', 'gram_precision': 'float32'}, 'feat'),
    ('PixelFeatureSimilarityLoss', {'mode': 'softmax_kl'}, 'feat'),
    ('AffinityLoss', {'formulation': 'paper', 'algorithm': 'gram'}, 'feat'),
    ('AffinityLoss', {'formulation': 'paper', 'algorithm': 'tiled'}, 'feat'),
    ('AffinityLoss', {'formulation': 'torchdistill'}, 'code'),
    ('KnowledgeAdaptationLoss', {'formulation': 'paper'}, 'code'),
    ('KnowledgeAdaptationLoss', {'formulation': 'torchdistill'}, 'code'),
    ('PairwiseSimilarityLoss', {}, 'feat'),
    ('PixelSimilarityLoss', {'pairs': 'all'}, 'stages'),
]
# (N, H, W): a tiny map, an odd one, and Cityscapes' 64x128 positions at stride 8
SIZES = [(2, 6, 5), (2, 15, 17)] + ([] if SMALL else [(2, 64, 128)])
MODES = ['float32', 'autocast_fp16', 'autocast_bf16', 'half_inputs']
# float32 similarity losses at P = 8192 sum millions of terms: a few 1e-5 relative
TOLERANCE = {'float32': 2e-4, 'autocast_fp16': 2e-4, 'autocast_bf16': 2e-4,
             'half_inputs': 2e-4}
AMP_SCALE = 2.0**16  # torch GradScaler's initial scale
LOOSE = {('PixelFeatureSimilarityLoss', 'float32')}  # float32 Gram algebra: inexact by design


def make_inputs(kind, size, generator):
    n, h, w = size
    if kind == 'logits':
        return (3 * torch.randn(n, 7, h, w, generator=generator),
                3 * torch.randn(n, 7, h, w, generator=generator))
    if kind == 'feat':
        return (torch.randn(n, 24, h, w, generator=generator),
                torch.randn(n, 40, h, w, generator=generator).relu())
    if kind == 'code':
        return (torch.randn(n, 16, h, w, generator=generator),
                torch.randn(n, 16, h, w, generator=generator))
    return ([torch.randn(n, c, h, w, generator=generator) for c in (7, 24, 7)],
            [torch.randn(n, c, h, w, generator=generator) for c in (7, 40, 7)])


def apply(value, fn):
    return [fn(v) for v in value] if isinstance(value, list) else fn(value)


def leaves(value):
    return value if isinstance(value, list) else [value]


def evaluate(loss_type, options, student, teacher, device, mode='float32'):
    loss_fn = MODELS.build(dict(type=loss_type, **options)).to(device)
    student = apply(student, lambda v: v.detach().to(device).requires_grad_())
    teacher = apply(teacher, lambda v: v.to(device))
    if mode.startswith('autocast'):
        dtype = torch.float16 if mode == 'autocast_fp16' else torch.bfloat16
        with torch.autocast(torch.device(device).type, dtype=dtype):
            value = loss_fn(student, teacher)
    else:
        value = loss_fn(student, teacher)
    # half-precision leaves get half-precision gradients: scaled as AMP's GradScaler scales
    # them, or small gradients would vanish below fp16's subnormal range
    scale = AMP_SCALE if mode == 'half_inputs' else 1.0
    (value * scale).backward()
    return value.detach().cpu(), [s.grad.cpu().double() / scale for s in leaves(student)]


@pytest.mark.parametrize('size', SIZES, ids=lambda s: 'x'.join(map(str, s)))
@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('loss_type, options, kind', LOSSES,
                         ids=[f'{t}{o or ""}' for t, o, _ in LOSSES])
def test_device_value_and_gradients_equal_the_cpu_float64_reference(loss_type, options, kind,
                                                                    mode, size):
    generator = torch.Generator().manual_seed(zlib.crc32(f'{loss_type}{options}{size}'.encode()))
    student, teacher = make_inputs(kind, size, generator)
    if mode == 'half_inputs':  # what an AMP network hands the loss: fp16 records
        student = apply(student, lambda v: v.half())
        teacher = apply(teacher, lambda v: v.half())
    reference = evaluate(loss_type, options, apply(student, lambda v: v.double()),
                         apply(teacher, lambda v: v.double()), 'cpu')
    value, grads = evaluate(loss_type, options, student, teacher, DEVICE, mode)
    assert value.dtype == torch.float32 and torch.isfinite(value)
    rtol = 2e-2 if (loss_type, options.get('gram_precision')) in LOOSE else TOLERANCE[mode]
    torch.testing.assert_close(value.double(), reference[0], rtol=rtol, atol=1e-9)
    for grad, expected in zip(grads, reference[1]):
        scale = expected.abs().max().clamp_min(1e-30)
        assert grad.shape == expected.shape
        assert ((grad.double() - expected).abs().max() / scale).item() < max(10 * rtol, 1e-3)

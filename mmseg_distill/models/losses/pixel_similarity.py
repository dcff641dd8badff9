from itertools import combinations
from typing import Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmrazor.registry import MODELS

from ..utils import check_choice, float32_compute, l2_normalize, resize_like

PAIRINGS = ('adjacent', 'all')
ATTENTION_SIZES = ('largest', 'smallest')


def _as_sequence(feats, name):
    if isinstance(feats, torch.Tensor):
        raise TypeError(
            f'{name} must be a sequence of >= 2 feature maps (shallow to deep), got one tensor '
            f'{tuple(feats.shape)}. Record a module that returns a tuple (e.g. the backbone '
            "without data_idx) or map the argument to a list of recorders.")
    feats = list(feats)
    if len(feats) < 2:
        raise ValueError(f'{name} needs >= 2 feature maps to form residuals, got {len(feats)}')
    for index, feat in enumerate(feats):
        if not isinstance(feat, torch.Tensor) or feat.dim() != 4:
            shape = tuple(feat.shape) if isinstance(feat, torch.Tensor) else type(feat).__name__
            raise ValueError(f'{name}[{index}] must be an (N, C, H, W) map, got {shape}')
    return feats


def attention_target_size(feats_T: Sequence[torch.Tensor],
                          attention_size: Union[str, Tuple[int, int]] = 'largest'
                          ) -> Tuple[int, int]:
    """The size every attention map is resized to: the largest / smallest teacher map's, or
    an explicit (H, W)."""
    if not isinstance(attention_size, str):
        return tuple(attention_size)
    sizes = [tuple(f.shape[-2:]) for f in feats_T]
    pick = max if attention_size == 'largest' else min
    return pick(sizes, key=lambda hw: hw[0] * hw[1])


def attention_map(feat: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """a = mean over channels of F^2 at ``size``, normalised over the positions: (N, P)."""
    return l2_normalize(resize_like(feat.square().mean(1, keepdim=True), size).flatten(1), dim=1)


def attention_residuals(feats: Sequence[torch.Tensor], size: Tuple[int, int],
                        pairs: str = 'adjacent') -> list:
    """normalise(a_m - a_l) for the layer pairs, a = the attention map of a layer."""
    maps = [attention_map(f, size) for f in feats]
    if pairs == 'adjacent':
        index_pairs = list(zip(range(len(maps) - 1), range(1, len(maps))))
    else:
        index_pairs = list(combinations(range(len(maps)), 2))
    return [l2_normalize(maps[later] - maps[earlier], dim=1) for earlier, later in index_pairs]


@float32_compute
def pixel_similarity(feats_S: Sequence[torch.Tensor], feats_T: Sequence[torch.Tensor],
                     pairs: str = 'adjacent',
                     attention_size: Union[str, Tuple[int, int]] = 'largest',
                     owner: str = 'PixelSimilarityLoss') -> torch.Tensor:
    """``PixelSimilarityLoss`` as a function (unweighted)."""
    feats_S = _as_sequence(feats_S, 'feats_S')
    feats_T = [f.detach() for f in _as_sequence(feats_T, 'feats_T')]
    if len(feats_S) != len(feats_T):
        raise ValueError(
            f'{owner} pairs layers one to one, but got {len(feats_S)} student maps '
            f'{[tuple(f.shape) for f in feats_S]} and {len(feats_T)} teacher maps '
            f'{[tuple(f.shape) for f in feats_T]}; record the same number of layers.')
    size = attention_target_size(feats_T, attention_size)
    losses = [(r_s - r_t).square().mean()
              for r_s, r_t in zip(attention_residuals(feats_S, size, pairs),
                                  attention_residuals(feats_T, size, pairs))]
    return torch.stack(losses).mean()


@MODELS.register_module()
class PixelSimilarityLoss(nn.Module):
    """DSD's pixel-wise similarity distillation (PSD) via residual attention maps.

    Feng et al., "Double Similarity Distillation for Semantic Image Segmentation", IEEE TIP 2021
    (arXiv:2107.08591). For each layer l a spatial attention map (attention transfer, p=2), and
    for consecutive layers the normalised residual between them:

    .. math::
        a_l = N_P\\big(\\tfrac{1}{C_l}\\sum_c F_{l,c}^2\\big),\\quad
        r_{l,m} = N_P(a_m - a_l),\\quad
        L = \\mathrm{mean}_{(l,m)}\\ \\mathrm{mean}_{n,x}\\big(r^S_{l,m} - r^T_{l,m}\\big)^2

    with N_P the L2 normalisation over the P positions of an image. Only spatial maps are
    compared, so channel counts may differ between student and teacher and between layers;
    cost O(L N P), no P x P matrix.

    Defaults and sources: pairs of adjacent layers (paper note; ``pairs='all'`` gives CIRKD's
    every l < m). Maps of different size are resized (bilinear, before normalisation) to the
    largest teacher map (``attention_size='largest'``, the project's choice; 'smallest' or an
    explicit (H, W) also work). The CIRKD recipe records three stride-8 maps of DeepLabV3 (aux
    logits, the classifier's input feature, final logits) over every pair with weight 1000
    (``dsd_cirkd.py``); the weight is set in the config.
    """

    def __init__(self, pairs: str = 'adjacent',
                 attention_size: Union[str, Tuple[int, int]] = 'largest',
                 loss_weight: float = 1.0):
        super().__init__()
        check_choice('pairs', pairs, PAIRINGS)
        if isinstance(attention_size, str) and attention_size not in ATTENTION_SIZES:
            raise ValueError(f'attention_size must be one of {ATTENTION_SIZES} or (H, W), '
                             f'got {attention_size!r}')
        self.pairs = pairs
        self.attention_size = attention_size
        self.loss_weight = loss_weight

    @float32_compute
    def forward(self, feats_S: Sequence[torch.Tensor],
                feats_T: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.loss_weight * pixel_similarity(feats_S, feats_T, self.pairs,
                                                   self.attention_size, type(self).__name__)

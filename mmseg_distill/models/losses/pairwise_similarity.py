from typing import Tuple

import torch
import torch.nn as nn
from mmrazor.registry import MODELS

from ..utils import (align_spatial, check_feature_maps, float32_compute, max_pool_by_scale,
                     position_cosine_matrix_detached_norm)


def pooling_kernel(feat_T: torch.Tensor, pool_scale: float, owner: str) -> Tuple[int, int]:
    """The max-pooling kernel (= stride) of the pair-wise term: int(scale * H), int(scale * W)."""
    height, width = feat_T.shape[-2:]
    kernel = (int(height * pool_scale), int(width * pool_scale))
    if min(kernel) < 1:
        raise ValueError(
            f'{owner}: the teacher map {tuple(feat_T.shape)} is too small for '
            f'pool_scale={pool_scale} (pooling kernel {kernel}); record a map with at least '
            f'{int(1 / pool_scale + 0.999)} positions per side or raise pool_scale.')
    return kernel


@float32_compute
def pairwise_similarity(feat_S: torch.Tensor, feat_T: torch.Tensor, pool_scale: float = 0.5,
                        align_to: str = 'teacher',
                        owner: str = 'PairwiseSimilarityLoss') -> torch.Tensor:
    """``PairwiseSimilarityLoss`` as a function (unweighted)."""
    check_feature_maps(feat_S, feat_T, owner)
    feat_S, feat_T = align_spatial(feat_S, feat_T.detach(), align_to)
    kernel = pooling_kernel(feat_T, pool_scale, owner)
    sim_S = position_cosine_matrix_detached_norm(max_pool_by_scale(feat_S, kernel))
    sim_T = position_cosine_matrix_detached_norm(max_pool_by_scale(feat_T, kernel))
    positions = sim_T.shape[-1]
    return (sim_T - sim_S).square().sum() / positions**2 / feat_T.shape[0]


@MODELS.register_module()
class PairwiseSimilarityLoss(nn.Module):
    """SKD's pair-wise similarity distillation on max-pooled feature maps.

    Liu et al., "Structured Knowledge Distillation for Semantic Segmentation", CVPR 2019; here
    exactly as the official AICSD code computes it (AmirMansurian/AICSD, distiller.py:
    ``sim_dis_compute`` on ``maxpool(feat)``, switched on by ``--pa_lambda``, 9500 in its
    README command), on the ASPP output before its ReLU:

    1. both maps are max-pooled with kernel = stride = (int(s H), int(s W)), ceil mode
       (``pool_scale`` s = 0.5: the map becomes 2 x 2 patches, 3 x 3 for odd sizes), H x W the
       teacher map's size;
    2. each pooled position is divided by its channel L2 norm + 1e-8, the norm detached;
    3. A = the (h w) x (h w) matrix of inner products of the pooled positions, and

    .. math::
        L = \\frac{1}{N}\\sum_n \\sum_{i,j} \\frac{(A^T_{n,ij} - A^S_{n,ij})^2}{(h w)^2}

    with h x w the pooled size. Channel counts may differ (only the h w x h w matrices are
    compared). Project choices: the student map is resized (bilinear) to the teacher's size
    first (the official code records both at the same stride); teacher detached; a map smaller
    than 1 / ``pool_scale`` positions on a side is an error (its kernel would be empty).
    """

    def __init__(self, pool_scale: float = 0.5, loss_weight: float = 1.0,
                 align_to: str = 'teacher'):
        super().__init__()
        if not 0 < pool_scale <= 1:
            raise ValueError(f'pool_scale must be in (0, 1], got {pool_scale}')
        self.pool_scale = pool_scale
        self.loss_weight = loss_weight
        self.align_to = align_to

    @float32_compute
    def forward(self, feat_S: torch.Tensor, feat_T: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * pairwise_similarity(feat_S, feat_T, self.pool_scale,
                                                      self.align_to, type(self).__name__)

from typing import Optional

import torch
import torch.nn as nn
from mmrazor.registry import MODELS

from ..utils import (affinity_sq_error, align_spatial, check_algorithm, check_choice,
                     check_feature_maps, chunked_row_softmax_kl, float32_compute, gram_dtype,
                     l2_normalize, positions_as_rows)

MODES = ('cosine_mse', 'softmax_kl')
SOFTMAX_CHUNK = 1024  # rows of similarities per chunk in softmax_kl mode (chunk x P values)


@float32_compute
def pixel_feature_similarity(feat_S: torch.Tensor, feat_T: torch.Tensor,
                             mode: str = 'cosine_mse', tau: float = 1.0,
                             align_to: str = 'teacher', chunk_size: Optional[int] = None,
                             gram_precision: str = 'float64', algorithm: str = 'auto',
                             owner: str = 'PixelFeatureSimilarityLoss') -> torch.Tensor:
    """``PixelFeatureSimilarityLoss`` as a function (unweighted)."""
    check_feature_maps(feat_S, feat_T, owner)
    feat_S, feat_T = align_spatial(feat_S, feat_T.detach(), align_to)
    rows_S, rows_T = positions_as_rows(feat_S), positions_as_rows(feat_T)
    num_pos = rows_S.shape[1]
    if mode == 'cosine_mse':
        sq_error = affinity_sq_error(rows_S, rows_T, algorithm, chunk_size,
                                     gram_dtype(gram_precision))
        return (sq_error.sum() / (sq_error.numel() * num_pos * num_pos)).to(feat_S.dtype)
    kl = chunked_row_softmax_kl(l2_normalize(rows_S, dim=-1), l2_normalize(rows_T, dim=-1), tau,
                                chunk_size or SOFTMAX_CHUNK)
    return tau**2 * kl.mean()


@MODELS.register_module()
class PixelFeatureSimilarityLoss(nn.Module):
    """PFS: distil the similarity of every position to every other position.

    Shan et al., "Distilling Pixel-Wise Feature Similarities for Semantic Segmentation",
    arXiv:1910.14226. No code of the paper exists; the form is the project's:

    ``mode='cosine_mse'`` (default): positions L2-normalised over channels, S (P x C_S) and
    T (P x C_T) per image,

    .. math::
        A = S S^\\top,\\quad L = \\frac{1}{N P^2}\\sum_n \\sum_{ij} (A^S_{ij} - A^T_{ij})^2

    evaluated exactly without a P x P tensor in the forward or backward pass, and C_S may
    differ from C_T, by one of two algorithms (``algorithm``):
    'gram': through C x C Gram matrices in ``gram_precision`` (``models/utils/similarity.py``),
    O(P C^2); 'tiled': blocks of rows of A_S - A_T formed directly in float32 and formed again
    in the backward pass (``models/utils/tiled_similarity.py``), O(P^2 C), no float64;
    'auto' (default): the cheaper of the two by the cost model ``pairwise_algorithm``
    (``models/utils/similarity_dispatch.py``: positions vs channels, and float64 speed of the
    device).

    ``mode='softmax_kl'``: each row of A/tau becomes a distribution over positions and
    :math:`L = \\tau^2\\,\\mathrm{mean}_{n,i}\\
    \\mathrm{KL}(\\sigma(A^T_i/\\tau)\\|\\sigma(A^S_i/\\tau))`, evaluated ``chunk_size`` (default
    1024) rows at a time with recomputation in backward (bounded memory). In 'cosine_mse' mode
    ``chunk_size`` (rows per chunk of the Gram algebra or per tile) defaults to a size that keeps
    each chunk at 2**20 values whatever the batch and width.

    Project choices: student resized (bilinear) to the teacher's size; teacher detached;
    ``gram_precision='float64'`` for the Gram algebra (exact near student == teacher; 'float32'
    is faster on GPUs with slow float64).
    """

    def __init__(self, mode: str = 'cosine_mse', tau: float = 1.0, loss_weight: float = 1.0,
                 align_to: str = 'teacher', chunk_size: Optional[int] = None,
                 gram_precision: str = 'float64', algorithm: str = 'auto'):
        super().__init__()
        check_choice('mode', mode, MODES)
        self.mode = mode
        self.tau = tau
        self.loss_weight = loss_weight
        self.align_to = align_to
        self.chunk_size = chunk_size
        self.gram_dtype = gram_dtype(gram_precision)  # checked here, at build time
        self.gram_precision = gram_precision
        self.algorithm = check_algorithm(algorithm)

    @float32_compute
    def forward(self, feat_S: torch.Tensor, feat_T: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * pixel_feature_similarity(
            feat_S, feat_T, self.mode, self.tau, self.align_to, self.chunk_size,
            self.gram_precision, self.algorithm, type(self).__name__)

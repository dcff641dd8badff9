from typing import Optional

import torch
import torch.nn as nn

from mmrazor.registry import MODELS
from ..utils import (affinity_row_distance, align_spatial, check_algorithm, float32_compute,
                     gram_dtype, positions_as_rows)
from .pixel_feature_similarity import check_feature_maps


@MODELS.register_module()
class AffinityLoss(nn.Module):
    """KA's affinity distillation.

    He et al., "Knowledge Adaptation for Efficient Semantic Segmentation", CVPR 2019
    (arXiv:1903.04688). With positions L2-normalised over channels, the affinity of positions
    i, j is their cosine divided by the number of positions P; the loss is the mean L2 distance
    between the rows of the student and teacher affinity matrices:

    .. math::
        A_{ij} = \\frac{\\cos(\\phi_i, \\phi_j)}{P},\\quad
        L = \\frac{1}{N P}\\sum_n \\sum_i \\| A^S_i - A^T_i \\|_2

    The teacher side is the encoded teacher feature E(Phi_T), the student side a second adapter
    C_a(Phi_S) (connectors in the config). Row norms are exact without a P x P tensor, zero
    gradient where a row difference is exactly 0, by ``algorithm`` 'gram' (C x C Gram matrices
    in ``gram_precision``), 'tiled' (float32 blocks of rows formed again in the backward pass)
    or 'auto' (default, the cheaper by ``pairwise_algorithm``'s cost model); see
    PixelFeatureSimilarityLoss.

    Project choices: student resized (bilinear) to the teacher's size (paper: resize to the
    teacher's); teacher detached; ``gram_precision='float64'`` (exact near student == teacher;
    'float32' is faster on GPUs with slow float64, and inexact near student == teacher).
    """

    def __init__(self, loss_weight: float = 1.0, align_to: str = 'teacher',
                 chunk_size: Optional[int] = None,
                 gram_precision: str = 'float64', algorithm: str = 'auto'):
        super().__init__()
        self.loss_weight = loss_weight
        self.align_to = align_to
        self.chunk_size = chunk_size
        self.gram_dtype = gram_dtype(gram_precision)
        self.algorithm = check_algorithm(algorithm)

    @float32_compute
    def forward(self, feat_S: torch.Tensor, feat_T: torch.Tensor) -> torch.Tensor:
        check_feature_maps(feat_S, feat_T, type(self).__name__)
        feat_S, feat_T = align_spatial(feat_S, feat_T.detach(), self.align_to)
        rows_S, rows_T = positions_as_rows(feat_S), positions_as_rows(feat_T)
        row_distance = affinity_row_distance(rows_S, rows_T, self.algorithm, self.chunk_size,
                                             self.gram_dtype)
        loss = row_distance.mean() / rows_S.shape[1]
        return self.loss_weight * loss.to(feat_S.dtype)

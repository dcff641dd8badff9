from typing import Optional

import torch
import torch.nn as nn
from mmrazor.registry import MODELS

from ..utils import (affinity_row_distance, align_spatial, channel_outer_product_distance,
                     check_algorithm, check_choice, check_feature_maps, float32_compute, gram_dtype,
                     positions_as_rows)

FORMULATIONS = ('torchdistill', 'paper')


@float32_compute
def affinity(feat_S: torch.Tensor, feat_T: torch.Tensor, formulation: str = 'torchdistill',
             align_to: str = 'teacher', chunk_size: Optional[int] = None,
             gram_precision: str = 'float64', algorithm: str = 'auto',
             owner: str = 'AffinityLoss') -> torch.Tensor:
    """``AffinityLoss`` as a function (unweighted)."""
    check_feature_maps(feat_S, feat_T, owner)
    feat_S, feat_T = align_spatial(feat_S, feat_T.detach(), align_to)
    if formulation == 'torchdistill':
        if feat_S.shape[1] != feat_T.shape[1]:
            raise ValueError(
                f"{owner}(formulation='torchdistill') compares channel by channel: the student "
                f'record has {feat_S.shape[1]} channels {tuple(feat_S.shape)}, the teacher '
                f'record {feat_T.shape[1]} {tuple(feat_T.shape)}. Map the student through an '
                f'adapter connector with out_channel={feat_T.shape[1]}.')
        distance = channel_outer_product_distance(feat_S.flatten(2), feat_T.flatten(2))
        return distance.sum(1).mean() / feat_T[0, 0].numel()
    rows_S, rows_T = positions_as_rows(feat_S), positions_as_rows(feat_T)
    row_distance = affinity_row_distance(rows_S, rows_T, algorithm, chunk_size,
                                         gram_dtype(gram_precision))
    return (row_distance.mean() / rows_S.shape[1]).to(feat_S.dtype)


@MODELS.register_module()
class AffinityLoss(nn.Module):
    """KA's affinity distillation.

    He et al., "Knowledge Adaptation for Efficient Semantic Segmentation", CVPR 2019
    (arXiv:1903.04688). The teacher side is the encoded teacher feature E(Phi_T), the student
    side a second adapter C_a(Phi_S) (connectors in the config). Two formulations, each with
    the weight set for it in the KA fragments (on the same maps the torchdistill form is about
    100 times the paper form, so a weight of one does not carry to the other):

    ``formulation='torchdistill'`` (default; torchdistill's ``AffinityLoss(reduction='mean')``,
    weight 1 in its KTAAD config): per image n and channel c, x = the channel's H*W map divided
    by its L2 norm; the affinity is the outer product x x^T (an H*W x H*W matrix) and

    .. math::
        L = \\frac{1}{N}\\sum_n \\sum_c \\frac{\\| x^S_{nc} x^{S\\top}_{nc}
            - x^T_{nc} x^{T\\top}_{nc} \\|_F}{H W}

    evaluated per channel from norms and one inner product (``channel_outer_product_distance``),
    never forming the H*W x H*W matrix. Student and teacher need the same channel count.

    ``formulation='paper'``: per-position form of a paper note (docs/methods.md; the paper's
    full text was not checked). With positions L2-normalised over channels, the affinity of
    positions i, j is their cosine divided by the number of positions P; the loss is the mean
    L2 distance between the rows of the student and teacher affinity matrices:

    .. math::
        A_{ij} = \\frac{\\cos(\\phi_i, \\phi_j)}{P},\\quad
        L = \\frac{1}{N P}\\sum_n \\sum_i \\| A^S_i - A^T_i \\|_2

    Channel counts may differ. Row norms are exact without a P x P tensor, zero gradient where
    a row difference is exactly 0, by ``algorithm`` 'gram' (C x C Gram matrices in
    ``gram_precision``), 'tiled' (float32 blocks of rows formed again in the backward pass) or
    'auto' (default, the cheaper by ``pairwise_algorithm``'s cost model); see
    PixelFeatureSimilarityLoss.

    Project choices: student resized (bilinear) to the teacher's size; teacher detached; an
    all-zero channel map normalises to zero (torchdistill divides by its zero norm: NaN);
    ``gram_precision='float64'`` in the paper form (exact near student == teacher; 'float32'
    is faster on GPUs with slow float64, and inexact near student == teacher).
    """

    def __init__(self, formulation: str = 'torchdistill', loss_weight: float = 1.0,
                 align_to: str = 'teacher', chunk_size: Optional[int] = None,
                 gram_precision: str = 'float64', algorithm: str = 'auto'):
        super().__init__()
        self.formulation = check_choice('formulation', formulation, FORMULATIONS)
        self.loss_weight = loss_weight
        self.align_to = align_to
        self.chunk_size = chunk_size
        self.gram_dtype = gram_dtype(gram_precision)  # checked here, at build time
        self.gram_precision = gram_precision
        self.algorithm = check_algorithm(algorithm)

    @float32_compute
    def forward(self, feat_S: torch.Tensor, feat_T: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * affinity(feat_S, feat_T, self.formulation, self.align_to,
                                           self.chunk_size, self.gram_precision,
                                           self.algorithm, type(self).__name__)

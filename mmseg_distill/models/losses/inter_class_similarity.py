from typing import Optional

import torch
import torch.nn.functional as F
from mmrazor.registry import MODELS

from ..utils import (check_choice, float32_compute, image_weights, l2_normalize,
                     masked_spatial_log_softmax, valid_mask_from_gt, weighted_image_mean)
from .logit_distill_loss import LogitDistillLoss, aligned_logits

FORMULATIONS = ('paper', 'official')


def inter_class_kl_matrix(logits: torch.Tensor, tau: float,
                          valid: Optional[torch.Tensor] = None) -> torch.Tensor:
    """M_ij = KL(P_i || P_j) between the spatial distributions of classes i and j: (N, K, K).

    One batched product instead of a loop over class pairs:
    M_ij = sum_x P_i(x) log P_i(x) - sum_x P_i(x) log P_j(x).
    """
    prob, log_prob = masked_spatial_log_softmax(logits, tau, valid)
    neg_entropy = (prob * log_prob).sum(-1)
    cross = prob @ log_prob.transpose(1, 2)
    # KL >= 0; the subtraction can round to a tiny negative value.
    return (neg_entropy[:, :, None] - cross).clamp_min(0)


def inter_class_similarity_matrix(logits: torch.Tensor, tau: float = 1.0,
                                  normalize_rows: bool = True,
                                  valid: Optional[torch.Tensor] = None) -> torch.Tensor:
    """ICSD's matrix in the paper's form: KL between classes, rows normalised: (N, K, K)."""
    matrix = inter_class_kl_matrix(logits, tau, valid)
    return l2_normalize(matrix, dim=-1) if normalize_rows else matrix


def official_inter_class_matrix(logits: torch.Tensor, tau: float) -> torch.Tensor:
    """The K x K matrix of the official AICSD code's ICSD term, for the whole batch: (K, K).

    With P = softmax(Z / tau) over the height axis only (dim 2 of (b, K, H, W)), the official
    code fills, for i <= j, M[i, j] = M[j, i] = KLDivLoss('batchmean')(input=P_i, target=P_j),
    i.e. sum over (n, h, w) of P_j (log P_j - P_i) / b: the input is a probability where
    KLDivLoss expects a log-probability. Expanded, entry (i, j) with i <= j is
    (negent_j - cross_ij) / b with negent_j = sum P_j log P_j and cross = the (symmetric) inner
    products of the class maps, so one product replaces the loop over class pairs; the lower
    triangle is the mirror of the upper one.
    """
    batch, classes = logits.shape[:2]
    log_prob = F.log_softmax(logits / tau, dim=2).transpose(0, 1).reshape(classes, -1)
    prob = log_prob.exp()
    # p log p from the log-softmax: a probability that underflows to 0 contributes 0 (as
    # KLDivLoss's 0 log 0 = 0) with a finite gradient, where log(p) of p = 0 would give NaN
    neg_entropy = (prob * log_prob).sum(-1)
    cross = prob @ prob.t()
    upper = torch.triu(neg_entropy[None, :] - cross)
    return (upper + upper.triu(1).t()) / batch


@float32_compute
def inter_class_similarity(preds_S: torch.Tensor, preds_T: torch.Tensor,
                           gt_seg: Optional[torch.Tensor] = None, tau: float = 1.0,
                           normalize_rows: bool = True, formulation: str = 'paper',
                           align_to: str = 'teacher', ignore_index: int = 255,
                           owner: str = 'InterClassSimilarityLoss') -> torch.Tensor:
    """``InterClassSimilarityLoss`` as a function (unweighted)."""
    preds_S, preds_T = aligned_logits(preds_S, preds_T, align_to, owner)
    if formulation == 'official':
        if gt_seg is not None:
            raise ValueError(
                f"{owner}(formulation='official') reproduces the official code, which uses "
                'every pixel; it takes no gt_seg. Remove gt_seg from its loss_forward_mappings, '
                "or use formulation='paper' to leave ignored pixels out.")
        matrix_S = l2_normalize(official_inter_class_matrix(preds_S, tau), dim=1)
        matrix_T = l2_normalize(official_inter_class_matrix(preds_T, tau), dim=1)
        return (matrix_S - matrix_T).square().mean() / preds_T.shape[0]
    valid = valid_mask_from_gt(gt_seg, preds_T.shape[-2:], ignore_index)
    diff = inter_class_similarity_matrix(preds_S, tau, normalize_rows, valid) - \
        inter_class_similarity_matrix(preds_T, tau, normalize_rows, valid)
    weights = image_weights(valid, diff.shape[0], diff)
    return weighted_image_mean(diff.square().mean((1, 2)), weights)


@MODELS.register_module()
class InterClassSimilarityLoss(LogitDistillLoss):
    """AICSD's inter-class similarity distillation (ICSD), in the paper's or the official form.

    Mansourian et al., "AICSD: Adaptive Inter-Class Similarity Distillation for Semantic
    Segmentation", arXiv:2308.04243; official code AmirMansurian/AICSD (distiller.py,
    ``lo_loss``, switched on by ``--lo_lambda``).

    ``formulation='paper'`` (default): each class map becomes a distribution over all positions
    of an image and the K x K matrix of KL divergences between classes is matched per image:

    .. math::
        P_k = \\mathrm{softmax}_P(Z_k / T),\\quad
        M_{ij} = \\mathrm{KL}(P_i \\| P_j),\\quad
        L = \\mathrm{mean}_n\\,\\mathrm{mean}\\big((N(M^S_n) - N(M^T_n))^2\\big)

    with N(.) L2 normalisation of each row (``normalize_rows``, as the official code).
    With ``gt_seg``, ignored pixels are left out of the distributions and fully ignored images
    out of the mean.

    ``formulation='official'``: exactly what the official code computes (see
    ``official_inter_class_matrix``): softmax over the height axis only, the "KL" of
    ``KLDivLoss('batchmean')`` fed a probability as input, one symmetric matrix for the whole
    batch, rows L2-normalised, and L = mean((N(M_S) - N(M_T))^2) / b. Any number of classes
    (the official code hard-codes 21). ``normalize_rows`` must stay True in this form. The
    official code uses every pixel and has no ignore mask; passing ``gt_seg`` here is an error
    rather than a silent reinterpretation (use the paper form for ignore handling). The
    official code applies it to logits upsampled to the input size; record what you want to
    compare (the recipes use the decode head's logits).

    Weights: no ICSD weight is published (the README's ``--pa_lambda 9500`` scales a different
    term of the code); the recipes say how theirs were set. Defaults: T=1 (official code).
    Project choices: student logits resized to the teacher's size (``align_to``); teacher
    detached.
    """

    def __init__(self, tau: float = 1.0, normalize_rows: bool = True, loss_weight: float = 1.0,
                 align_to: str = 'teacher', ignore_index: int = 255,
                 formulation: str = 'paper'):
        super().__init__(tau, loss_weight, align_to, ignore_index)
        check_choice('formulation', formulation, FORMULATIONS)
        if formulation == 'official' and not normalize_rows:
            raise ValueError("formulation='official' normalises rows as the official code "
                             'does; normalize_rows=False exists only in the paper form')
        self.normalize_rows = normalize_rows
        self.formulation = formulation

    @float32_compute
    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                gt_seg: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.loss_weight * inter_class_similarity(
            preds_S, preds_T, gt_seg, self.tau, self.normalize_rows, self.formulation,
            self.align_to, self.ignore_index, type(self).__name__)

from typing import Optional

import torch
from mmrazor.registry import MODELS

from ..utils import check_choice, float32_compute, pixel_kl_divergence, valid_mask_from_gt
from .logit_distill_loss import LogitDistillLoss, aligned_logits

WEIGHTINGS = ('gap', 'uniform')


@float32_compute
def weighted_soft_imitation(preds_S: torch.Tensor, preds_T: torch.Tensor,
                            gt_seg: Optional[torch.Tensor] = None, tau: float = 1.0,
                            weighting: str = 'gap', align_to: str = 'teacher',
                            ignore_index: int = 255,
                            owner: str = 'WeightedSoftImitationLoss') -> torch.Tensor:
    """``WeightedSoftImitationLoss`` as a function (unweighted)."""
    preds_S, preds_T = aligned_logits(preds_S, preds_T, align_to, owner)
    kl = pixel_kl_divergence(preds_S, preds_T, tau).flatten(1)  # (N, P)
    valid = valid_mask_from_gt(gt_seg, preds_T.shape[-2:], ignore_index)
    valid = torch.ones_like(kl) if valid is None else valid.flatten(1).to(kl.dtype)
    if weighting == 'gap':
        gap = kl.detach() * valid
        mean_gap = gap.sum(1, keepdim=True) / valid.sum(1, keepdim=True).clamp_min(1.0)
        weights = torch.where(mean_gap > 0, gap / mean_gap.clamp_min(1e-30),
                              torch.zeros_like(gap))
    else:
        weights = valid
    total = (weights * kl * valid).sum()
    return tau**2 * total / valid.sum().clamp_min(1.0)


@MODELS.register_module()
class WeightedSoftImitationLoss(LogitDistillLoss):
    """PFS's weighted pixel-level soft-prediction imitation.

    Shan et al., "Distilling Pixel-Wise Feature Similarities for Semantic Segmentation",
    arXiv:1910.14226. The paper weights each pixel's imitation by the teacher-student knowledge
    gap there; its exact form is not public, so the project defines (``weighting='gap'``):

    .. math::
        g_i = \\mathrm{KL}(p^T_i \\| p^S_i)\\ \\text{(detached)},\\quad
        w_i = g_i / \\overline{g},\\quad
        L = \\tau^2 \\frac{1}{|V|}\\sum_{i\\in V} w_i\\, \\mathrm{KL}(p^T_i \\| p^S_i)

    with :math:`p = \\mathrm{softmax}(z/\\tau)` over classes and :math:`\\overline{g}` the mean
    gap over the valid pixels V of the same image, so the weights average to 1 per image and the
    loss has the scale of plain pixel KD. When an image has no gap at all (student equals
    teacher) its weights are 0 and so is its loss. ``weighting='uniform'`` gives plain pixel KD.

    Project choices: tau=1 by default; normalisation of the weights per image (so the loss does
    not depend on how images are split across GPUs); student resized to the teacher's size;
    images contribute by their number of valid pixels; teacher detached.

    Args:
        tau (float): temperature. Default 1.0.
        weighting (str): 'gap' (default) or 'uniform'.
        loss_weight (float): Default 1.0.
        align_to (str): 'teacher' (default) or 'student'.
        ignore_index (int): label of ignored pixels when ``gt_seg`` is passed. Default 255.
    """

    def __init__(self, tau: float = 1.0, weighting: str = 'gap', loss_weight: float = 1.0,
                 align_to: str = 'teacher', ignore_index: int = 255):
        super().__init__(tau, loss_weight, align_to, ignore_index)
        self.weighting = check_choice('weighting', weighting, WEIGHTINGS)

    @float32_compute
    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                gt_seg: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.loss_weight * weighted_soft_imitation(
            preds_S, preds_T, gt_seg, self.tau, self.weighting, self.align_to, self.ignore_index,
            type(self).__name__)

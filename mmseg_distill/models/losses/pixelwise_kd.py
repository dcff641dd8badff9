from typing import Optional

import torch
from mmrazor.registry import MODELS

from ..utils import (check_choice, float32_compute, masked_mean, pixel_kl_divergence,
                     valid_mask_from_gt)
from .logit_distill_loss import LogitDistillLoss, aligned_logits

CLASS_REDUCTIONS = ('sum', 'mean')


@float32_compute
def pixel_kd(preds_S: torch.Tensor, preds_T: torch.Tensor,
             gt_seg: Optional[torch.Tensor] = None, tau: float = 1.0,
             align_to: str = 'teacher', ignore_index: int = 255, class_reduction: str = 'sum',
             owner: str = 'PixelwiseKDLoss') -> torch.Tensor:
    """``PixelwiseKDLoss`` as a function (unweighted): tau^2 times the mean over valid pixels
    of KL(p_T || p_S), summed over classes (``class_reduction='mean'``: divided by K)."""
    preds_S, preds_T = aligned_logits(preds_S, preds_T, align_to, owner)
    kl = pixel_kl_divergence(preds_S, preds_T, tau)
    if class_reduction == 'mean':
        kl = kl / preds_T.shape[1]
    valid = valid_mask_from_gt(gt_seg, kl.shape[-2:], ignore_index)
    return tau**2 * masked_mean(kl, valid)


@MODELS.register_module()
class PixelwiseKDLoss(LogitDistillLoss):
    """Pixel-wise knowledge distillation on logits: Hinton et al., "Distilling the Knowledge in a
    Neural Network" (2015), applied to every pixel (as CIRKD's ``CriterionKD``).

    .. math::
        L = \\tau^2 \\frac{1}{|V|} \\sum_{i \\in V} \\mathrm{KL}\\big(
            \\sigma(z^T_i/\\tau) \\,\\|\\, \\sigma(z^S_i/\\tau)\\big)

    with :math:`\\sigma` the softmax over the K classes at pixel i and V the valid pixels (all
    pixels unless ``gt_seg`` is given, then those whose label is not ``ignore_index``). This is
    the plain baseline that KA, PFS and AICSD compare against; AICSD uses it with tau=1.

    ``class_reduction='mean'`` divides the per-pixel KL by the number of classes K as well:
    that is what ``torch.nn.KLDivLoss()`` with its default reduction 'mean' computes on
    (b, K, H, W) logits (it divides the sum by b*K*H*W), which is how the official AICSD code
    writes its pixel KD (``--pi_lambda``). With it, the official code's weights carry over
    unchanged whatever K is. Default 'sum': the KL of each pixel's class distribution.

    Project choices: the student logits are resized bilinearly to the teacher's size
    (``align_to``); the mean runs over pixels of the whole (per-GPU) batch; the teacher is
    detached.

    Args:
        tau (float): temperature. Default 1.0.
        loss_weight (float): weight of the loss. Default 1.0.
        align_to (str): 'teacher' (default) or 'student'.
        ignore_index (int): label of ignored pixels when ``gt_seg`` is passed. Default 255.
        class_reduction (str): 'sum' (default) or 'mean' over the K classes, see above.
    """

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0, align_to: str = 'teacher',
                 ignore_index: int = 255, class_reduction: str = 'sum'):
        super().__init__(tau, loss_weight, align_to, ignore_index)
        self.class_reduction = check_choice('class_reduction', class_reduction,
                                            CLASS_REDUCTIONS)

    @float32_compute
    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                gt_seg: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.loss_weight * pixel_kd(preds_S, preds_T, gt_seg, self.tau, self.align_to,
                                           self.ignore_index, self.class_reduction,
                                           type(self).__name__)

"""What every loss on the two models' logits shares: its arguments, checked when it is built,
and the opening steps of its functional form."""
import math
import numbers
from typing import Tuple

import torch
import torch.nn as nn

from ..utils import align_spatial, check_choice, check_same_classes
from ..utils.align import ALIGN_CHOICES


def aligned_logits(preds_S: torch.Tensor, preds_T: torch.Tensor, align_to: str,
                   owner: str) -> Tuple[torch.Tensor, torch.Tensor]:
    """The opening steps of every logit loss: both models predict the same classes (else an
    error naming ``owner``), the teacher detached, one resized to the other's size."""
    check_same_classes(preds_S, preds_T, owner)
    return align_spatial(preds_S, preds_T.detach(), align_to)


class LogitDistillLoss(nn.Module):
    """Base of the losses that compare student and teacher logits class by class (pixel KD,
    PFS's weighted soft imitation, DSD's CSD, AICSD's ICSD): the arguments they share, checked
    when the loss is built. ``tau`` a positive number; ``align_to`` one of 'teacher' /
    'student' (whose size the other is resized to; the project's default is the teacher's);
    ``ignore_index`` an integer (the label left out when the loss is given ``gt_seg``).
    """

    def __init__(self, tau: float, loss_weight: float = 1.0, align_to: str = 'teacher',
                 ignore_index: int = 255):
        super().__init__()
        if isinstance(tau, bool) or not isinstance(tau, numbers.Real) or \
                not math.isfinite(tau) or tau <= 0:
            raise ValueError(f'{type(self).__name__}: tau must be positive, got {tau!r}')
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
            raise TypeError(f'{type(self).__name__}: ignore_index must be an integer label, '
                            f'got {ignore_index!r}')
        self.tau = tau
        self.loss_weight = loss_weight
        self.align_to = check_choice('align_to', align_to, ALIGN_CHOICES)
        self.ignore_index = ignore_index

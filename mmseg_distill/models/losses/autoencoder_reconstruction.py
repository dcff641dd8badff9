from typing import Tuple

import torch
import torch.nn as nn
from mmrazor.registry import MODELS

from ..utils import check_choice, float32_compute

CODE_REDUCTIONS = ('batch_sum', 'image_mean')


@MODELS.register_module()
class AutoEncoderReconstructionLoss(nn.Module):
    """KA stage 1: train the auto-encoder on the frozen teacher's feature.

    He et al., "Knowledge Adaptation for Efficient Semantic Segmentation", CVPR 2019:

    .. math::
        L = \\mathrm{mean}\\big((\\Phi_T - D(E(\\Phi_T)))^2\\big) + \\alpha\\, R(E(\\Phi_T))

    The reconstruction term is the mean squared error over all elements (torchdistill's KTAAD
    stage 1: ``MSELoss(reduction='mean')``). The sparsity term R is the L1 norm of the code, with
    ``code_reduction``:

    - ``'batch_sum'`` (default): the L1 norm of the whole batch's code, summed over images, as
      torchdistill's ``RegularizationLoss(p=1)`` computes it (``z.norm(p=1)``) with weight
      alpha = 1e-7 in its KTAAD config (the paper note in docs/methods.md gives the same 1e-7);
    - ``'image_mean'``: each image's L1 norm, averaged over the batch (this project's earlier
      form; batch-size independent, so 1e-7 is a B times weaker sparsity at batch B).

    Feed it from ``KAAutoEncoderConnector`` in ``mode='train'``; ``target`` is the recorded
    teacher feature (detached). ``ae_outputs`` is the connector's ``(code, reconstruction)``
    pair, so the auto-encoder runs once per iteration.
    """

    def __init__(self, alpha: float = 1e-7, loss_weight: float = 1.0,
                 code_reduction: str = 'batch_sum'):
        super().__init__()
        self.alpha = alpha
        self.loss_weight = loss_weight
        self.code_reduction = check_choice('code_reduction', code_reduction, CODE_REDUCTIONS)

    @float32_compute
    def forward(self, ae_outputs: Tuple[torch.Tensor, torch.Tensor],
                target: torch.Tensor) -> torch.Tensor:
        code, reconstruction = ae_outputs
        target = target.detach()
        if reconstruction.shape != target.shape:
            raise ValueError(
                f'the auto-encoder reconstructs {tuple(reconstruction.shape)} but the teacher '
                f'feature is {tuple(target.shape)}: give KAAutoEncoderConnector '
                f'in_channels={target.shape[1]} and keep its strides symmetric.')
        recon = (reconstruction - target).square().mean()
        sparsity = code.abs().sum()
        if self.code_reduction == 'image_mean':
            sparsity = sparsity / code.shape[0]
        return self.loss_weight * (recon + self.alpha * sparsity)

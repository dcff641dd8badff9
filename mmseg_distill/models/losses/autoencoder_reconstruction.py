from typing import Tuple

import torch
import torch.nn as nn

from mmrazor.registry import MODELS
from ..utils import float32_compute


@MODELS.register_module()
class AutoEncoderReconstructionLoss(nn.Module):
    """KA stage 1: train the auto-encoder on the frozen teacher's feature.

    He et al., "Knowledge Adaptation for Efficient Semantic Segmentation", CVPR 2019:

    .. math::
        L = \\mathrm{mean}\\big((\\Phi_T - D(E(\\Phi_T)))^2\\big)
            + \\alpha\\,\\frac{1}{N}\\sum_n \\| E(\\Phi_T)_n \\|_1

    The reconstruction term is a mean squared error; the sparsity term is the L1 norm of each
    image's code (summed over channels and positions, as a norm is), averaged over the batch,
    with alpha = 1e-7 (the paper's, as a paper note records it). Feed it from ``KAAutoEncoderConnector`` in ``mode='train'``;
    ``target`` is the recorded teacher feature (detached). ``ae_outputs`` is the connector's ``(code,
    reconstruction)`` pair, so the auto-encoder runs once per iteration.
    """

    def __init__(self, alpha: float = 1e-7, loss_weight: float = 1.0):
        super().__init__()
        self.alpha = alpha
        self.loss_weight = loss_weight

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
        sparsity = code.abs().flatten(1).sum(1).mean()
        return self.loss_weight * (recon + self.alpha * sparsity)

import torch
from mmrazor.models.architectures.connectors.base_connector import BaseConnector
from mmrazor.registry import MODELS

from ..utils import positions_as_rows


@MODELS.register_module()
class PixelsAsSamplesConnector(BaseConnector):
    """(N, C, H, W) -> (N * H * W, C): every position becomes a sample of C scores.

    For a loss written for classification logits (N, C) applied to segmentation the way
    DIST's official segmentation code does (hunto/DIST_KD, ``segmentation/losses/dist_kd.py``:
    the logits are reshaped to one row per pixel before the inter-class relation, over the
    classes of each pixel, and the intra-class relation, over all pixels of each class). Given
    (N, C, H, W) logits directly, MMRazor's ``DISTLoss`` computes its intra-class relation per
    position across the images of the batch instead. No parameters; used by both sides.
    """

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        if feature.dim() != 4:
            raise ValueError(f'PixelsAsSamplesConnector takes (N, C, H, W) maps, got shape '
                             f'{tuple(feature.shape)}; record the logits (SegLogits)')
        return positions_as_rows(feature).reshape(-1, feature.shape[1])

import torch
import torch.nn as nn

from mmrazor.registry import MODELS
from ..utils import align_spatial, float32_compute, l2_normalize
from .pixel_feature_similarity import check_feature_maps

NORMALIZATIONS = ('position', 'map')


@MODELS.register_module()
class KnowledgeAdaptationLoss(nn.Module):
    """KA's knowledge translation loss between the adapted student and encoded teacher.

    He et al., "Knowledge Adaptation for Efficient Semantic Segmentation", CVPR 2019
    (arXiv:1903.04688):

    .. math::
        L = \\frac{1}{N P}\\sum_n \\sum_i \\Big\\| \\frac{E(\\Phi_T)_i}{\\|E(\\Phi_T)_i\\|_2}
            - \\frac{C_f(\\Phi_S)_i}{\\|C_f(\\Phi_S)_i\\|_2} \\Big\\|_p,\\quad p = 1

    ``normalize='position'`` (default) normalises each position's channel vector, as the
    paper's formula does; ``'map'`` normalises the whole flattened map of each image, as the
    torchdistill re-implementation does. The recipe weight is set in the config.

    The adapter C_f must map the student to the encoder's channel count (an error names both
    shapes otherwise). Project choices: student resized to the teacher's size; teacher detached.
    """

    def __init__(self, p: float = 1.0, normalize: str = 'position', loss_weight: float = 1.0,
                 align_to: str = 'teacher'):
        super().__init__()
        if normalize not in NORMALIZATIONS:
            raise ValueError(f'normalize must be one of {NORMALIZATIONS}, got {normalize!r}')
        self.p = p
        self.normalize = normalize
        self.loss_weight = loss_weight
        self.align_to = align_to

    def _normalize(self, feat: torch.Tensor) -> torch.Tensor:
        if self.normalize == 'position':
            return l2_normalize(feat, dim=1)
        return l2_normalize(feat.flatten(1), dim=1).view_as(feat)

    @float32_compute
    def forward(self, feat_S: torch.Tensor, feat_T: torch.Tensor) -> torch.Tensor:
        check_feature_maps(feat_S, feat_T, type(self).__name__)
        if feat_S.shape[1] != feat_T.shape[1]:
            raise ValueError(
                f'KnowledgeAdaptationLoss compares channel vectors: the adapted student has '
                f'{feat_S.shape[1]} channels {tuple(feat_S.shape)}, the encoded teacher '
                f'{feat_T.shape[1]} {tuple(feat_T.shape)}. Set the student adapter connector '
                f'out_channel={feat_T.shape[1]} (the auto-encoder code channels).')
        feat_S, feat_T = align_spatial(feat_S, feat_T.detach(), self.align_to)
        diff = self._normalize(feat_S) - self._normalize(feat_T)
        per_position = diff.abs().pow(self.p).sum(1).pow(1.0 / self.p) if self.p != 1 \
            else diff.abs().sum(1)
        return self.loss_weight * per_position.mean()

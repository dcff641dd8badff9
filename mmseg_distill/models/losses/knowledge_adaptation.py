import torch
import torch.nn as nn
from mmrazor.registry import MODELS

from ..utils import align_spatial, check_choice, check_feature_maps, float32_compute, l2_normalize

FORMULATIONS = ('torchdistill', 'paper')


@float32_compute
def knowledge_adaptation(feat_S: torch.Tensor, feat_T: torch.Tensor,
                         formulation: str = 'torchdistill', p: float = 1.0, q: float = 2.0,
                         align_to: str = 'teacher',
                         owner: str = 'KnowledgeAdaptationLoss') -> torch.Tensor:
    """``KnowledgeAdaptationLoss`` as a function (unweighted)."""
    check_feature_maps(feat_S, feat_T, owner)
    if feat_S.shape[1] != feat_T.shape[1]:
        raise ValueError(
            f'{owner} compares channel vectors: the student record has {feat_S.shape[1]} '
            f'channels {tuple(feat_S.shape)}, the teacher record {feat_T.shape[1]} '
            f'{tuple(feat_T.shape)}. Map the student through an adapter connector with '
            f'out_channel={feat_T.shape[1]} (the auto-encoder code channels).')
    feat_S, feat_T = align_spatial(feat_S, feat_T.detach(), align_to)
    if formulation == 'torchdistill':
        diff = l2_normalize(feat_S.flatten(1), dim=1, p=q) - \
            l2_normalize(feat_T.flatten(1), dim=1, p=q)
        return diff.abs().mean() if p == 1 else \
            torch.linalg.vector_norm(diff, ord=p, dim=1).mean()
    diff = l2_normalize(feat_S, dim=1) - l2_normalize(feat_T, dim=1)
    return torch.linalg.vector_norm(diff, ord=p, dim=1).mean()


@MODELS.register_module()
class KnowledgeAdaptationLoss(nn.Module):
    """KA's knowledge translation loss between the adapted student and the encoded teacher.

    He et al., "Knowledge Adaptation for Efficient Semantic Segmentation", CVPR 2019
    (arXiv:1903.04688). a_S = C_f(Phi_S) is the adapted student feature, a_T = E(Phi_T) the
    teacher feature encoded by the frozen stage-1 encoder. Two formulations, each with the
    weights set for it in the KA fragments (a weight of one form does not carry to the other:
    at C=256, P=8192 the paper form is ~2e4 times the torchdistill form):

    ``formulation='torchdistill'`` (default; the only public implementation, torchdistill's
    ``KTALoss(p=1, q=2, reduction='mean')``, weight 50 in its KTAAD config): each image's whole
    flattened map is divided by its L2 norm, and for p = 1 the loss is the mean over all
    N*C*H*W elements of the absolute difference:

    .. math::
        \\hat a = \\frac{\\mathrm{vec}(a)}{\\|\\mathrm{vec}(a)\\|_q},\\quad
        L = \\frac{1}{N C H W} \\sum_n \\| \\hat a^S_n - \\hat a^T_n \\|_1

    (for p != 1, torchdistill's ``mean_n ||a^S_n - a^T_n||_p``).

    ``formulation='paper'``: per-position form of a paper note (docs/methods.md; the paper's
    full text was not checked): each position's channel vector is L2-normalised and the p-norm
    of the difference is averaged over positions:

    .. math::
        L = \\frac{1}{N P}\\sum_n \\sum_i \\Big\\| \\frac{a^T_{n,i}}{\\|a^T_{n,i}\\|_2}
            - \\frac{a^S_{n,i}}{\\|a^S_{n,i}\\|_2} \\Big\\|_p,\\quad p = 1

    The adapter C_f must map the student to the encoder's channel count (an error names both
    shapes otherwise). Project choices: student resized to the teacher's size; teacher
    detached; an all-zero map (or position) normalises to zero instead of torchdistill's NaN.
    """

    def __init__(self, formulation: str = 'torchdistill', p: float = 1.0, q: float = 2.0,
                 loss_weight: float = 1.0, align_to: str = 'teacher'):
        super().__init__()
        self.formulation = check_choice('formulation', formulation, FORMULATIONS)
        if formulation == 'paper' and q != 2.0:
            raise ValueError("KnowledgeAdaptationLoss(formulation='paper') normalises each "
                             'position with the L2 norm; q is an option of the torchdistill '
                             'form only')
        self.p = p
        self.q = q
        self.loss_weight = loss_weight
        self.align_to = align_to

    @float32_compute
    def forward(self, feat_S: torch.Tensor, feat_T: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * knowledge_adaptation(feat_S, feat_T, self.formulation, self.p,
                                                       self.q, self.align_to,
                                                       type(self).__name__)

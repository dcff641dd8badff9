from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, build_activation_layer, build_norm_layer
from mmrazor.models.architectures.connectors.base_connector import BaseConnector
from mmrazor.registry import MODELS

from ...utils.checkpoint import load_state_dict_under, resolve_checkpoint, state_dict_mismatch
from ..utils import check_choice

MODES = ('train', 'encode')
DECODER_LAST = ('linear', 'norm_act')


@MODELS.register_module()
class KAAutoEncoderConnector(BaseConnector):
    """Teacher-side auto-encoder of Knowledge Adaptation (He et al., CVPR 2019).

    Encoder E: three 3x3 conv + BN + activation layers, channels C -> C -> C/2 -> C/2 (the
    widths of torchdistill's paraphraser; ``hidden_channels`` / ``code_channels`` change them);
    ``strides`` default (1, 1, 1): the paper mentions non-unit strides without saying where, so
    the project keeps the teacher's resolution. Decoder D: the mirror image with transposed
    convolutions.

    Two choices are this project's, not torchdistill's: the activation is ReLU
    (``act_cfg``; torchdistill's paraphraser uses LeakyReLU with slope 0.1), and the decoder's
    last layer is linear (``decoder_last='linear'``), so the reconstruction can take any real
    value a teacher feature takes (features read before a ReLU have negative entries, which a
    BN + activation output cannot match). torchdistill puts BN + activation after every layer,
    the decoder's last included: ``act_cfg=dict(type='LeakyReLU', negative_slope=0.1),
    decoder_last='norm_act'`` builds that form.

    ``mode='train'`` (stage 1): returns ``(code, reconstruction)``, both trainable; pair it with
    ``AutoEncoderReconstructionLoss``.
    ``mode='encode'`` (stage 2): returns ``E(Phi_T)`` with every parameter frozen and BN in
    eval mode. The stage-1 weights are loaded at build time from ``checkpoint``, a checkpoint
    file or the stage-1 run's work directory (its last checkpoint; the project's choice, so a
    stage-2 config does not depend on how long stage 1 ran) (keys under
    ``checkpoint_prefix``, strictly: a missing or unexpected key is an error, because a randomly
    initialised encoder would silently distil noise). Frozen and applied to the teacher's
    feature only, it is the teacher's side of a step: ``SegmentationDistill``'s
    ``teacher_precision`` and ``teacher_channels_last`` apply to it as to the teacher.
    """

    def __init__(self, in_channels: int, hidden_channels: Optional[int] = None,
                 code_channels: Optional[int] = None, strides: Sequence[int] = (1, 1, 1),
                 mode: str = 'train', checkpoint: Optional[str] = None,
                 checkpoint_prefix: str = 'distiller.connectors.teacher_autoencoder.',
                 norm_cfg: dict = dict(type='BN'), act_cfg: dict = dict(type='ReLU'),
                 decoder_last: str = 'linear', init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        check_choice('mode', mode, MODES)
        check_choice('decoder_last', decoder_last, DECODER_LAST)
        if len(strides) != 3:
            raise ValueError(f'strides needs one value per encoder layer (3), got {strides}')
        hidden = hidden_channels or in_channels
        code = code_channels or max(in_channels // 2, 1)
        self.mode = mode
        self.in_channels = in_channels
        self.code_channels = code
        widths = [in_channels, hidden, code, code]
        self.encoder = nn.Sequential(*[
            ConvModule(widths[i], widths[i + 1], 3, stride=strides[i], padding=1,
                       norm_cfg=norm_cfg, act_cfg=act_cfg, inplace=False)
            for i in range(3)
        ])
        decoder = []
        for i in reversed(range(3)):
            stride = strides[i]
            layers = [nn.ConvTranspose2d(widths[i + 1], widths[i], 3, stride=stride, padding=1,
                                         output_padding=stride - 1)]
            if i > 0 or decoder_last == 'norm_act':
                layers += [build_norm_layer(norm_cfg, widths[i])[1],
                           build_activation_layer(dict(act_cfg))]
            decoder.append(nn.Sequential(*layers))
        self.decoder = nn.Sequential(*decoder)
        if mode == 'encode':
            if not checkpoint:
                raise ValueError(
                    "KAAutoEncoderConnector(mode='encode') distils through the stage-1 encoder; "
                    'pass checkpoint=<stage-1 checkpoint .pth> (and checkpoint_prefix, default '
                    f"'{checkpoint_prefix}') or run KA stage 1 first.")
            try:
                checkpoint = resolve_checkpoint(checkpoint)
            except FileNotFoundError as error:
                raise FileNotFoundError(
                    f'KA stage 2 reads the stage-1 auto-encoder from {checkpoint!r}: {error}. '
                    'Run the stage-1 leaf (ka-stage1_<pair>.py) first from the same working '
                    "directory (MMEngine's default work_dirs/<leaf name>), or set "
                    'model.distiller.connectors.<connector>.checkpoint to its checkpoint or '
                    'work directory') from None
            self.load_stage1(checkpoint, checkpoint_prefix)
            for param in self.parameters():
                param.requires_grad = False

    def load_stage1(self, checkpoint: str, prefix: str) -> None:
        state = load_state_dict_under(checkpoint, prefix)
        missing, unexpected, mismatched = state_dict_mismatch(self.state_dict(), state)
        if missing or unexpected or mismatched:
            raise ValueError(
                f'stage-1 checkpoint {checkpoint} does not match this auto-encoder under prefix '
                f"'{prefix}': missing {missing[:5]}, unexpected {unexpected[:5]}, shape "
                f'(checkpoint vs model) {mismatched[:3]}. Check checkpoint_prefix (the '
                'connector name used in stage 1) and in_channels/hidden/code channels.')
        self.load_state_dict(state, strict=True)
        # Loaded here on purpose: the runner's init_weights must not re-initialise it.
        self._is_init = True

    def train(self, mode: bool = True):
        super().train(mode)
        if self.mode == 'encode':
            super().train(False)
        return self

    def forward_train(self, feature: torch.Tensor
                      ) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        if feature.dim() != 4 or feature.shape[1] != self.in_channels:
            raise ValueError(
                f'KAAutoEncoderConnector expects the teacher feature with in_channels='
                f'{self.in_channels}, got {tuple(feature.shape)}: set in_channels='
                f'{feature.shape[1] if feature.dim() == 4 else "?"} or record the teacher '
                "feature the auto-encoder was built for.")
        code = self.encoder(feature)
        if self.mode == 'encode':
            return code
        return code, self.decoder(code)

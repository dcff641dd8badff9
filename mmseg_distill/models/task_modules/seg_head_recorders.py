"""Recorders for "the segmentation logits" and "the feature the classifier sees" of any MMSeg
segmentor, whatever its head family.

MMSeg heads call ``self.forward`` directly, so module hooks on a head never fire, and several
families have no ``decode_head.conv_seg`` that outputs the logits. These recorders find the
head that makes the final dense prediction, wrap that head instance's ``forward`` (the instance
only: the other model and other instances of the class are untouched) and turn what it returns
into (N, K, H, W) logits the way MMSeg's own prediction does:

=====================================  ==========================================================
family                                 logits / classifier feature
=====================================  ==========================================================
``BaseDecodeHead`` heads (FCN, PSP,    ``forward`` output / input of ``conv_seg``
ASPP, UPer, SegFormer, FastSCNN, ...)
several outputs (DANet, EncNet, DDR,   the output MMSeg predicts with (PIDNet: its I branch) /
PIDNet)                                input of the ``conv_seg`` call that produced it
cascades (OCRNet)                      the last stage
PointRend                              the coarse head (the point head predicts on sampled
                                       points in training; its dense map exists only at test)
Segmenter (mask transformer)           class masks / the patch embeddings the class embeddings
                                       are compared with (output of ``patch_proj``)
K-Net                                  last kernel-update stage / not available
MaskFormer, Mask2Former (need mmdet)   softmax(class) x sigmoid(mask) summed over queries, as
                                       MMSeg's ``predict`` / not available
binary heads (``out_channels=1``)      logits z become two classes (0, z): softmax of them is
                                       (1 - sigmoid(z), sigmoid(z)), so every logit loss works
=====================================  ==========================================================

Where a family has no classifier feature the recorder says so at build time and names modules
that can be recorded instead.
"""
from typing import Any, Callable, List, Optional, Tuple

import torch
from torch import nn

from mmrazor.models.task_modules.recorder.base_recorder import BaseRecorder
from mmrazor.registry import TASK_UTILS
from .recorders import RecordingFlag

KINDS = ('logits', 'feature')
MAIN_OUTPUT = {'PIDHead': 1}  # index of the predicted map in a tuple output; default 0
MASK_CLASSIFICATION = ('MaskFormerHead', 'Mask2FormerHead')
NO_CLASSIFIER_FEATURE = MASK_CLASSIFICATION + ('IterativeDecodeHead', )


def head_family(model: nn.Module) -> Tuple[nn.Module, str]:
    """(the head whose output is the dense prediction, a family name for messages)."""
    heads = getattr(model, 'decode_head', None)
    if heads is None:
        raise ValueError(f'{type(model).__name__} has no decode_head: the segmentation '
                         'recorders serve MMSeg EncoderDecoder / CascadeEncoderDecoder models')
    if isinstance(heads, nn.ModuleList):
        if type(heads[-1]).__name__ == 'PointHead':
            return heads[0], 'PointRend (coarse head)'
        return heads[-1], f'cascade ({type(heads[-1]).__name__}, last stage)'
    return heads, type(heads).__name__


def dense_logits(head: nn.Module, output: Any) -> torch.Tensor:
    """What ``head.forward`` returned -> (N, K, H, W) logits, as MMSeg predicts from it."""
    name = type(head).__name__
    if name in MASK_CLASSIFICATION:
        cls_scores, mask_preds = output
        cls_score = cls_scores[-1].softmax(-1)[..., :-1]  # last decoder layer, no 'void'
        return torch.einsum('bqc,bqhw->bchw', cls_score, mask_preds[-1].sigmoid())
    if isinstance(output, (list, tuple)):
        output = output[-1] if name == 'IterativeDecodeHead' else \
            output[MAIN_OUTPUT.get(name, 0)]
    if not isinstance(output, torch.Tensor) or output.dim() != 4:
        raise ValueError(f'{name}.forward returned {type(output).__name__}, not (N, K, H, W) '
                         'logits; record a module by name (tools/inspect_pair.py lists them)')
    if getattr(head, 'out_channels', None) == 1 and output.shape[1] == 1:
        output = torch.cat([torch.zeros_like(output), output], dim=1)
    return output


class _SegHeadRecorder(RecordingFlag, BaseRecorder):
    """Wraps the final head's ``forward``; ``kind`` says what is recorded."""

    kind = 'logits'

    def __init__(self, source: str = '') -> None:
        super().__init__(source)
        self._recording = False
        self._calls: List[Tuple[torch.Tensor, torch.Tensor]] = []
        self._hook_handle = None

    def prepare_from_model(self, model: Optional[nn.Module] = None) -> None:
        if model is None:
            raise ValueError(f'{type(self).__name__} needs the model to hook')
        if self.source:
            model = dict(model.named_modules())[self.source]
        head, self.family = head_family(model)
        self.head = type(head).__name__
        classifier = getattr(head, 'conv_seg', None)
        if self.kind == 'feature':
            if self.head in NO_CLASSIFIER_FEATURE:
                raise ValueError(
                    f'{self.family}: the classifier feature is not available for this head '
                    '(it classifies masks or kernels, not per-pixel features). Record a module '
                    'of it by name instead; tools/inspect_pair.py lists them.')
            if classifier is None and hasattr(head, 'patch_proj'):
                classifier = head.patch_proj  # Segmenter: patches meet class embeddings here
            if classifier is None:
                raise ValueError(f'{self.family}: no classifier module (conv_seg) to record '
                                 'the feature of; record a module by name instead')
            if self._hook_handle is not None:  # prepared again (e.g. a replaced module)
                self._hook_handle.remove()
            self._hook_handle = classifier.register_forward_hook(self._classifier_hook)
        forward = head.forward
        while getattr(forward, '_seg_head_recorder', None) is self:
            forward = forward.__wrapped__
        head.forward = self._wrap(head, forward)

    def _classifier_hook(self, module, inputs, output):
        if self._recording:
            self._calls.append((inputs[0], output))

    def _wrap(self, head: nn.Module, forward: Callable) -> Callable:

        def recorded_forward(*args, **kwargs):
            if not self._recording:
                return forward(*args, **kwargs)
            self._calls = []
            output = forward(*args, **kwargs)
            logits = dense_logits(head, output)
            self.data_buffer.append(logits if self.kind == 'logits' else
                                    self._feature(logits, output))
            self._calls = []
            return output

        recorded_forward._seg_head_recorder = self
        recorded_forward.__wrapped__ = forward
        return recorded_forward

    def _feature(self, logits: torch.Tensor, output: Any) -> torch.Tensor:
        if not self._calls:
            raise RuntimeError(f'{self.family}: the classifier did not run in this forward')
        main = output[MAIN_OUTPUT.get(self.head, 0)] \
            if isinstance(output, (list, tuple)) else output
        feature = next((inp for inp, out in self._calls if out is main), self._calls[-1][0])
        if feature.dim() == 3:  # Segmenter: (N, HW, C) patch embeddings -> (N, C, H, W)
            n, _, c = feature.shape
            feature = feature.transpose(1, 2).reshape(n, c, *logits.shape[-2:])
        return feature



@TASK_UTILS.register_module()
class SegLogitsRecorder(_SegHeadRecorder):
    """Config type ``'SegLogits'``: the (N, K, H, W) segmentation logits of any MMSeg
    segmentor (see the module docstring for each head family). ``source`` is the segmentor
    sub-module that owns ``decode_head`` ('' = the model itself)."""

    kind = 'logits'


@TASK_UTILS.register_module()
class SegHeadFeatureRecorder(_SegHeadRecorder):
    """Config type ``'SegHeadFeature'``: the (N, C, H, W) feature the final classifier of any
    MMSeg segmentor sees (input of ``conv_seg``; Segmenter: its patch embeddings)."""

    kind = 'feature'

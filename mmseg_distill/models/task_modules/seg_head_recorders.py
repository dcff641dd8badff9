"""Recorders for "the segmentation logits" and "the feature the classifier sees" of any MMSeg
segmentor, whatever its head family.

MMSeg heads call ``self.forward`` directly, so module hooks on a head never fire, and several
families have no ``decode_head.conv_seg`` that outputs the logits. These recorders find the
head that makes the final dense prediction, wrap that head instance's ``forward`` (the instance
only: the other model and other instances of the class are untouched) and turn what it returns
into (N, K, H, W) logits the way MMSeg's own prediction does. Which head that is, how its
output becomes logits and which module is its classifier is ``models/head_families.py``'s
knowledge (its docstring has the table). Where a family has no classifier feature the recorder
says so at build time.
"""
from typing import Any, Callable, List, Optional, Tuple

import torch
from mmrazor.models.task_modules.recorder.base_recorder import BaseRecorder
from mmrazor.registry import TASK_UTILS
from torch import nn

from ..head_families import classifier_module, dense_logits, head_family, main_output
from .recorders import RecordingFlag


class SegHeadRecorder(RecordingFlag, BaseRecorder):
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
        family = head_family(model)
        head, self.family, self.head = family.head, family.name, family.type_name
        if self.kind == 'feature':
            if not family.has_classifier_feature:
                raise ValueError(
                    f'{self.family}: the classifier feature is not available for this head '
                    '(it classifies masks or kernels, not per-pixel features). Record a module '
                    'of it by name instead; tools/inspect_pair.py lists them.')
            classifier = classifier_module(family)
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
                                    self._feature(head, logits, output))
            self._calls = []
            return output

        recorded_forward._seg_head_recorder = self
        recorded_forward.__wrapped__ = forward
        return recorded_forward

    def _feature(self, head: nn.Module, logits: torch.Tensor, output: Any) -> torch.Tensor:
        if not self._calls:
            raise RuntimeError(f'{self.family}: the classifier did not run in this forward')
        main = main_output(head, output)
        feature = next((inp for inp, out in self._calls if out is main), self._calls[-1][0])
        if feature.dim() == 3:  # Segmenter: (N, HW, C) patch embeddings -> (N, C, H, W)
            n, _, c = feature.shape
            feature = feature.transpose(1, 2).reshape(n, c, *logits.shape[-2:])
        return feature


@TASK_UTILS.register_module()
class SegLogitsRecorder(SegHeadRecorder):
    """Config type ``'SegLogits'``: the (N, K, H, W) segmentation logits of any MMSeg
    segmentor (see the module docstring for each head family). ``source`` is the segmentor
    sub-module that owns ``decode_head`` ('' = the model itself)."""

    kind = 'logits'


@TASK_UTILS.register_module()
class SegHeadFeatureRecorder(SegHeadRecorder):
    """Config type ``'SegHeadFeature'``: the (N, C, H, W) feature the final classifier of any
    MMSeg segmentor sees (input of ``conv_seg``; Segmenter: its patch embeddings)."""

    kind = 'feature'

"""Run a frozen MMSeg teacher for its records only: no loss, auxiliary heads only when read.

MMRazor runs the teacher with ``mode='loss'``: decode-head and auxiliary-head losses are
computed and thrown away. For an ``EncoderDecoder`` (or ``CascadeEncoderDecoder``) whose heads
produce their training output with ``forward`` (``BaseDecodeHead.loss`` is ``forward`` then
``loss_by_feat``), ``mode='tensor'`` runs exactly the same modules on the same inputs, minus the
losses and the auxiliary heads, so module records are the same values.
"""
from typing import Optional

import torch
from mmrazor.models.task_modules.recorder import ModuleInputsRecorder, ModuleOutputsRecorder
from torch import nn

from ..head_families import heads_of, trains_with_forward
from ..task_modules.recorders import GroundTruthSegRecorder
from ..task_modules.seg_head_recorders import SegHeadRecorder

_SAFE_RECORDERS = (ModuleOutputsRecorder, ModuleInputsRecorder, GroundTruthSegRecorder,
                   SegHeadRecorder)


def reads_auxiliary_head(recorders) -> bool:
    return any(getattr(r, 'source', '').split('.')[0] == 'auxiliary_head'
               for r in recorders.recorders.values())


def fast_path_blocker(teacher: nn.Module, recorders, trainable: bool) -> Optional[str]:
    """Why the fast path would record other values than ``mode='loss'``; None if it would not."""
    from mmseg.models.segmentors import CascadeEncoderDecoder, EncoderDecoder
    if trainable:
        return 'the teacher is trainable (its loss is used)'
    if not isinstance(teacher, EncoderDecoder) or \
            type(teacher)._forward not in (EncoderDecoder._forward, CascadeEncoderDecoder._forward):
        return f'{type(teacher).__name__} is not an EncoderDecoder with the standard forward'
    heads = heads_of(teacher.decode_head)
    if reads_auxiliary_head(recorders):
        heads += heads_of(getattr(teacher, 'auxiliary_head', None))
    for head in heads:
        if not trains_with_forward(head):
            return (f'{type(head).__name__} computes its training output in its own loss() '
                    '(e.g. sampled points), which mode=tensor would not reproduce')
    others = [f'{name} ({type(r).__name__})' for name, r in recorders.recorders.items()
              if not isinstance(r, _SAFE_RECORDERS)]
    if others:
        return f'teacher recorders {others} may record code that only mode=loss runs'
    return None


def run_teacher_fast(teacher: nn.Module, inputs: torch.Tensor, data_samples, recorders) -> None:
    """``mode='tensor'``, plus the auxiliary head(s) on the same features when recorded."""
    auxiliary = heads_of(getattr(teacher, 'auxiliary_head', None)) \
        if reads_auxiliary_head(recorders) else []
    if not auxiliary:
        teacher(inputs, data_samples, mode='tensor')
        return
    features = []
    last = teacher.neck if teacher.with_neck else teacher.backbone
    handle = last.register_forward_hook(lambda module, args, output: features.append(output))
    try:
        teacher(inputs, data_samples, mode='tensor')
    finally:
        handle.remove()
    for head in auxiliary:
        head.forward(features[-1])

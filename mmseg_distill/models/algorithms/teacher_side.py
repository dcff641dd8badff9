"""The frozen teacher's side of a distillation step, owned by one object.

What a step does with the teacher (run it for its records only, in its precision and memory
format, by MMSeg's inference path where that records the same values) and with the connectors
that only transform its records and have nothing to train (KA's stage-1 encoder) is decided
here; ``SegmentationDistill`` and ``SegmentationDistiller`` ask this object instead of
carrying the settings themselves.
"""
import contextlib
from typing import Iterable, Optional

import torch
from mmengine.logging import print_log
from torch import nn

from ..utils import TEACHER_PRECISIONS, device_type_of, teacher_autocast, to_float32
from .teacher_fast_path import fast_path_blocker, run_teacher_fast


class TeacherSide:
    """The frozen teacher and how a step runs it.

    Args:
        teacher: the frozen teacher model.
        recorders: the distiller's teacher recorder manager.
        precision: 'fp32' (default: autocast off, also inside the step's AMP context), 'fp16'
            or 'bf16' (autocast).
        channels_last: store the teacher (and the given connectors) in channels-last format.
        fast_path: run MMSeg's inference path where it records what ``mode='loss'`` records.
        blocker_reasons: extra reasons that rule the fast path out (e.g. deliveries, which
            record calls that only ``mode='loss'`` makes).
    """

    def __init__(self, teacher: nn.Module, recorders, precision: str = 'fp32',
                 channels_last: bool = False, fast_path: bool = True,
                 blocker_reasons: Iterable[str] = ()):
        if precision not in TEACHER_PRECISIONS:
            raise ValueError(f'teacher_precision must be one of {sorted(TEACHER_PRECISIONS)}, '
                             f'got {precision!r}')
        self.teacher = teacher
        self.recorders = recorders
        self.precision = precision
        self.channels_last = channels_last
        self.fast_path = fast_path
        reasons = [r for r in blocker_reasons if r]
        blocker = fast_path_blocker(teacher, recorders, trainable=False)
        reasons += [blocker] if blocker else []
        self.fast_path_blocker: Optional[str] = '; '.join(reasons) or None
        if channels_last:
            teacher.to(memory_format=torch.channels_last)
        if fast_path and self.fast_path_blocker:
            print_log(f'SegmentationDistill: teacher fast path off: {self.fast_path_blocker}',
                      logger='current')

    @property
    def uses_fast_path(self) -> bool:
        return self.fast_path and not self.fast_path_blocker

    def adopt(self, modules: Iterable[nn.Module]) -> None:
        """Frozen modules that work on teacher records only: same memory format."""
        if self.channels_last:
            for module in modules:
                module.to(memory_format=torch.channels_last)

    def context(self, device_type: str):
        """The context teacher-side work runs in (autocast in ``precision``, or none)."""
        return teacher_autocast(device_type, self.precision)

    def apply(self, module: nn.Module, data):
        """A frozen teacher-side module on a teacher record: in the teacher's precision,
        handed on in float32 (a target, not an activation)."""
        device_type = device_type_of(data)
        with self.context(device_type) if device_type else contextlib.nullcontext():
            return to_float32(module(data))

    def run(self, inputs: torch.Tensor, data_samples) -> None:
        """Run the teacher for its records (no gradient), as configured."""
        if self.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        with torch.no_grad(), self.context(inputs.device.type):
            if self.uses_fast_path:
                run_teacher_fast(self.teacher, inputs, data_samples, self.recorders)
            else:
                self.teacher(inputs, data_samples, mode='loss')

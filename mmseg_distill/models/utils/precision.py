"""Precision policy shared by every loss: compute in float32 whatever the inputs are.

Under ``torch.autocast`` the inputs of a loss arrive as fp16/bf16 and matmuls would run in half
precision again; similarity matrices and softmaxes over thousands of positions lose too much
there (fp16 overflows in sums of squares). Losses therefore run with autocast disabled and
half-precision tensors promoted to float32. float64 inputs stay float64 (gradcheck).
The frozen teacher's side of a step (teacher and frozen teacher-side connectors) is the
exception: ``teacher_autocast`` runs it in the configured ``teacher_precision``.
"""
import contextlib
import functools

import torch

_HALF = (torch.float16, torch.bfloat16)


def to_float32(value):
    """Promote half-precision tensors (also inside lists/tuples) to float32."""
    if isinstance(value, torch.Tensor):
        return value.float() if value.dtype in _HALF else value
    if isinstance(value, (list, tuple)):
        return type(value)(to_float32(v) for v in value)
    return value


def _device_type(args, kwargs):
    for value in list(args) + list(kwargs.values()):
        if isinstance(value, torch.Tensor):
            return value.device.type
        if isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, torch.Tensor):
                    return item.device.type
    return 'cpu'


def float32_compute(forward):
    """Decorate a loss ``forward``: autocast off, half tensors promoted, result float32+."""

    @functools.wraps(forward)
    def wrapper(self, *args, **kwargs):
        device_type = _device_type(args, kwargs)
        with torch.autocast(device_type=device_type, enabled=False):
            return forward(self, *to_float32(args),
                           **{k: to_float32(v) for k, v in kwargs.items()})

    return wrapper


# teacher_precision of SegmentationDistill: what the frozen teacher's side of a step runs in
TEACHER_PRECISIONS = {'fp32': torch.float32, 'fp16': torch.float16, 'bf16': torch.bfloat16}


def teacher_autocast(device_type: str, precision: str):
    """The context the frozen teacher's side of a step runs in: autocast in ``precision``, or
    nothing for 'fp32' (an outer AMP context then still applies)."""
    if precision == 'fp32':
        return contextlib.nullcontext()
    return torch.autocast(device_type, dtype=TEACHER_PRECISIONS[precision])

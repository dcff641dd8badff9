"""Precision policy shared by every loss: compute in float32 whatever the inputs are.

Under ``torch.autocast`` the inputs of a loss arrive as fp16/bf16 and matmuls would run in half
precision again; similarity matrices and softmaxes over thousands of positions lose too much
there (fp16 overflows in sums of squares). Losses therefore run with autocast disabled and
half-precision tensors promoted to float32. float64 inputs stay float64 (gradcheck).
The frozen teacher's side of a step (teacher and frozen teacher-side connectors) is the
exception: ``teacher_autocast`` runs it in the configured ``teacher_precision``.
"""
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


def device_type_of(value) -> str:
    """The device type ('cpu', 'cuda', ...) of the first tensor in ``value`` (a tensor, or
    nested lists / tuples / dicts of them); '' where it holds none."""
    if isinstance(value, torch.Tensor):
        return value.device.type
    items = value.values() if isinstance(value, dict) else \
        value if isinstance(value, (list, tuple)) else ()
    for item in items:
        found = device_type_of(item)
        if found:
            return found
    return ''


def _device_type(args, kwargs):
    return device_type_of([list(args), kwargs]) or 'cpu'


def float32_compute(forward):
    """Decorate a loss ``forward`` or a functional loss: autocast off, half tensors promoted,
    result float32+ (arguments that are not tensors, the module included, pass unchanged)."""

    @functools.wraps(forward)
    def wrapper(*args, **kwargs):
        device_type = _device_type(args, kwargs)
        with torch.autocast(device_type=device_type, enabled=False):
            return forward(*to_float32(args), **{k: to_float32(v) for k, v in kwargs.items()})

    return wrapper


# teacher_precision of SegmentationDistill: what the frozen teacher's side of a step runs in
TEACHER_PRECISIONS = {'fp32': torch.float32, 'fp16': torch.float16, 'bf16': torch.bfloat16}


def teacher_autocast(device_type: str, precision: str):
    """The context the frozen teacher's side of a step runs in: autocast in ``precision``;
    for 'fp32', autocast switched off, so the teacher runs in float32 under ``--amp`` too (the
    step's AMP context would otherwise run it in half precision)."""
    if precision == 'fp32':
        return torch.autocast(device_type, enabled=False)
    return torch.autocast(device_type, dtype=TEACHER_PRECISIONS[precision])

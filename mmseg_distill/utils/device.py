"""The device the tools run models on (``--device`` of the pair tool, calibration and the
transfer measurement), and moving a batch to a model's device."""
from typing import Optional, Sequence, Tuple

import torch


def tool_device(name: Optional[str] = None) -> torch.device:
    """``name`` (``cpu``, ``cuda``, ``cuda:1``), or without one CUDA where a device is visible,
    else the CPU. A CUDA device that is not there is an error saying what is."""
    if not name:
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    device = torch.device(name)
    if device.type == 'cuda':
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f'--device {name}: no CUDA device is visible to this process; '
                             'use --device cpu')
        if (device.index or 0) >= count:
            raise ValueError(f'--device {name}: {count} CUDA device(s) visible to this process '
                             '(CUDA_VISIBLE_DEVICES, driver); use --device cpu, or a device '
                             f'index below {count}')
    return device


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of a model's first parameter or buffer (the CPU for a model with neither)."""
    for tensor in list(model.parameters()) + list(model.buffers()):
        return tensor.device
    return torch.device('cpu')


def batch_to(batch: Tuple[torch.Tensor, Sequence], device: torch.device):
    """(inputs, data samples) on ``device``; the data samples' tensors too (their ``.to``)."""
    inputs, samples = batch
    return inputs.to(device), [sample.to(device) for sample in samples]

import logging

import torch
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm
from mmrazor.registry import MODEL_WRAPPERS
from torch import nn

from ...utils.quiet import DDP_BROADCAST_NOTE, quiet


def has_sync_batchnorm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.SyncBatchNorm) for m in module.modules())


@MODEL_WRAPPERS.register_module()
class DeviceAgnosticDDP(MMDistributedDataParallel):
    """MMEngine's DDP wrapper that also works for a model on CPU.

    MMEngine always passes ``device_ids=[LOCAL_RANK]``, which DistributedDataParallel rejects
    for CPU modules; without CUDA they are dropped. Model-zoo configs use SyncBN, which
    DistributedDataParallel refuses on CPU ("SyncBatchNorm layers only work with GPU
    modules"): without CUDA every SyncBN layer becomes a plain BatchNorm (each process then
    normalises with its own batch statistics), logged once. The runner builds the optimizer
    after wrapping, so it sees the converted layers. Where CUDA is available it is exactly
    ``MMDistributedDataParallel``. Every method fragment sets it as ``model_wrapper_cfg``.
    """

    def __init__(self, module, device_ids=None, **kwargs):
        if not torch.cuda.is_available():
            device_ids = None
            if has_sync_batchnorm(module):
                print_log('DeviceAgnosticDDP: no CUDA, so the SyncBatchNorm layers of the '
                          'model run as BatchNorm (per-process batch statistics); '
                          'DistributedDataParallel supports SyncBN on GPUs only',
                          logger='current', level=logging.WARNING)
                module = revert_sync_batchnorm(module)
        with quiet(DDP_BROADCAST_NOTE):
            super().__init__(module=module, device_ids=device_ids, **kwargs)


__all__ = ['DeviceAgnosticDDP', 'has_sync_batchnorm']

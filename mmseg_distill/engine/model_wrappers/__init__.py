import atexit
import logging
import sys

import torch
import torch.distributed as dist
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm
from mmrazor.registry import MODEL_WRAPPERS
from torch import nn

from ...utils.quiet import DDP_BROADCAST_NOTE, quiet


def has_sync_batchnorm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.SyncBatchNorm) for m in module.modules())


def destroy_gloo_group_at_exit() -> None:
    """Destroy the default process group before the interpreter is torn down, when it is gloo's
    and the program ends without an exception.

    MMEngine's runner never calls ``destroy_process_group``. Gloo's worker threads then outlive
    the interpreter, and now and then (1 run in 12 of a 40-iteration baseline on a loaded
    2-core machine) a process aborts after training finished ("terminate called without an
    active exception", SIGABRT), so the launcher reports a failed run. After an uncaught
    exception (``sys.last_value`` set) the group is left alone: destroying it while a peer may
    still be inside a collective can hang, and the launcher stops the other ranks anyway.
    """
    if getattr(sys, 'last_value', None) is not None:
        return
    if dist.is_available() and dist.is_initialized() and dist.get_backend() == 'gloo':
        dist.destroy_process_group()


_exit_handler_registered = False


def register_gloo_cleanup() -> None:
    global _exit_handler_registered
    if not _exit_handler_registered:
        atexit.register(destroy_gloo_group_at_exit)
        _exit_handler_registered = True


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
    A gloo process group is destroyed at a clean exit (``destroy_gloo_group_at_exit``).

    Every process of a run updates the running statistics of its plain BatchNorm layers from
    its own batches: a model-zoo student whose SyncBN runs as BatchNorm here, and any student
    with BatchNorm on GPUs too (STDC, BiSeNet, ... configs; the fragments, like MMEngine, set
    ``broadcast_buffers=False``, and with ``True`` DDP copies rank 0's at the start of each
    forward, so the ranks still part at the last step). At validation the ranks then hold
    different statistics; rank 0's are the ones the checkpoint and the exported student carry,
    and validation on the other ranks would score a model nobody saved (a 2-process STDC run's
    last validation read 26.17 where ``mim test`` of its checkpoint read 25.79). So when the
    wrapper is switched to eval mode (the validation and test loops call ``model.eval()`` on
    every rank) in a run of several processes, every buffer is broadcast from rank 0 first:
    rank 0 keeps its own, buffers that are equal anyway (SyncBN's, a frozen teacher's) stay as
    they are, models without buffers (GroupNorm, LayerNorm) are untouched, and training is
    unaffected (BatchNorm in train mode normalises with batch statistics). The cost is one
    broadcast of the buffers per validation.
    """

    def __init__(self, module, device_ids=None, **kwargs):
        reverted = False
        if not torch.cuda.is_available():
            device_ids = None
            if has_sync_batchnorm(module):
                print_log('DeviceAgnosticDDP: no CUDA, so the SyncBatchNorm layers of the '
                          'model run as BatchNorm (per-process batch statistics); '
                          'DistributedDataParallel supports SyncBN on GPUs only',
                          logger='current', level=logging.WARNING)
                module = revert_sync_batchnorm(module)
                reverted = True
        with quiet(DDP_BROADCAST_NOTE):
            super().__init__(module=module, device_ids=device_ids, **kwargs)
        self.reverted_sync_batchnorm = reverted
        register_gloo_cleanup()

    def train(self, mode: bool = True):
        super().train(mode)
        if not mode and dist.is_initialized() and dist.get_world_size() > 1:
            with torch.no_grad():
                for buffer in self.module.buffers():
                    dist.broadcast(buffer, src=0)
        return self


__all__ = ['DeviceAgnosticDDP', 'destroy_gloo_group_at_exit', 'has_sync_batchnorm']

import torch
from mmengine.model import MMDistributedDataParallel
from mmrazor.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class DeviceAgnosticDDP(MMDistributedDataParallel):
    """MMEngine's DDP wrapper that also works for a model on CPU.

    MMEngine always passes ``device_ids=[LOCAL_RANK]``, which DistributedDataParallel rejects
    for CPU modules; without CUDA they are dropped. Where CUDA is available it is exactly
    ``MMDistributedDataParallel``. Every method fragment sets it as ``model_wrapper_cfg``.
    """

    def __init__(self, module, device_ids=None, **kwargs):
        if not torch.cuda.is_available():
            device_ids = None
        super().__init__(module=module, device_ids=device_ids, **kwargs)


__all__ = ['DeviceAgnosticDDP']

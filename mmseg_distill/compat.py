"""Fixes for running MMEngine 0.10 / MMRazor 1.0 on current PyTorch, from this project's code.

The two fixes that must act before any config is read (MMRazor's quantization import and the
launcher's ``--local-rank``) live in ``mmseg_distill_boot`` (a start-up hook). The ones here act
when ``mmseg_distill`` is imported, which every project config does through ``custom_imports``
before the runner loads any checkpoint:

- torch >= 2.6 loads checkpoints with ``weights_only=True`` by default, and MMEngine 0.10.7
  calls ``torch.load`` without the argument: resuming, or ``load_from`` a full training
  checkpoint, fails on the non-tensor objects MMEngine itself saved (its message hub's history
  buffers, numpy scalars and arrays). Rather than switching the safety off
  (``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``), exactly what MMEngine writes is allow-listed,
  including a restricted stand-in for the one ``getattr`` it pickles.

- MMEngine 0.10's ``pytorch`` launcher requires CUDA; ``allow_cpu_distributed`` lets it start
  on CPU-only machines with the gloo backend (NCCL, the configs' default, needs GPUs: it is
  replaced by gloo there, with a log line; inert where CUDA exists), and ``DeviceAgnosticDDP``
  (the fragments' ``model_wrapper_cfg``) drops the CUDA ``device_ids`` there. So
  ``--launcher pytorch`` runs on a CPU-only machine with no option to change.

The in-place fix for recorded features is in ``SegmentationDistiller`` (it needs the models).
"""
import pickle

import numpy as np
import torch

_APPLIED = False


def history_buffer_getattr(obj, name):
    """The only ``getattr`` an MMEngine checkpoint needs, and nothing more.

    ``HistoryBuffer`` pickles its statistics (``min``, ``max``, ``mean``, ``current``) as
    ``getattr(HistoryBuffer, name)``. Allow-listing the real ``builtins.getattr`` would let a
    crafted checkpoint reach any attribute of any allowed object, i.e. undo ``weights_only``;
    this stand-in is registered under that name instead and resolves public methods of
    ``HistoryBuffer`` alone.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    if obj is not HistoryBuffer or not isinstance(name, str) or name.startswith('_'):
        raise pickle.UnpicklingError(
            f'mmseg_distill: refusing getattr({obj!r}, {name!r}) while loading a checkpoint '
            'with weights_only=True; only HistoryBuffer statistics methods are allowed')
    return getattr(HistoryBuffer, name)


def mmengine_checkpoint_globals() -> list:
    """Globals found in checkpoints written by MMEngine's runner (besides tensors)."""
    from mmengine.logging.history_buffer import HistoryBuffer
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
        numpy_module = 'numpy._core.multiarray'
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
        numpy_module = 'numpy.core.multiarray'
    found = [HistoryBuffer, np.ndarray, np.dtype, _reconstruct, scalar,
             (history_buffer_getattr, 'builtins.getattr')]
    # numpy >= 1.25 pickles dtypes by their class (numpy.dtypes.Float64DType, ...)
    found += [type(np.dtype(name)) for name in
              ('float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8',
               'bool')]
    # checkpoints written under numpy 1.x name the helpers by their old module
    found += [(_reconstruct, 'numpy.core.multiarray._reconstruct'),
              (scalar, 'numpy.core.multiarray.scalar')] if numpy_module != \
        'numpy.core.multiarray' else []
    return found


def allow_mmengine_checkpoints() -> bool:
    """Allow-list MMEngine's checkpoint content for ``torch.load(weights_only=True)``."""
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:  # torch < 2.4 loads with weights_only=False anyway
        return False
    add_safe_globals(mmengine_checkpoint_globals())
    return True


def allow_cpu_distributed() -> None:
    """Let MMEngine's ``pytorch`` launcher start on machines without CUDA (gloo backend).

    MMEngine 0.10's ``_init_dist_pytorch`` calls ``torch.cuda.set_device`` unconditionally, so
    a CPU-only machine cannot run ``--launcher pytorch`` at all (CI, debugging a multi-process
    config on a laptop). Where CUDA is available the original function runs unchanged.
    """
    import mmengine.dist.utils as dist_utils

    original = dist_utils._init_dist_pytorch
    if getattr(original, 'mmseg_distill_cpu', False):
        return

    def init_dist_pytorch(backend, init_backend='torch', **kwargs):
        if torch.cuda.is_available() or init_backend != 'torch':
            return original(backend, init_backend=init_backend, **kwargs)
        if backend == 'nccl':
            from mmengine.logging import print_log
            print_log('mmseg_distill: no CUDA device, so the distributed backend is gloo '
                      "instead of the config's nccl (env_cfg.dist_cfg.backend)",
                      logger='current')
            backend = 'gloo'
        torch.distributed.init_process_group(backend=backend, **kwargs)

    init_dist_pytorch.mmseg_distill_cpu = True
    dist_utils._init_dist_pytorch = init_dist_pytorch


def apply() -> None:
    global _APPLIED
    if _APPLIED:
        return
    allow_mmengine_checkpoints()
    allow_cpu_distributed()
    _APPLIED = True

from .batches import random_seg_batch
from .checkpoint import load_state_dict_under, state_dict_mismatch
from .config import load_config


def register_all_modules(init_default_scope: bool = True) -> None:
    """OpenMMLab's entry point: register the package's modules (and MMSeg's and MMRazor's, which
    its registries of scope ``mmseg_distill`` build from); with ``init_default_scope``, make
    ``mmseg_distill`` the default scope."""
    import mmrazor.utils
    import mmseg.utils

    import mmseg_distill.registry  # noqa: F401  (imports the package, registering it)
    mmseg.utils.register_all_modules(False)
    mmrazor.utils.register_all_modules(False)
    if init_default_scope:
        from mmengine.registry import DefaultScope
        if DefaultScope.get_current_instance() is None or \
                not DefaultScope.check_instance_created('mmseg_distill'):
            DefaultScope.get_instance('mmseg_distill', scope_name='mmseg_distill')


__all__ = ['load_state_dict_under', 'state_dict_mismatch', 'random_seg_batch',
           'register_all_modules', 'load_config']

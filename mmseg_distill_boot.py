"""Interpreter start-up fixes for running MMRazor 1.0.0 on current PyTorch.

Installed together with ``mmseg_distill_boot.pth``, so it runs in every interpreter of the
environment, *before* a script such as MMRazor's ``tools/train.py`` (launched by
``mim train mmrazor``) imports anything. That script calls ``register_all_modules`` before it
reads the config, so a fix that waits for ``custom_imports`` comes too late.

It must cost nothing at start-up: only ``sys`` and ``os`` are touched here; nothing is imported
eagerly, torch included. Four fixes, each inert unless its problem is actually present:

1. ``mmrazor.structures.quantization`` (imported by ``import mmrazor.models``) imports helpers
   that torch >= 2.0 removed from ``torch.ao.quantization``. A meta-path finder lets the real
   module import first; only if that raises ``ImportError`` does it complete the module with
   stand-ins for the two names the rest of MMRazor imports from it (``BackendConfigs``,
   ``QConfigHandler``). Distillation never uses them; quantization algorithms get an error that
   says why when they try to. Where torch and MMRazor are compatible the real module is used
   untouched.
2. ``torch.distributed.launch`` (what ``mim train --launcher pytorch`` runs) passes
   ``--local-rank=N`` since torch 2.0, while MMRazor's train script only accepts
   ``--local_rank``. For that script alone, the spelling is rewritten in ``sys.argv``.
3. MMEngine resolves ``package::path`` configs only for a fixed list of OpenMMLab packages, so
   ``_base_ = ['mmseg_distill::_base_/distill/dsd.py']`` failed outside this repository. When
   ``mmengine.config.utils`` is imported, ``mmseg_distill`` is added to that list; when
   ``mmengine.utils.package_utils`` is imported, its ``get_installed_path`` learns where the
   ``mmseg_distill`` package really is (an editable install keeps it in the source tree, where
   the default lookup, which assumes site-packages, does not look). Both act only on
   ``mmseg_distill`` and only once those modules are imported by whoever imports them.
4. The tested stack needs setuptools < 81 (``pkg_resources``, which mmcv's build, mmengine and
   openmim import), and setuptools 80 warns "pkg_resources is deprecated as an API" at every
   import of it: several times per command, in every process. That one message is filtered
   (``warnings`` is loaded at start-up anyway). Not when the user chose warning filters
   themselves (``-W``, ``PYTHONWARNINGS``) or set ``MMSEG_DISTILL_VERBOSE=1``.
"""
import sys

QUANTIZATION_MODULE = 'mmrazor.structures.quantization'


class _QuantizationUnavailable:
    """Stand-in for ``mmrazor.structures.quantization.QConfigHandler``."""

    reason = ''

    def __init__(self, *args, **kwargs):
        raise RuntimeError(
            'MMRazor quantization is not available with this PyTorch: '
            f'{self.reason}. mmseg_distill only replaces it so that distillation imports; '
            'use a torch/mmrazor pair that supports quantization for quantization work.')


class _FallbackLoader:
    """Runs the real loader; on ImportError finishes the module with stand-ins."""

    def __init__(self, real_loader):
        self.real_loader = real_loader

    def create_module(self, spec):
        return self.real_loader.create_module(spec)

    def exec_module(self, module):
        try:
            self.real_loader.exec_module(module)
        except ImportError as error:
            # Drop half-imported children so that nothing later picks up a broken one.
            prefix = QUANTIZATION_MODULE + '.'
            for name in [n for n in sys.modules if n.startswith(prefix)]:
                del sys.modules[name]
            handler = type('QConfigHandler', (_QuantizationUnavailable, ),
                           {'reason': f'{type(error).__name__}: {error}'})
            module.BackendConfigs = {}
            module.QConfigHandler = handler
            module.MMSEG_DISTILL_FALLBACK = str(error)


class _AfterLoader:
    """Runs the real loader, then ``callback(module)``."""

    def __init__(self, real_loader, callback):
        self.real_loader = real_loader
        self.callback = callback

    def create_module(self, spec):
        return self.real_loader.create_module(spec)

    def exec_module(self, module):
        self.real_loader.exec_module(module)
        self.callback(module)


PACKAGE = 'mmseg_distill'


def register_config_package(module):
    """``mmengine.config.utils``: accept ``mmseg_distill::`` config paths."""
    module.MODULE2PACKAGE.setdefault(PACKAGE, PACKAGE)


def locate_package(module):
    """``mmengine.utils.package_utils``: find ``mmseg_distill`` where it is importable from."""
    default = module.get_installed_path

    def get_installed_path(package):
        if package == PACKAGE:
            import importlib.util
            import os.path
            spec = importlib.util.find_spec(PACKAGE)
            if spec is not None and spec.origin:
                return os.path.dirname(spec.origin)
        return default(package)

    get_installed_path.__doc__ = default.__doc__
    module.get_installed_path = get_installed_path


AFTER_IMPORT = {
    'mmengine.config.utils': register_config_package,
    'mmengine.utils.package_utils': locate_package,
}


class QuantizationFallbackFinder:
    """Meta-path finder that wraps the loaders of the few modules above; ignores all others."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != QUANTIZATION_MODULE and fullname not in AFTER_IMPORT:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _FallbackLoader(spec.loader) \
                        if fullname == QUANTIZATION_MODULE else \
                        _AfterLoader(spec.loader, AFTER_IMPORT[fullname])
                return spec
        return None


def _is_mmrazor_train_script(argv0):
    normalized = argv0.replace('\\', '/')
    return normalized.endswith(('mmrazor/.mim/tools/train.py', 'mmrazor/tools/train.py',
                                'mmrazor/.mim/tools/test.py', 'mmrazor/tools/test.py'))


def fix_local_rank_argv(argv):
    """Rewrite ``--local-rank`` (torch >= 2.0 launcher) to ``--local_rank`` in place."""
    if not argv or not _is_mmrazor_train_script(argv[0]):
        return
    for index, arg in enumerate(argv):
        if arg == '--local-rank' or arg.startswith('--local-rank='):
            argv[index] = '--local_rank' + arg[len('--local-rank'):]


PKG_RESOURCES_WARNING = 'pkg_resources is deprecated as an API'


def quiet_pkg_resources_warning():
    import os
    import warnings
    if sys.warnoptions or os.environ.get('MMSEG_DISTILL_VERBOSE'):
        return
    warnings.filterwarnings('ignore', message=PKG_RESOURCES_WARNING, category=UserWarning)


def install():
    if not any(isinstance(f, QuantizationFallbackFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, QuantizationFallbackFinder())
    fix_local_rank_argv(getattr(sys, 'argv', None))
    quiet_pkg_resources_warning()


install()

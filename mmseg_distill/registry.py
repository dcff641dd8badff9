"""Registries of the ``mmseg_distill`` scope.

A config loaded through ``mmseg_distill::`` gets ``_scope_='mmseg_distill'`` stamped on its
entries (MMEngine does that for every ``package::`` base), so MMEngine looks for a registry of
that scope when it builds a hook, a dataset, a metric, a visualiser, ... from it. Each registry
here is that node of MMEngine's registry tree: a child of MMSeg's registry of its kind, which
also looks in MMRazor's (where the distillation algorithms, losses, connectors, recorders and
hooks live) when a name is not found there. So every shipped config, and a user's config
inheriting one through ``mmseg_distill::``, builds whatever MMSeg, MMRazor or MMEngine
provide, with or without a scope prefix (``mmrazor.RNGStateHook`` still works).

The project registers its own objects in MMRazor's registries (``mmrazor.registry``): importing
this module registers them, since Python imports the package (``mmseg_distill/__init__.py``)
before any module of it.
"""
import mmrazor.registry as mmrazor_registry
import mmseg.registry as mmseg_registry
from mmengine.registry import Registry

SCOPE = 'mmseg_distill'


class HostRegistry(Registry):
    """A registry of this scope: its parent chain first (the primary host), then ``also``."""

    def __init__(self, name: str, parent: Registry, also: Registry):
        # the hosts' lazy-import locations: a lookup here imports what a lookup there would
        super().__init__(name, parent=parent, scope=SCOPE,
                         locations=['mmseg_distill'] + list(parent._locations) +
                         list(also._locations))
        self.also = also

    def get(self, key: str):
        try:
            found = super().get(key)
        except RuntimeError:  # MMEngine's "Failed to get": not in this registry's chain
            found = None
        scope, name = self.split_scope_key(key)
        if found is None and scope in (None, SCOPE):
            found = self.also.get(name)
        return found


def _host(name: str, primary, secondary, attribute: str) -> HostRegistry:
    return HostRegistry(name, parent=getattr(primary, attribute),
                        also=getattr(secondary, attribute))


# MMSeg's registry first, MMRazor's where MMSeg has no such name: a plain MMSeg model or
# pipeline inherited through this scope builds exactly as under `mmseg` (the two share names,
# e.g. CrossEntropyLoss with other arguments), and the distillation objects, which only MMRazor
# has, are still found. The project's distillation fragments name `_scope_='mmrazor'` on their
# models, so those build in MMRazor's scope as before.
_BOTH = ('RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'DATASETS', 'DATA_SAMPLERS',
         'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'OPTIMIZERS',
         'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'METRICS',
         'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS')

_registries = {}
for _attribute in _BOTH:
    _registries[_attribute] = _host(getattr(mmseg_registry, _attribute).name, mmseg_registry,
                                    mmrazor_registry, _attribute)
# MMSeg-only registries (no MMRazor counterpart)
for _attribute in ('EVALUATOR', 'LOG_PROCESSORS', 'INFERENCERS'):
    _parent = getattr(mmseg_registry, _attribute)
    _registries[_attribute] = Registry(_parent.name, parent=_parent, scope=SCOPE,
                                       locations=['mmseg_distill'] + list(_parent._locations))

RUNNERS = _registries['RUNNERS']
RUNNER_CONSTRUCTORS = _registries['RUNNER_CONSTRUCTORS']
LOOPS = _registries['LOOPS']
HOOKS = _registries['HOOKS']
DATASETS = _registries['DATASETS']
DATA_SAMPLERS = _registries['DATA_SAMPLERS']
TRANSFORMS = _registries['TRANSFORMS']
MODELS = _registries['MODELS']
MODEL_WRAPPERS = _registries['MODEL_WRAPPERS']
WEIGHT_INITIALIZERS = _registries['WEIGHT_INITIALIZERS']
OPTIMIZERS = _registries['OPTIMIZERS']
OPTIM_WRAPPERS = _registries['OPTIM_WRAPPERS']
OPTIM_WRAPPER_CONSTRUCTORS = _registries['OPTIM_WRAPPER_CONSTRUCTORS']
PARAM_SCHEDULERS = _registries['PARAM_SCHEDULERS']
METRICS = _registries['METRICS']
EVALUATOR = _registries['EVALUATOR']
TASK_UTILS = _registries['TASK_UTILS']
VISUALIZERS = _registries['VISUALIZERS']
VISBACKENDS = _registries['VISBACKENDS']
LOG_PROCESSORS = _registries['LOG_PROCESSORS']
INFERENCERS = _registries['INFERENCERS']

__all__ = ['SCOPE', 'HostRegistry'] + sorted(_registries)

"""What MMEngine imports for the ``mmseg_distill`` scope.

Objects from an ``mmseg_distill::`` base config carry ``_scope_='mmseg_distill'``; MMEngine then
imports ``mmseg_distill.registry`` before it builds them. Importing this module imports the
package, which registers its losses, connectors, recorders and hooks in MMRazor's registries
(where the configs name them, with the ``mmrazor`` scope), so such configs work even without
``custom_imports``.
"""
import mmseg_distill  # noqa: F401  (registers everything)
from mmrazor.registry import HOOKS, MODELS, TASK_UTILS  # noqa: F401

__all__ = ['HOOKS', 'MODELS', 'TASK_UTILS']

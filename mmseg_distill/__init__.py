"""mmseg_distill: knowledge distillation for semantic segmentation, as MMRazor config.

Importing the package registers its losses, connectors and distiller in
``mmrazor.registry.MODELS``, its recorders in ``TASK_UTILS`` and its hooks in ``HOOKS``, and
applies the project's compatibility fixes for current PyTorch (see ``compat``).
"""
from . import compat
from .version import __version__

compat.apply()

from . import datasets, engine, models  # noqa: E402,F401

__all__ = ["__version__", "compat", "datasets", "engine", "models"]

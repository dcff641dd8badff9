import difflib
from typing import Dict, Optional, Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmrazor.registry import HOOKS
from torch import nn


def _weighted_modules(root: nn.Module, path: str):
    """Modules at ``path`` that carry a ``loss_weight`` (a ModuleList/Dict contributes each)."""
    modules = dict(root.named_modules())
    if path not in modules:
        close = difflib.get_close_matches(path, list(modules), n=5, cutoff=0.4)
        raise KeyError(f"AdaptiveLossWeightHook: '{path}' is not a module of the distillation "
                       f'model. Closest names: {close}')
    module = modules[path]
    found = [m for m in ([module] + list(module.children())) if hasattr(m, 'loss_weight')]
    if not found:
        raise ValueError(f"AdaptiveLossWeightHook: '{path}' ({type(module).__name__}) has no "
                         "'loss_weight' to schedule")
    return found[:1] if hasattr(module, 'loss_weight') else found


STUDENT_CE_CHOICES = ('all', 'decode_head', 'none')


def student_ce_paths(root: nn.Module, which: str, student: str = 'architecture'):
    """Module paths of the student's supervised losses (``loss_decode`` of its heads).

    ``which='decode_head'``: the decode head's (every stage of a cascade); ``'all'``: also every
    auxiliary head's; ``'none'``: nothing.
    """
    if which not in STUDENT_CE_CHOICES:
        raise ValueError(f'student_ce must be one of {STUDENT_CE_CHOICES}, got {which!r}')
    heads = ('decode_head', 'auxiliary_head') if which == 'all' else \
        ('decode_head', ) if which == 'decode_head' else ()
    modules = dict(root.named_modules())
    paths = [name for name in modules
             if name.startswith(f'{student}.') and name.endswith('.loss_decode') and
             name[len(student) + 1:].split('.')[0] in heads]
    if which != 'none' and not paths:
        raise ValueError(f"AdaptiveLossWeightHook(student_ce='{which}'): the student "
                         f"('{student}') has no head with a loss_decode to schedule")
    return paths


def alw_factors(progress: float, floor: float = 0.0):
    """(falling, rising) multipliers of AICSD's adaptive loss weighting at ``progress`` in [0, 1]:
    falling = 1 - a, rising = max(a, floor), a = progress."""
    progress = min(max(progress, 0.0), 1.0)
    return 1.0 - progress, max(progress, floor)


@HOOKS.register_module()
class AdaptiveLossWeightHook(Hook):
    """AICSD's adaptive loss weighting (ALW), for any named losses.

    Mansourian et al., arXiv:2308.04243: L = (1 - a) L_KD + a (L_ICS + L_CE), with a rising
    linearly from 0 to 1 over training (official code: a = epoch / 120). MMSeg schedules count
    iterations, so here a = iter / max_iters by default (``by_epoch=True``: epoch / max_epochs).

    Before every training iteration the ``loss_weight`` of each module in ``falling`` becomes
    ``base * (1 - a)`` and of each in ``rising`` ``base * max(a, floor)``, with ``base`` the
    weight the module was built with. Paths are module names inside the distillation algorithm,
    e.g. ``'distiller.distill_losses.loss_kd'`` or ``'architecture.decode_head.loss_decode'``
    (the student's CE). ``floor`` (default 0, as the official code) keeps a minimum weight on
    the rising losses: with 0 the student's CE is switched off at the very start.

    ``student_ce`` adds the student's supervised losses to ``rising`` without naming them:
    ``'all'`` every ``loss_decode`` of the decode head(s) and of every auxiliary head,
    ``'decode_head'`` the decode head(s) only (auxiliary CE keeps its fixed weight), ``'none'``
    (default) only what ``rising`` names. The official model
    (DeepLabV3+) has no auxiliary head, so its L_CE is the whole supervised loss; the AICSD
    recipes therefore use ``'all'`` (the project's reading), and ``'decode_head'`` keeps deep
    supervision at full strength from the first iteration for those who prefer it.

    The weights are a pure function of the iteration counter, so a resumed run continues
    exactly where it stopped; nothing needs to be saved in the checkpoint.
    """

    priority = 'NORMAL'

    def __init__(self, falling: Sequence[str] = (), rising: Sequence[str] = (),
                 floor: float = 0.0, by_epoch: bool = False, student_ce: str = 'none'):
        if student_ce not in STUDENT_CE_CHOICES:
            raise ValueError(f'student_ce must be one of {STUDENT_CE_CHOICES}, got '
                             f'{student_ce!r}')
        if not falling and not rising and student_ce == 'none':
            raise ValueError('AdaptiveLossWeightHook needs at least one module path in '
                             '`falling` or `rising`')
        if not 0.0 <= floor <= 1.0:
            raise ValueError(f'floor must be in [0, 1], got {floor}')
        self.falling = list(falling)
        self.rising = list(rising)
        self.floor = floor
        self.by_epoch = by_epoch
        self.student_ce = student_ce
        self._base: Optional[Dict[nn.Module, float]] = None

    def _model(self, runner) -> nn.Module:
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_train(self, runner) -> None:
        model = self._model(runner)
        rising = list(self.rising)
        rising += [p for p in student_ce_paths(model, self.student_ce) if p not in rising]
        self._groups = {
            'falling': [m for p in self.falling for m in _weighted_modules(model, p)],
            'rising': [m for p in rising for m in _weighted_modules(model, p)],
        }
        self._base = {m: float(m.loss_weight) for g in self._groups.values() for m in g}

    def progress(self, runner) -> float:
        if self.by_epoch:
            return runner.epoch / max(runner.max_epochs, 1)
        return runner.iter / max(runner.max_iters, 1)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        falling, rising = alw_factors(self.progress(runner), self.floor)
        for factor, group in ((falling, 'falling'), (rising, 'rising')):
            for module in self._groups[group]:
                module.loss_weight = self._base[module] * factor
        runner.message_hub.update_scalar('train/alw_rising_factor', rising)

"""Each distillation term's weighted value against the student's task loss, and the weights
that keep every term alive and in proportion.

One implementation for ``tools/calibrate_weights.py`` (a config, its data and trained teacher),
``tools/inspect_pair.py`` (a pair nobody shipped, at initialisation) and ``TermShareHook``
(while training).
"""
import math
import statistics
from dataclasses import dataclass
from typing import Dict, Iterable, Optional, Tuple

import torch

# A term whose weighted value at the student's initialisation is outside this band, as a
# multiple of the student's task loss, is dead (below) or swamps the task loss (above). This is
# the project's choice; published recipes sit well inside it (CIRKD's DSD on Cityscapes:
# ~0.1 x CE for PSD; the official AICSD command: ~1 x CE for its pixel KD).
BAND = (1e-3, 100.0)
# an out-of-band term is moved this factor inside the band edge it crossed (to 1e-2 or 10)
INSIDE = 10.0


@dataclass
class TermStats:
    """A distillation term over the measured batches: the configured weight, the mean and
    spread of its unweighted value, and its share (weighted mean / mean task loss)."""
    weight: float
    unweighted: float
    spread: float
    share: Optional[float] = None
    # the weight's multiplier at the first training iteration where a schedule (AICSD's ALW)
    # scales it; None where the weight is constant
    start_factor: Optional[float] = None

    @property
    def start_share(self) -> Optional[float]:
        """The share at the first iteration: the term at its scheduled weight against the task
        loss at full weight (a schedule that ramps the task loss too is named in the table)."""
        if self.share is None or self.start_factor is None:
            return None
        return self.share * self.start_factor

    @property
    def weighted(self) -> float:
        return self.weight * self.unweighted

    def in_band(self) -> bool:
        return self.share is None or BAND[0] <= self.share <= BAND[1]

    @property
    def status(self) -> str:
        if self.share is None:
            return 'no task loss'
        if not math.isfinite(self.share):
            return 'non-finite'
        if self.share < BAND[0]:
            return 'dead'
        if self.share > BAND[1]:
            return 'dominant'
        return 'ok'

    def weight_in_band(self) -> Optional[float]:
        """The weight that moves an out-of-band term ``INSIDE`` times inside the band edge it
        crossed (None when it is in the band or cannot be measured)."""
        if self.share is None or self.unweighted <= 0 or not math.isfinite(self.share) or \
                self.in_band():
            return None
        target = BAND[0] * INSIDE if self.share < BAND[0] else BAND[1] / INSIDE
        return self.weight * target / self.share


def task_loss(losses: Dict[str, torch.Tensor]) -> Optional[float]:
    """The student's own (supervised) loss in an algorithm's loss dict, or None."""
    values = [float(v) for k, v in losses.items()
              if k.startswith('student.') and 'loss' in k.split('.')[-1]]
    return sum(values) if values else None


def measure_terms(model, batches: Iterable[Tuple[torch.Tensor, list]]
                  ) -> Tuple[Dict[str, TermStats], Optional[float]]:
    """Mean unweighted value of every distillation term and the mean task loss of the student
    over ``batches`` of (inputs, data samples), without gradients and without training.

    Weights are the ones the model was built with (schedules such as AICSD's ALW are not
    applied: each term is measured at its full base weight).
    """
    from ..utils.device import batch_to, model_device
    losses = model.distiller.distill_losses
    values = {name: [] for name in losses}
    tasks = []
    model.train()
    device = model_device(model)
    with torch.no_grad():
        for batch in batches:
            out = model.loss(*batch_to(batch, device))
            for name, module in losses.items():
                weight = float(getattr(module, 'loss_weight', 1.0))
                values[name].append(float(out[f'distill.{name}']) / weight if weight else
                                    float('nan'))
            task = task_loss(out)
            if task is not None:
                tasks.append(task)
    mean_task = statistics.mean(tasks) if tasks else None
    terms = {}
    for name, module in losses.items():
        samples_ = values[name]
        stats = TermStats(weight=float(getattr(module, 'loss_weight', 1.0)),
                          unweighted=statistics.mean(samples_),
                          spread=statistics.pstdev(samples_) if len(samples_) > 1 else 0.0)
        if mean_task:
            stats.share = stats.weighted / mean_task
        terms[name] = stats
    return terms, mean_task


ALW_PREFIX = 'distiller.distill_losses.'


def schedule_start_factors(cfg) -> Tuple[Dict[str, float], Optional[float]]:
    """({loss name: weight multiplier at iteration 0}, the task loss's multiplier) of the
    ``AdaptiveLossWeightHook`` in a distillation config's ``custom_hooks`` (({}, None) without
    one): falling terms start at 1, rising ones at ``floor``."""
    from .hooks.adaptive_loss_weight_hook import alw_factors
    factors, task = {}, None
    for hook in cfg.get('custom_hooks', []) or []:
        if not str(hook.get('type', '')).endswith('AdaptiveLossWeightHook'):
            continue
        falling, rising = alw_factors(0.0, hook.get('floor', 0.0))
        for paths, factor in ((hook.get('falling', ()), falling),
                              (hook.get('rising', ()), rising)):
            for path in paths:
                if path.startswith(ALW_PREFIX):
                    factors[path[len(ALW_PREFIX):]] = factor
        if hook.get('student_ce', 'none') != 'none':
            task = rising
    return factors, task


def apply_start_factors(terms: Dict[str, 'TermStats'], factors: Dict[str, float]) -> None:
    for name, factor in factors.items():
        if name in terms:
            terms[name].start_factor = factor


def format_shares(terms: Dict[str, TermStats], task: Optional[float], heading: str,
                  task_start_factor: Optional[float] = None) -> str:
    """A Markdown table of every term: weight, unweighted, weighted, share, status; with a
    weight schedule, the share at the first iteration too (labelled)."""
    scheduled = any(t.start_factor is not None for t in terms.values())
    lines = [heading, '',
             f'student task loss: {task:.4g}' if task is not None else
             'student task loss: none (the student is not trained here)', '']
    head = '| term | weight | unweighted (spread) | weighted | share at full weight |'
    if scheduled:
        head += ' share at iteration 0 (scheduled weight) |'
    lines += [head + ' status |', '|' + ' --- |' * (head.count('|') - 1 + 1)]
    for name, t in terms.items():
        share = '-' if t.share is None else f'{t.share:.3g}'
        row = (f'| {name} | {t.weight:.4g} | {t.unweighted:.4g} ({t.spread:.2g}) | '
               f'{t.weighted:.4g} | {share} |')
        if scheduled:
            start = t.start_share
            row += ' (constant) |' if t.start_factor is None else \
                f' {start:.3g} (x{t.start_factor:g}) |' if start is not None else ' - |'
        lines.append(row + f' {t.status} |')
    lines.append(f'\nband: a term is alive and in proportion between {BAND[0]:g} and '
                 f'{BAND[1]:g} x the task loss (checked at full weight).')
    if scheduled:
        ramp = '' if task_start_factor is None else (
            f" The student's task loss is scheduled too (x{task_start_factor:g} at iteration "
            '0); both columns divide by it at full weight.')
        lines.append('AdaptiveLossWeightHook schedules these weights: the share at iteration 0 '
                     'is the term at its first-iteration weight, the share at full weight the '
                     'one it reaches (rising terms at the end of training, falling ones at the '
                     f'start).{ramp}')
    return '\n'.join(lines)

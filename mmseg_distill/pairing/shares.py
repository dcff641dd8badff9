"""Each distillation term's weighted value against the student's task loss, and the weights
that keep every term alive and in proportion.

One implementation for ``tools/calibrate_weights.py`` (a config, its data and trained teacher)
and ``tools/inspect_pair.py`` (a pair nobody shipped, at initialisation).
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
    losses = model.distiller.distill_losses
    values = {name: [] for name in losses}
    tasks = []
    model.train()
    with torch.no_grad():
        for inputs, samples in batches:
            out = model.loss(inputs, samples)
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


def format_shares(terms: Dict[str, TermStats], task: Optional[float], heading: str) -> str:
    """A Markdown table of every term: weight, unweighted, weighted, share, status."""
    lines = [heading, '',
             f'student task loss: {task:.4g}' if task is not None else
             'student task loss: none (the student is not trained here)', '',
             '| term | weight | unweighted (spread) | weighted | share of task loss | status |',
             '| --- | --- | --- | --- | --- | --- |']
    for name, t in terms.items():
        share = '-' if t.share is None else f'{t.share:.3g}'
        lines.append(f'| {name} | {t.weight:.4g} | {t.unweighted:.4g} ({t.spread:.2g}) | '
                     f'{t.weighted:.4g} | {share} | {t.status} |')
    lines.append(f'\nband: a term is alive and in proportion between {BAND[0]:g} and '
                 f'{BAND[1]:g} x the task loss.')
    return '\n'.join(lines)

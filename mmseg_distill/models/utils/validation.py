"""Argument checks shared by the losses, connectors and hooks: errors at build time that name
the argument, the value and what is accepted."""
import math
import numbers
from typing import Sequence


def check_choice(name: str, value, choices: Sequence):
    """``value`` if it is one of ``choices``, else a ValueError that lists them."""
    if value not in choices:
        raise ValueError(f'{name} must be one of {tuple(choices)}, got {value!r}')
    return value


def check_loss_weight(owner: str, weight) -> float:
    """A loss weight is a finite number >= 0 (bool and strings are refused).

    ``owner`` names the loss in the message (e.g. "distill loss 'loss_kd' (PixelwiseKDLoss)").
    A weight of 0 is allowed (a term switched off on purpose, or by a schedule).
    """
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
        raise TypeError(f'{owner}: loss_weight must be a number, got {weight!r} '
                        f'({type(weight).__name__}); write it without quotes, e.g. 1.0')
    if not math.isfinite(weight) or weight < 0:
        raise ValueError(f'{owner}: loss_weight must be a finite number >= 0, got {weight!r}. '
                         'A negative weight would push the student away from the teacher.')
    return float(weight)

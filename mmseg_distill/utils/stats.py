"""Paired comparisons: the mean of per-seed differences with its Student-t interval."""
import math
import statistics
from typing import Dict, Optional, Sequence

from scipy import stats as scipy_stats


def t_interval_half_width(diffs: Sequence[float], confidence: float = 0.95) -> Optional[float]:
    """Half-width of the two-sided ``confidence`` t interval of the mean of ``diffs`` (None
    with fewer than two values)."""
    if len(diffs) < 2:
        return None
    quantile = scipy_stats.t.ppf(0.5 + confidence / 2, len(diffs) - 1)
    return float(quantile) * statistics.stdev(diffs) / math.sqrt(len(diffs))


def paired(values: Sequence[float], baseline: Sequence[float],
           confidence: float = 0.95) -> Dict:
    """Mean paired difference ``values - baseline`` (same seeds) with its t interval; a verdict
    ('gain' / 'loss') only when the interval excludes 0."""
    diffs = [v - b for v, b in zip(values, baseline)]
    mean = statistics.mean(diffs)
    half = t_interval_half_width(diffs, confidence)
    if half is None:
        return dict(mean=mean, low=None, high=None, diffs=diffs, verdict='1 seed: smoke run')
    low, high = mean - half, mean + half
    verdict = 'gain' if low > 0 else 'loss' if high < 0 else 'no clear difference'
    return dict(mean=mean, low=low, high=high, diffs=diffs, verdict=verdict)


def interval_text(paired_result: Dict, single: str = 'n/a (1 seed)') -> str:
    """How every table prints a :func:`paired` result: '+1.23 [+0.45, +2.01]', or ``single``
    when one seed gives no interval."""
    d = paired_result
    if d['low'] is None:
        return single
    return f"{d['mean']:+.2f} [{d['low']:+.2f}, {d['high']:+.2f}]"

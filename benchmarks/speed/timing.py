"""Timing that survives a busy machine: what is compared or subtracted is measured interleaved
(round by round, in one process), repeated, and reported as a median with its spread; a
difference whose spread reaches zero is reported as noise, never as a (negative) number."""
import os
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence


def timer(device: str) -> Callable[[Callable], float]:
    """``measure(fn)``: milliseconds ``fn()`` took (CUDA events on a GPU)."""
    import torch
    if device == 'cuda':
        def measure(fn):
            start, stop = (torch.cuda.Event(enable_timing=True),
                           torch.cuda.Event(enable_timing=True))
            start.record()
            fn()
            stop.record()
            torch.cuda.synchronize()
            return start.elapsed_time(stop)
        return measure

    def measure(fn):
        begin = time.perf_counter()
        fn()
        return (time.perf_counter() - begin) * 1e3
    return measure


def memory_probe(device: str) -> Callable[[], float]:
    """Call now, then the returned function gives the peak extra memory (MiB) since: CUDA's
    max_memory_allocated, or how far the peak resident set (VmHWM, reset here) rose above the
    memory in use now."""
    import torch
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        return lambda: (torch.cuda.max_memory_allocated() - base) / 2**20
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')
    base = _status_kib('VmRSS')
    return lambda: (_status_kib('VmHWM') - base) / 1024


def _status_kib(field: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise KeyError(field)


def limit_cpu_memory(gib: float) -> None:
    """Cap this process's address space at its current size + ``gib`` (naive references)."""
    import resource
    with open('/proc/self/statm') as f:
        vm_pages = int(f.read().split()[0])
    limit = vm_pages * os.sysconf('SC_PAGE_SIZE') + int(gib * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def interleaved(functions: Dict[str, Callable], rounds: int, measure: Callable,
                max_seconds: Optional[float] = None) -> Dict[str, List[float]]:
    """Each function once per round, in turn, after one warm-up round: a slow or fast spell of
    the machine hits every function alike. Stops early (after >= 2 rounds) past
    ``max_seconds``."""
    for fn in functions.values():
        fn()
    samples = {name: [] for name in functions}
    deadline = None if max_seconds is None else time.time() + max_seconds
    for index in range(rounds):
        for name, fn in functions.items():
            samples[name].append(measure(fn))
        if deadline and index >= 1 and time.time() > deadline:
            break
    return samples


def summary(values: Sequence[float]) -> dict:
    """Median and spread (the middle half: quartiles from 4 values on, else min and max)."""
    values = sorted(values)
    if len(values) >= 4:
        low, _, high = statistics.quantiles(values, n=4, method='inclusive')
    else:
        low, high = values[0], values[-1]
    return dict(median=statistics.median(values), low=low, high=high, n=len(values))


def difference(minuend: Sequence[float], subtrahend: Sequence[float]) -> dict:
    """The per-round difference of two interleaved series, summarised; ``resolved`` is False
    when its spread reaches zero (the difference is within the machine's noise)."""
    stats = summary([a - b for a, b in zip(minuend, subtrahend)])
    stats['resolved'] = stats['low'] > 0
    return stats


def ratio(numerator: Sequence[float], denominator: Sequence[float]) -> dict:
    """The per-round ratio of two interleaved series, summarised."""
    return summary([a / b for a, b in zip(numerator, denominator)])


def fmt_value(value: Optional[float], unit: str = '') -> str:
    if value is None:
        return '-'
    return f'{value:,.1f}{unit}' if abs(value) >= 10 else f'{value:.2f}{unit}'


def fmt_stat(stats: Optional[dict], unit: str = '') -> str:
    """'median (low-high)'; a difference within the noise reads '< noise (high)'."""
    if not stats:
        return '-'
    if stats.get('resolved') is False:
        return f"< noise (spread to {fmt_value(stats['high'], unit)})"
    if stats['n'] < 2:
        return fmt_value(stats['median'], unit)
    return (f"{fmt_value(stats['median'], unit)} ({fmt_value(stats['low'])}-"
            f"{fmt_value(stats['high'])})")

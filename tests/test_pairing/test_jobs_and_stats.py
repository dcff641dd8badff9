"""The experiment library: paired statistics against their definition, and the job engine's
order, failures and results on submitit's local executor."""
import math
import statistics
from functools import partial

import pytest

from mmseg_distill.pairing.jobs import ExecutorOptions, Job, run_jobs
from mmseg_distill.utils.stats import paired


def test_paired_interval_is_the_t_interval_of_the_differences():
    values, baseline = [66.4, 65.0, 65.5, 64.3, 66.5], [65.1, 64.2, 65.9, 63.0, 65.2]
    result = paired(values, baseline)
    diffs = [v - b for v, b in zip(values, baseline)]
    half = 2.7764451051977987 * statistics.stdev(diffs) / math.sqrt(5)  # t(0.975, 4)
    assert result['mean'] == pytest.approx(statistics.mean(diffs))
    assert result['low'] == pytest.approx(result['mean'] - half)
    assert result['high'] == pytest.approx(result['mean'] + half)
    assert result['verdict'] == ('gain' if result['low'] > 0 else 'no clear difference')
    assert paired([2.0, 2.1, 1.9], [0.0, 0.1, 0.0])['verdict'] == 'gain'
    assert paired([0.0, 0.1, 0.0], [2.0, 2.1, 1.9])['verdict'] == 'loss'
    one = paired([1.0], [0.0])
    assert one['low'] is None and one['verdict'] == '1 seed: smoke run'


@pytest.mark.e2e  # the local executor starts a process per job
def test_jobs_run_after_their_dependencies_and_a_failure_stops_only_its_dependants(tmp_path):
    # what the job processes unpickle must be importable there (this test module is not)
    first = Job('first', partial(int, '1'), priority=1)
    second = Job('second', partial(int, '2'), after=[first])
    broken = Job('broken', partial(int, 'broken on purpose'))
    after_broken = Job('after broken', partial(int, '3'), after=[broken])
    lines = []
    with pytest.raises(RuntimeError) as error:
        run_jobs([second, first, broken, after_broken],
                 ExecutorOptions(workers=2, folder=str(tmp_path)), lines.append,
                 poll_seconds=0.05)
    assert (first.result, second.result) == (1, 2)
    assert 'broken on purpose' in broken.error and after_broken.error == 'a dependency failed'
    # the job's own exception in one line, not submitit's whole remote traceback
    assert broken.error == "ValueError: invalid literal for int() with base 10: 'broken on " \
        "purpose'"
    failed = [line for line in lines if line.startswith('FAILED broken')]
    assert len(failed) == 1 and '\n' not in failed[0] and 'Traceback' not in failed[0]
    assert after_broken.result is None and 'after broken: a dependency failed' in str(error.value)
    starts = [line for line in lines if line.startswith('start')]
    assert starts.index(next(s for s in starts if 'second' in s)) > \
        starts.index(next(s for s in starts if 'first' in s))
    assert any(line.startswith('done first in') and 'left' in line for line in lines)
    with pytest.raises(ValueError, match='executor must be one of'):
        run_jobs([], ExecutorOptions(kind='cloud', folder=str(tmp_path)))

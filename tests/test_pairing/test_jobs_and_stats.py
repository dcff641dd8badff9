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


def test_gpus_are_grouped_per_job_and_parsed_from_the_visible_devices(monkeypatch):
    from mmseg_distill.pairing.jobs import gpu_slots, visible_gpu_ids
    assert gpu_slots(2, [0, 1, 2, 3, 4]) == [(0, 1), (2, 3)]  # the fifth GPU idles
    assert gpu_slots(1, [3, 5]) == [(3, ), (5, )]
    assert gpu_slots(2, []) == [] and gpu_slots(0, [0, 1]) == []  # the CPU: no groups
    with pytest.raises(ValueError, match='4 GPUs per job, but 2 visible'):
        gpu_slots(4, [0, 1])
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '2,3')
    assert visible_gpu_ids() == [2, 3]
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '')
    assert visible_gpu_ids() == []
    assert ExecutorOptions().processes() == 1 and ExecutorOptions(gpus_per_job=2).processes() == 2


def test_each_running_job_gets_gpus_of_its_own(tmp_path, monkeypatch):
    # four (pretended) GPUs in pairs: two jobs at a time although four workers are allowed,
    # each on its pair
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '0,1,2,3')
    # a lambda travels by value to the job's process (a function of this module would be
    # imported there by name); it sleeps long enough for the jobs to overlap
    devices = (lambda: (__import__('time').sleep(0.5),
                        __import__('os').environ.get('CUDA_VISIBLE_DEVICES'))[1])
    jobs = [Job(f'job {i}', devices) for i in range(4)]
    started = []  # the engine's log lines
    run_jobs(jobs, ExecutorOptions(workers=4, folder=str(tmp_path), gpus_per_job=2),
             log=started.append, poll_seconds=0.05)
    assert sorted(job.result for job in jobs) == ['0,1', '0,1', '2,3', '2,3']
    running, most = 0, 0
    for line in started:  # the log in order: at most one job per pair of GPUs at a time
        running += line.startswith('start') - line.startswith('done')
        most = max(most, running)
    assert most == 2

"""Experiment jobs (a training, an evaluation, a transfer measurement) with their dependencies,
run through submitit: its local executor on one machine (``workers`` jobs at a time, each in a
process of its own), Slurm where a cluster is (``executor='slurm'``, the same jobs).

The graph is small (tens of jobs) and known up front; what this module adds to submitit is the
order: a job is submitted once every job it depends on has finished, highest priority first,
and a job whose dependency failed is not run. Progress is logged as jobs start and end (which
job, how many are left, how long each took).
"""
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple


@dataclass(eq=False)
class Job:
    """``fn()`` once every job in ``after`` has finished; ``priority`` orders ready jobs."""
    name: str
    fn: Callable[[], object]
    after: List['Job'] = field(default_factory=list)
    priority: int = 0
    error: Optional[str] = None
    result: object = None
    seconds: Optional[float] = None
    finished: bool = False


@dataclass
class ExecutorOptions:
    """Where the jobs run: ``'local'`` (this machine, ``workers`` at a time) or ``'slurm'``
    (``slurm_partition``, ``slurm_time_min`` per job, ``cpus_per_task``).

    ``gpus_per_job``: the GPUs of one training, which runs one process per GPU (the leaf's
    per-GPU batch in each, as ``mim train --launcher pytorch --gpus N`` runs it). Locally each
    job gets GPUs of its own (``CUDA_VISIBLE_DEVICES``), so at most (visible GPUs //
    ``gpus_per_job``) jobs run at a time; on a machine without CUDA the same number runs that
    many CPU processes (gloo). None: one GPU per job where CUDA is visible, else one process
    on the CPU (local); no GPU (Slurm)."""
    kind: str = 'local'
    workers: int = 2
    folder: str = 'work_dirs/jobs'
    slurm_partition: Optional[str] = None
    slurm_time_min: int = 120
    cpus_per_task: int = 1
    gpus_per_job: Optional[int] = None
    extra: Dict[str, object] = field(default_factory=dict)

    def gpus(self) -> int:
        """``gpus_per_job`` resolved: what each training asks for (0: the CPU)."""
        if self.gpus_per_job is not None:
            return self.gpus_per_job
        return 1 if self.kind == 'local' and visible_gpu_ids() else 0

    def processes(self) -> int:
        """The processes of one training: one per GPU, at least one."""
        return max(1, self.gpus())


def visible_gpu_ids() -> List[int]:
    """The CUDA devices this process may use, by the index a child process is given them
    (``CUDA_VISIBLE_DEVICES`` where it is set, else every device torch sees)."""
    given = os.environ.get('CUDA_VISIBLE_DEVICES')
    if given is not None:
        return [int(x) for x in given.split(',') if x.strip().isdigit()]
    import torch
    return list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []


def gpu_slots(gpus_per_job: int, gpu_ids: Sequence[int]) -> List[Tuple[int, ...]]:
    """The visible GPUs in groups of ``gpus_per_job``, one group per job running at a time;
    none without GPUs (the jobs run on the CPU). Too few GPUs for one job is an error."""
    if not gpus_per_job or not gpu_ids:
        return []
    if gpus_per_job > len(gpu_ids):
        raise ValueError(f'{gpus_per_job} GPUs per job, but {len(gpu_ids)} visible '
                         f'({list(gpu_ids)}): ask for at most {len(gpu_ids)}')
    return [tuple(gpu_ids[i:i + gpus_per_job])
            for i in range(0, len(gpu_ids) - gpus_per_job + 1, gpus_per_job)]


EXECUTORS = ('local', 'slurm')


def make_executor(options: ExecutorOptions):
    import submitit
    if options.kind not in EXECUTORS:
        raise ValueError(f'executor must be one of {EXECUTORS}, got {options.kind!r}')
    os.makedirs(options.folder, exist_ok=True)
    if options.kind == 'local':
        executor = submitit.LocalExecutor(folder=options.folder)
        executor.update_parameters(timeout_min=24 * 60)
        return executor
    executor = submitit.AutoExecutor(folder=options.folder, cluster='slurm')
    # one task on one node: the training starts its own processes, one per GPU
    params = dict(timeout_min=options.slurm_time_min, cpus_per_task=options.cpus_per_task,
                  gpus_per_node=options.gpus(), nodes=1, tasks_per_node=1, **options.extra)
    if options.slurm_partition:
        params['slurm_partition'] = options.slurm_partition
    executor.update_parameters(**params)
    return executor


_TRACE_RULE = '-' * 22


def one_line(error: Exception) -> str:
    """A job's failure as one line: submitit wraps the job's exception in a ``FailedJobError``
    holding the whole remote traceback between two rules, whose last line is the exception the
    job raised (its type and message)."""
    text = str(error).strip()
    if type(error).__name__ == 'FailedJobError' and text.count(_TRACE_RULE) >= 2:
        trace = text.split(_TRACE_RULE)[1]
        lines = [line.strip() for line in trace.splitlines() if line.strip()]
        if lines:
            return lines[-1][:1000]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[-1] if lines else ''}"[:1000]


def run_jobs(jobs: Sequence[Job], options: ExecutorOptions,
             log: Callable[[str], None] = print, poll_seconds: float = 0.5) -> None:
    """Run ``jobs`` in dependency order on the executor of ``options``; raise at the end if
    any failed (the others still run)."""
    executor = make_executor(options)
    limit = options.workers if options.kind == 'local' else len(jobs)
    # locally, each running job on GPUs of its own (submitit gives a local job the first
    # gpus_per_node of visible_gpus, and none without: CUDA_VISIBLE_DEVICES='')
    free = gpu_slots(options.gpus(), visible_gpu_ids()) if options.kind == 'local' else []
    if free:
        limit = min(limit, len(free))
    slots: Dict[Job, Tuple[int, ...]] = {}
    pending, running = list(jobs), {}
    total, done = len(jobs), 0
    while pending or running:
        for job in [j for j in pending if all(d.finished for d in j.after)]:
            if any(d.error for d in job.after):
                pending.remove(job)
                job.error, job.finished = 'a dependency failed', True
                done += 1
        ready = sorted((j for j in pending if all(d.finished for d in j.after)),
                       key=lambda j: -j.priority)
        for job in ready[:max(limit - len(running), 0)]:
            pending.remove(job)
            if free:
                slots[job] = free.pop(0)
                executor.update_parameters(gpus_per_node=len(slots[job]),
                                           visible_gpus=slots[job])
            running[job] = (executor.submit(job.fn), time.time())
            log(f'start {job.name} ({done + len(running)} of {total} started, '
                f'{len(pending)} waiting)')
        for job, (handle, started) in list(running.items()):
            if not handle.done():
                continue
            del running[job]
            if job in slots:
                free.append(slots.pop(job))
            done += 1
            job.seconds, job.finished = time.time() - started, True
            try:
                job.result = handle.result()
                log(f'done {job.name} in {job.seconds:.0f} s ({total - done} left)')
            except Exception as error:  # reported at the end, the others still run
                job.error = one_line(error)
                log(f'FAILED {job.name} after {job.seconds:.0f} s: {job.error}')
        if pending or running:
            time.sleep(poll_seconds)
    failed = [f'{j.name}: {j.error}' for j in jobs if j.error]
    if failed:
        raise RuntimeError('jobs failed:\n' + '\n'.join(failed))

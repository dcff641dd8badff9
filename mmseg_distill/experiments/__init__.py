"""Experiments as a library: jobs and where they run (``jobs``, submitit: locally or on Slurm),
one run and what it logged (``runs``), paired statistics (``stats``), and the demo and its
ablations (``demo``, ``ablation``) that the tools are the command lines of."""
from .jobs import EXECUTORS, ExecutorOptions, Job, run_jobs
from .runs import (MIM, SINGLE_THREAD, last_validation, logged_scalars, mim_train, slug,
                   training_records)
from .stats import paired, t_interval_half_width

__all__ = ['EXECUTORS', 'ExecutorOptions', 'Job', 'run_jobs', 'MIM', 'SINGLE_THREAD',
           'last_validation', 'logged_scalars', 'mim_train', 'slug', 'training_records',
           'paired', 't_interval_half_width']

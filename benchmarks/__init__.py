"""The project's lab, kept out of the installed package: the demo pipeline and its ablations
(``demo``), the speed and memory benchmark (``speed``), the tiny CPU pair (``tiny``) and the
naive loss references (``naive_reference``) that the tests, the demo, the benchmark and the GPU
check share. It runs from a clone (``python tools/demo.py``, ``python tools/benchmark.py``);
a user who installed the wheel has ``mmseg_distill`` alone, which imports nothing from here.
Processes that unpickle its functions (the demo's submitit jobs) find it through
``PYTHONPATH``, which the lab's tools set (``with_lab_on_path``).
"""
import os
import os.path as osp

CLONE = osp.dirname(osp.dirname(osp.abspath(__file__)))


def with_lab_on_path(env=None) -> dict:
    """``env`` (default: this process's) with the clone on ``PYTHONPATH``, for a process that
    imports this package (a submitit job, a benchmark worker)."""
    env = dict(os.environ if env is None else env)
    paths = [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p]
    env['PYTHONPATH'] = os.pathsep.join([CLONE] + [p for p in paths if p != CLONE])
    return env

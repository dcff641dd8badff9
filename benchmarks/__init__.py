"""The project's lab, kept out of the installed package: the demo pipeline and its ablations
(``demo``), the speed and memory benchmark (``speed``), the tiny CPU pair (``tiny``) and the
naive loss references (``naive_reference``) that the tests, the demo, the benchmark and the GPU
check share. It runs from a clone (``python tools/demo.py``, ``python tools/benchmark.py``);
a user who installed the wheel has ``mmseg_distill`` alone, which imports nothing from here.
"""
import os
import os.path as osp

_CLONE = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the demo's jobs run in processes submitit starts, which unpickle functions of this package:
# they find it on PYTHONPATH, as the process that imported it does
if _CLONE not in os.environ.get('PYTHONPATH', '').split(os.pathsep):
    os.environ['PYTHONPATH'] = os.pathsep.join(
        p for p in (_CLONE, os.environ.get('PYTHONPATH')) if p)

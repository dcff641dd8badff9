"""Cost of each distillation loss, and of a distillation step, against naive baselines.

    python tools/benchmark.py [--preset full|quick|gpu] [--device cpu|cuda] [--out DIR]

Prints Markdown tables and writes ``benchmark.json`` and ``benchmark.md`` (and
``scaling.png``) to ``--out``. The measurements live in ``benchmarks.speed``:

* per loss (``losses``): time, peak extra memory and value of this project's implementation
  and of the naive form (``benchmarks.naive_reference``: explicit P x P matrices,
  Python loops over class pairs as the official AICSD code), the naive one under a memory budget
  (``--naive-budget-gib``) and a time limit (``--naive-timeout``); the time ratio is taken per
  round of the two timed interleaved in one process;
* per training step (``steps``): the shipped leaf configs of the DeepLabV3 R101-D8 -> R18-D8
  pair (the ``gpu`` preset: the four model-zoo pairs at their real crop and batch), every part
  of a step timed interleaved in one process;
* scaling: PFS and the paper-form affinity against the number of positions, to 32k positions.

Every measurement runs in a fresh subprocess (``benchmarks.speed.runner``). Times are
medians with the middle half of the repeats; a difference whose spread reaches zero is printed
as noise.
"""
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the lab (benchmarks/) is in the clone, not in the installed package
sys.path.insert(0, REPO)


def main(argv=None):
    from benchmarks.speed.runner import parse_args, run
    run(parse_args(argv, description=__doc__.split('\n\n')[0].replace('\n', ' ')))


if __name__ == '__main__':
    main()

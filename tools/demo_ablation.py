"""Re-train one demo row with config changes, paired with the demo's own runs.

The question it answers is "which part of a recipe makes the difference": switch a term off,
scale its weight, keep a schedule's floor... The variant starts from the same initial student
and sees the same data order as the demo's baseline and the row it varies, on each seed, so
its paired difference to both is as clean as the demo's own. It needs a finished
``tools/demo.py`` run (the teacher, the initial students and the runs it compares with).

    python tools/demo_ablation.py csd-x100 --row 'DSD (CIRKD form)' --seeds 0 1 \\
        --cfg-options model.distiller.distill_losses.loss_csd.loss_weight=1000.0

``--searched-weights`` varies the row at the weights the weight search chose for it (the
demo's second-table run) and pairs the variant with that run; ``--compare`` pairs it with
other rows too (at their searched weights, with the flag):

    python tools/demo_ablation.py aicsd-x10-fixed-weights --row 'AICSD (paper)' \\
        --searched-weights --compare 'pixel KD' \\
        --cfg-options custom_hooks.1.falling=[] custom_hooks.1.floor=1.0

(there: no falling loss, and every rising one, the student's CE included, at its full weight:
adaptive loss weighting off, every term at its searched weight throughout)

Writes ``<demo>/ablations/<name>/seed<s>/`` (runs and, with ``--transfer``, what each student
took from the teacher) and ``<demo>/ablations/<name>/results.json``; prints the test mIoU of
baseline, row and variant per seed with the paired differences.
"""
import os
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the lab (benchmarks/) is in the clone, not in the installed package: importable here and
# in the job processes submitit starts (they unpickle its functions)
sys.path.insert(0, REPO)
from benchmarks import with_lab_on_path  # noqa: E402

os.environ['PYTHONPATH'] = with_lab_on_path()['PYTHONPATH']


def main(argv=None):
    from benchmarks.demo.ablation import parse_args, run
    run(parse_args(argv, description=__doc__.split('\n\n')[0].replace('\n', ' ')))


if __name__ == '__main__':
    main()

"""The main job: show on a laptop CPU whether distillation helps, with every method, and what
each method transferred - with paired seeds and confidence intervals.

    python tools/demo.py [--quick | --preset NAME] [--all-forms]
        [--tuned] [--search | --searched DIR] [--seeds 0 1 2 3 4] [--out work_dirs/demo] [--jobs 2]

1. generates the procedural street scenes: a train split, a tune split ('val', on which this
   regime was chosen) and a test split ('test', the only one reported);
2. trains the teacher (DeepLabV3 R18-tiny) with `mim train mmseg`;
3. per seed: one initial student (FCN MobileNetV2-tiny) shared by the baseline and every
   method (paired design: same initial weights, same data order), the baseline with
   `mim train mmseg`, every method form of ``mmseg_distill.methods`` with `mim train mmrazor`
   (KA after its stage 1); every run evaluated once, at its end, on the test split;
4. measures, per seed, each student's distance to the teacher in every relation the methods
   distil (``tools/transfer.py``, on the test split);
5. with ``--tuned`` (and always with ``--quick``, the smoke run of the whole pipeline): the
   second table, every row at the weights the weight search chose for it on the tune
   split. The choices come from the search logs committed at this regime
   (docs/weight_search/<regime>/, or --searched DIR); --search remakes them first (every row
   searched, factors 0.1/1/10/100 of the shipped weights, on the preset's search seeds). A row
   whose search kept the shipped weights is its first-table run; a row without a log of this
   regime is listed without a number;
6. writes results.md / results.json (with the commit and the command), the paired differences
   (paired.png), the test mIoU (miou.png) and qualitative predictions with a colour legend
   (qualitative.png).

The main table has each method's default form (the one the pair tool writes) and MMRazor's
baselines; ``--all-forms`` adds the paper forms and the official AICSD command. The full preset
trains the students for 2,000 iterations at lr 0.03 (the regime that resolves one point on the
tune split, docs/demo.md); ``--preset short`` keeps the first round's 1,000 iterations at lr
0.08 (half the training, intervals of several points).

Every training job runs single-threaded (OMP_NUM_THREADS=1, MKL_NUM_THREADS=1), ``--jobs`` at a
time: a job's numbers then depend only on its config and seed, not on what else the machine runs
(with more threads they depend on the thread count). ``--quick`` is a smoke run of the same
pipeline (one seed, a few minutes): its figures are not evidence.
"""
import argparse
import os
import os.path as osp
import shlex
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the lab (benchmarks/) is in the clone, not in the installed package: importable here and
# in the job processes submitit starts (they unpickle its functions)
sys.path.insert(0, REPO)
from benchmarks import with_lab_on_path  # noqa: E402

os.environ['PYTHONPATH'] = with_lab_on_path()['PYTHONPATH']


def main():
    from benchmarks.demo.pipeline import PRESETS, Pipeline
    from mmseg_distill.pairing.jobs import EXECUTORS
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0].replace('\n', ' '))
    preset = parser.add_mutually_exclusive_group()
    preset.add_argument('--quick', action='store_true',
                        help='one seed, small budget (a few minutes): a smoke run')
    preset.add_argument('--preset', choices=sorted(PRESETS),
                        help='a preset by name (short: the first round\'s 1,000-iteration '
                        'regime; positions-16: DSD, PFS and KA on 128x128 scenes, 16x16 '
                        'distilled positions, 2 seeds)')
    parser.add_argument('--all-forms', action='store_true',
                        help="every form of every method, at the preset's regime")
    parser.add_argument('--tuned', action='store_true',
                        help='add the second table: every row at its searched weights (25 more '
                        'trainings, ~30 min on 2 cores for the full preset; --quick always has '
                        'it)')
    searched = parser.add_mutually_exclusive_group()
    searched.add_argument('--search', action='store_true',
                          help='run the weight search of every row first (tune split)')
    searched.add_argument('--searched', metavar='DIR',
                          help='the search logs to read (default: the committed ones of the '
                          "preset's regime, docs/weight_search/<regime>)")
    parser.add_argument('--seeds', type=int, nargs='+', default=None)
    parser.add_argument('--out', default=None)
    parser.add_argument('--jobs', type=int, default=2,
                        help='single-threaded training jobs at a time (default 2: the cores)')
    parser.add_argument('--gpus-per-job', type=int, metavar='N',
                        help='GPUs of one training, one process each (default: one GPU per '
                        'training where CUDA is visible, else one CPU process); locally each '
                        'training gets GPUs of its own')
    parser.add_argument('--executor', choices=EXECUTORS, default='local',
                        help='where the jobs run: this machine, or Slurm (submitit)')
    parser.add_argument('--slurm-partition', help='the Slurm partition (--executor slurm)')
    parser.add_argument('--force', action='store_true', help='retrain runs that are done')
    args = parser.parse_args()
    args.preset = args.preset or ('quick' if args.quick else 'full')
    args.forms = 'all' if args.all_forms else None
    args.tuned = bool(args.tuned or args.search or args.searched or args.preset == 'quick')
    name = '-'.join(([] if args.preset == 'full' else [args.preset]) +
                    (['all-forms'] if args.all_forms and args.preset != 'all-forms' else []))
    args.out = args.out or osp.join(REPO, 'work_dirs', 'demo-' + name if name else 'demo')
    args.command = 'python tools/demo.py ' + ' '.join(shlex.quote(a) for a in sys.argv[1:])
    Pipeline(args).run()


if __name__ == '__main__':
    main()

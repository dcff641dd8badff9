"""Search the loss weights of a leaf on its own validation split, paired with a baseline.

    python tools/search_weights.py LEAF.py [--keys KEY ...] [--factors 0.01 0.1 1 10 100]
        [--mode together|each|grid] [--seeds 0 1 2] [--iters N] [--cfg-options ...]
        [--teacher-ckpt T.pth] [--stage1-ckpt S.pth] [--work-dir DIR]
        [--out LEAF_searched.py] [--jobs 2] [--gpus-per-job N] [--executor local|slurm]

Every candidate is trained from the same initial student, with the same data order, as a run
of the student alone (the baseline), one run per seed, and evaluated once on the leaf's
validation split (``val_dataloader``; keep the test split out of it). Prints the paired table
(each candidate's difference to the baseline and to the best, 95% t intervals; candidates the
seeds cannot tell apart from the best are marked) and writes ``--out``: a leaf over LEAF with
the best candidate's values and a one-line record (split, command, baseline, gain, interval).
Default keys: every distillation loss's ``loss_weight``; default factors: a log grid, 0.01x to
100x the leaf's values (mmseg_distill/pairing/search.py says why a grid). ``--cfg-options``
applies to every run, the baseline's included (data paths, ...). Runs resume: a finished run
is not trained again.
"""
import argparse
import os.path as osp
import shlex
import sys


def parse_args(argv=None):
    from mmengine.config import DictAction

    from mmseg_distill.pairing.jobs import EXECUTORS
    from mmseg_distill.pairing.search import FACTORS, MODES
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0].replace('\n', ' '))
    parser.add_argument('leaf', help='the distillation leaf config whose weights to search')
    parser.add_argument('--keys', nargs='+', metavar='KEY',
                        help='config keys to search (as --cfg-options keys); default: every '
                        "distillation loss's loss_weight")
    parser.add_argument('--factors', nargs='+', type=float, default=list(FACTORS),
                        help="multiples of the leaf's values to try (default %(default)s)")
    parser.add_argument('--mode', choices=MODES, default='together',
                        help='together: one factor for all keys; each: one key at a time; '
                        'grid: every combination (default %(default)s)')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--iters', type=int,
                        help="training iterations of every run (default: the leaf's schedule)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='settings for every run, the baseline included')
    parser.add_argument('--teacher-ckpt', help="the trained teacher (default: the leaf's)")
    parser.add_argument('--stage1-ckpt', help="a first stage's checkpoint (KA's auto-encoder; "
                        "default: the leaf's)")
    parser.add_argument('--work-dir', help='runs and results (default work_dirs/search_<leaf>)')
    parser.add_argument('--out', help='the leaf to write (default <leaf>_searched.py)')
    parser.add_argument('--jobs', type=int, default=2, help='trainings at a time (local)')
    parser.add_argument('--gpus-per-job', type=int, metavar='N',
                        help='GPUs of one training, one process each at the leaf\'s per-GPU '
                        'batch (default: one GPU per training where CUDA is visible, else one '
                        'CPU process); locally each training gets GPUs of its own; without '
                        'CUDA, N gloo processes')
    parser.add_argument('--executor', choices=EXECUTORS, default='local')
    parser.add_argument('--slurm-partition')
    args = parser.parse_args(argv)
    name = osp.splitext(osp.basename(args.leaf))[0]
    # one work directory for several leaves of a pair trains the baseline once per seed
    args.work_dir = args.work_dir or osp.join('work_dirs', f'search_{name}')
    args.out = args.out or osp.splitext(args.leaf)[0] + '_searched.py'
    return args


def main(argv=None) -> int:
    import mmseg_distill  # noqa: F401
    from mmseg_distill.pairing.jobs import ExecutorOptions
    from mmseg_distill.pairing.search import (WeightSearch, candidates, distill_options,
                                              loss_weight_keys, record, value_at)
    args = parse_args(argv)
    if not osp.exists(args.leaf):
        print(f'[search_weights] {args.leaf} does not exist', file=sys.stderr)
        return 2
    try:
        shipped = ({key: value_at(args.leaf, key) for key in args.keys} if args.keys
                   else loss_weight_keys(args.leaf))
        found = candidates(shipped, args.factors, args.mode)
    except (KeyError, ValueError) as error:
        print(f'[search_weights] {error}', file=sys.stderr)
        return 2
    options = [f'{k}={v!r}' if not isinstance(v, str) else f'{k}={v}'
               for k, v in args.cfg_options.items()]
    executor = ExecutorOptions(kind=args.executor, workers=args.jobs,
                               folder=osp.join(args.work_dir, 'jobs'),
                               slurm_partition=args.slurm_partition,
                               gpus_per_job=args.gpus_per_job)
    try:
        distill = distill_options(args.leaf, args.teacher_ckpt, args.stage1_ckpt)
    except ValueError as error:
        print(f'[search_weights] --stage1-ckpt: {error}', file=sys.stderr)
        return 2
    search = WeightSearch(args.leaf, found, args.seeds, args.work_dir, args.iters, options,
                          executor, log=lambda m: print(f'[search_weights] {m}', flush=True),
                          distill_options=distill)
    from mmseg_distill.pairing.search import SearchError
    try:
        result = search.run()
    except SearchError as error:
        print(f'[search_weights] nothing was trained: {error}', file=sys.stderr)
        return 2
    except RuntimeError as error:  # failed jobs, one line each (the logs have the rest)
        print(f'[search_weights] {error}', file=sys.stderr)
        return 1
    # the command as it was run: the script's path as given (the installed tool's path when
    # run by `mmseg-distill search`)
    command = 'python ' + shlex.join([sys.argv[0] if argv is None else __file__] +
                                     list(sys.argv[1:] if argv is None else argv))
    table = record(args.leaf, args.out, args.work_dir, command, shipped, found, result,
                   args.seeds)
    best = next(c for c in found if c.name == result['best'])
    print(table)
    print(f"[search_weights] best: {best.name}; not told apart from it: "
          f"{', '.join(result['tied']) or 'none'}; wrote {args.out}; "
          f"{result['seconds'] / 60:.1f} min wall, {result['job_seconds'] / 60:.1f} min of "
          'trainings')
    return 0


if __name__ == '__main__':
    sys.exit(main())

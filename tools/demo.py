"""The main job: show on a laptop CPU whether distillation helps, with every method, and what
each method transferred - with paired seeds and confidence intervals.

    python tools/demo.py [--quick] [--seeds 0 1 2 3 4] [--out work_dirs/demo] [--jobs 2]

1. generates the procedural street scenes: a train split, a tune split ('val', on which this
   regime was chosen) and a test split ('test', the only one reported);
2. trains the teacher (DeepLabV3 R18-tiny) with `mim train mmseg`;
3. per seed: one initial student (FCN MobileNetV2-tiny) shared by the baseline and every
   method (paired design: same initial weights, same data order), the baseline with
   `mim train mmseg`, every method form of ``mmseg_distill.methods`` with `mim train mmrazor`
   (KA after its stage 1); every run evaluated once, at its end, on the test split;
4. measures, per seed, each student's distance to the teacher in every relation the methods
   distil (``tools/transfer.py``, on the test split);
5. writes results.md / results.json, the paired differences (paired.png), the test mIoU
   (miou.png) and qualitative predictions with a colour legend (qualitative.png).

Every training job runs single-threaded (OMP_NUM_THREADS=1, MKL_NUM_THREADS=1), ``--jobs`` at a
time: a job's numbers then depend only on its config and seed, not on what else the machine runs
(with more threads they depend on the thread count). ``--quick`` is a smoke run of the same
pipeline (one seed, a few minutes): its figures are not evidence.
"""
import argparse
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def main():
    from mmseg_distill.experiments.demo import Pipeline
    from mmseg_distill.experiments.jobs import EXECUTORS
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='one seed, small budget (a few minutes): a smoke run')
    parser.add_argument('--seeds', type=int, nargs='+', default=None)
    parser.add_argument('--out', default=None)
    parser.add_argument('--jobs', type=int, default=2,
                        help='single-threaded training jobs at a time (default 2: the cores)')
    parser.add_argument('--executor', choices=EXECUTORS, default='local',
                        help='where the jobs run: this machine, or Slurm (submitit)')
    parser.add_argument('--slurm-partition', help='the Slurm partition (--executor slurm)')
    parser.add_argument('--force', action='store_true', help='retrain runs that are done')
    args = parser.parse_args()
    args.out = args.out or osp.join(REPO, 'work_dirs', 'demo-quick' if args.quick else 'demo')
    Pipeline(args).run()


if __name__ == '__main__':
    main()

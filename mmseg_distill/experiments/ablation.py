"""Demo ablations as a library (``tools/demo_ablation.py`` is the command line and describes
the use): one demo row re-trained with config changes, from the same initial students and
data order as the demo's baseline and the row it varies, paired with both."""
import argparse
import json
import os.path as osp
import statistics
import subprocess
import sys

from .. import testing
from .demo import Pipeline
from .jobs import EXECUTORS, Job, run_jobs
from .runs import slug
from .stats import paired
from .tuned import CHOSEN


def parse_args(argv=None, description='Re-train one demo row with config changes'):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('name', help='the variant\'s name (its folder under ablations/)')
    parser.add_argument('--row', required=True,
                        help="the demo row it varies, as the demo's table names it")
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    parser.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='changes to the row\'s leaf config (mim train --cfg-options)')
    parser.add_argument('--searched-weights', action='store_true',
                        help='vary the row at the weights the weight search chose for it (the '
                        "demo's second-table run, which the variant is then paired with); "
                        '--cfg-options apply on top of them')
    parser.add_argument('--transfer', action='store_true',
                        help='also measure every relation of baseline, row and variant')
    parser.add_argument('--out', default=osp.join(testing.REPO, 'work_dirs', 'demo'),
                        help='the demo run it belongs to')
    parser.add_argument('--preset', choices=('full', 'short'), default='full',
                        help="the regime of the demo run it belongs to (short: the first "
                        "round's, at which docs/demo.md's ablations were measured)")
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--executor', choices=EXECUTORS, default='local')
    parser.add_argument('--slurm-partition')
    return parser.parse_args(argv)


def demo_pipeline(args):
    """The demo run an ablation belongs to."""
    # every form's run folder, at the regime of the demo run (a preset and its all-forms run
    # share the regime and the folders)
    return Pipeline(argparse.Namespace(
        preset=args.preset, forms='all', seeds=args.seeds, out=args.out, force=False,
        jobs=args.jobs, executor=args.executor, slurm_partition=args.slurm_partition))


def row_runs(pipeline, args):
    """The row's run folder per seed and the options that make its weights: the first
    table's run, or with ``--searched-weights`` the second table's (its shipped run where the
    search kept the shipped weights). Needs ``pipeline.jobs()`` first."""
    runs = {seed: pipeline.runs[seed, args.row] for seed in args.seeds}
    if not args.searched_weights:
        return runs, []
    choice = pipeline.choices.get(args.row)
    if choice is None or choice.status != CHOSEN:
        why = 'no search log of this regime' if choice is None else \
            f'{choice.status}: {choice.reason or choice.log}'
        raise SystemExit(f'--searched-weights: {args.row!r} has no usable search ({why}); '
                         'tools/search_weights.py or tools/demo.py --search makes it')
    if not choice.changes_weights:
        return runs, []
    return {seed: pipeline.tuned_runs[seed, args.row] for seed in args.seeds}, choice.options()


def run(args):
    """Train the variant on every seed, pair it with the demo's runs, print and write it."""
    pipeline = demo_pipeline(args)
    pipeline.jobs()  # the demo's run folders (nothing is trained here)
    forms = {form.label: (method, form) for method, form in pipeline.forms}
    if args.row not in forms:
        raise SystemExit(f'--row {args.row!r} is not a demo row; rows: {sorted(forms)}')
    method, form = forms[args.row]
    row_dirs, row_options = row_runs(pipeline, args)
    p = pipeline.preset
    teacher_ckpt = osp.join(pipeline.out, 'teacher', f"iter_{p['teacher_iters']}.pth")
    for seed in args.seeds:
        for run_dir in (pipeline.runs[seed, 'baseline'], row_dirs[seed]):
            ckpt = osp.join(run_dir, f"iter_{p['student_iters']}.pth")
            if not osp.exists(ckpt):
                raise SystemExit(f'{ckpt} is missing: run tools/demo.py (same --seeds) first')
    root = osp.join(pipeline.out, 'ablations', args.name)
    stages = pipeline.stages
    jobs = []
    for seed in args.seeds:
        _, prefixed = pipeline.initial_students(seed)
        extra = [f'model.teacher_ckpt={teacher_ckpt}', f'load_from={prefixed}']
        if form.stage1:
            extra.append(f'{form.stage1.checkpoint_key}='
                         f'{pipeline.stage1_checkpoint(seed, form.stage1)}')
        work = osp.join(root, f'seed{seed}')
        leaf = pipeline.leaf(method.directory, form.prefix)
        jobs.append(Job(f'seed {seed}: {args.name}', lambda s=seed, w=work, e=extra: pipeline.train(
            'mmrazor', leaf, w, p['student_iters'], s, p['student_lr'],
            e + row_options + list(args.cfg_options))))
    run_jobs(jobs, pipeline.executor_options(), pipeline.log)

    miou = {'baseline': [pipeline.miou(pipeline.runs[s, 'baseline']) for s in args.seeds],
            args.row: [pipeline.miou(row_dirs[s]) for s in args.seeds]}
    miou[args.name] = [pipeline.miou(osp.join(root, f'seed{s}')) for s in args.seeds]
    results = dict(row=args.row, searched_weights=args.searched_weights,
                   row_options=row_options, cfg_options=args.cfg_options,
                   seeds=args.seeds, miou=miou,
                   variant_minus_baseline=paired(miou[args.name], miou['baseline']),
                   variant_minus_row=paired(miou[args.name], miou[args.row]))
    if args.transfer:
        results['transfer'] = {}
        for seed in args.seeds:
            out = osp.join(root, f'seed{seed}', 'transfer')
            cmd = [sys.executable, '-m', 'mmseg_distill.evidence.transfer',
                   testing.TEACHER_CFG, teacher_ckpt, '--data', pipeline.data_config(),
                   '--out', out]
            if stages and osp.exists(pipeline.stage1_checkpoint(seed, stages[0])):
                cmd += ['--stage1', pipeline.stage1_checkpoint(seed, stages[0])]
            for name, run in (('baseline', pipeline.runs[seed, 'baseline']),
                              (slug(args.row), row_dirs[seed]),
                              (args.name, osp.join(root, f'seed{seed}'))):
                cmd += ['--student', name, testing.STUDENT_CFG,
                        osp.join(run, f"iter_{p['student_iters']}.pth")]
            subprocess.run(cmd, check=True, env=pipeline.env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            with open(osp.join(out, 'transfer.json')) as f:
                results['transfer'][seed] = json.load(f)
    with open(osp.join(root, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)

    row_label = args.row + (' (searched weights)' if args.searched_weights else '')
    print(f"| seed | baseline | {row_label} | {args.name} |\n| --- | --- | --- | --- |")
    for i, seed in enumerate(args.seeds):
        print(f"| {seed} | {miou['baseline'][i]:.2f} | {miou[args.row][i]:.2f} | "
              f"{miou[args.name][i]:.2f} |")
    print(f"| mean | {statistics.mean(miou['baseline']):.2f} | "
          f"{statistics.mean(miou[args.row]):.2f} | {statistics.mean(miou[args.name]):.2f} |")
    for label, key in (('baseline', 'variant_minus_baseline'), (row_label, 'variant_minus_row')):
        stats = results[key]
        interval = ('' if stats['low'] is None
                    else f" [{stats['low']:+.2f}, {stats['high']:+.2f}]")
        print(f"{args.name} - {label}: {stats['mean']:+.2f}{interval} ({stats['verdict']})")
    if args.transfer:
        print_transfer(results, args.seeds, args.row, args.name)
    print(f'wrote {root}/results.json')


def print_transfer(results, seeds, row, name):
    """Each relation's distance to the teacher (agreement: share of pixels, higher is closer),
    mean over seeds, with the variant's paired change against the baseline and the row."""
    names = ('baseline', slug(row), name)
    relations = list(results['transfer'][seeds[0]]['baseline'])
    print(f'\n| relation | baseline | {row} | {name} | {name} - baseline | {name} - row |\n'
          '| --- | --- | --- | --- | --- | --- |')
    for relation in relations:
        values = {n: [results['transfer'][s][n][relation] for s in seeds] for n in names}
        cells = [f'{statistics.mean(values[n]):.4g}' for n in names]
        for other in ('baseline', slug(row)):
            stats = paired(values[name], values[other])
            interval = ('' if stats['low'] is None
                        else f" [{stats['low']:+.3g}, {stats['high']:+.3g}]")
            cells.append(f"{stats['mean']:+.3g}{interval}")
        print(f"| {relation} | {' | '.join(cells)} |")

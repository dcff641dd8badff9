"""Demo ablations as a library (``tools/demo_ablation.py`` is the command line and describes
the use): one demo row re-trained with config changes, from the same initial students and
data order as the demo's baseline and the row it varies, paired with both."""
import argparse
import json
import os.path as osp
import statistics
import subprocess
import sys

from benchmarks import tiny
from mmseg_distill.pairing.jobs import EXECUTORS, Job, run_jobs
from mmseg_distill.pairing.runs import slug
from mmseg_distill.utils.stats import interval_text, paired
from .pipeline import Pipeline
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
    parser.add_argument('--compare', nargs='+', default=[], metavar='ROW',
                        help='other demo rows the variant is also paired with (at their '
                        'searched weights with --searched-weights)')
    parser.add_argument('--transfer', action='store_true',
                        help='also measure every relation of baseline, row and variant')
    parser.add_argument('--out', default=osp.join(tiny.REPO, 'work_dirs', 'demo'),
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


def row_runs(pipeline, row, seeds, searched_weights=False):
    """A demo row's run folder per seed and the options that make its weights: the first
    table's run, or with ``searched_weights`` the second table's (its shipped run where the
    search kept the shipped weights). Needs ``pipeline.jobs()`` first."""
    runs = {seed: pipeline.runs[seed, row] for seed in seeds}
    if not searched_weights:
        return runs, []
    choice = pipeline.choices.get(row)
    if choice is None or choice.status != CHOSEN:
        why = 'no search log of this regime' if choice is None else \
            f'{choice.status}: {choice.reason or choice.log}'
        raise SystemExit(f'--searched-weights: {row!r} has no usable search ({why}); '
                         'tools/search_weights.py or tools/demo.py --search makes it')
    if not choice.changes_weights:
        return runs, []
    return {seed: pipeline.tuned_runs[seed, row] for seed in seeds}, choice.options()


def run(args):
    """Train the variant on every seed, pair it with the demo's runs, print and write it."""
    pipeline = demo_pipeline(args)
    pipeline.jobs()  # the demo's run folders (nothing is trained here)
    forms = {form.label: (method, form) for method, form in pipeline.forms}
    for row in [args.row] + args.compare:
        if row not in forms:
            raise SystemExit(f'{row!r} is not a demo row; rows: {sorted(forms)}')
    method, form = forms[args.row]
    row_dirs, row_options = row_runs(pipeline, args.row, args.seeds, args.searched_weights)
    # the other rows the variant is paired with, at the same kind of weights as the row
    compared = {row: row_runs(pipeline, row, args.seeds, args.searched_weights)[0]
                for row in args.compare if row != args.row}
    p = pipeline.preset
    teacher_ckpt = osp.join(pipeline.out, 'teacher', f"iter_{p['teacher_iters']}.pth")
    for seed in args.seeds:
        for dirs in [{seed: pipeline.runs[seed, 'baseline']}, row_dirs, *compared.values()]:
            ckpt = osp.join(dirs[seed], f"iter_{p['student_iters']}.pth")
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
    for row, dirs in compared.items():
        miou[row] = [pipeline.miou(dirs[s]) for s in args.seeds]
    miou[args.name] = [pipeline.miou(osp.join(root, f'seed{s}')) for s in args.seeds]
    results = dict(row=args.row, searched_weights=args.searched_weights,
                   row_options=row_options, cfg_options=args.cfg_options,
                   seeds=args.seeds, miou=miou,
                   variant_minus_baseline=paired(miou[args.name], miou['baseline']),
                   variant_minus_row=paired(miou[args.name], miou[args.row]),
                   variant_minus_compared={row: paired(miou[args.name], miou[row])
                                           for row in compared})
    if args.transfer:
        results['transfer'] = {}
        for seed in args.seeds:
            out = osp.join(root, f'seed{seed}', 'transfer')
            cmd = [sys.executable, '-m', 'mmseg_distill.evidence.transfer',
                   tiny.TEACHER_CFG, teacher_ckpt, '--data', pipeline.data_config(),
                   '--out', out]
            if stages and osp.exists(pipeline.stage1_checkpoint(seed, stages[0])):
                cmd += ['--stage1', pipeline.stage1_checkpoint(seed, stages[0])]
            for name, run in (('baseline', pipeline.runs[seed, 'baseline']),
                              (slug(args.row), row_dirs[seed]),
                              (args.name, osp.join(root, f'seed{seed}'))):
                cmd += ['--student', name, tiny.STUDENT_CFG,
                        osp.join(run, f"iter_{p['student_iters']}.pth")]
            subprocess.run(cmd, check=True, env=pipeline.env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            with open(osp.join(out, 'transfer.json')) as f:
                results['transfer'][seed] = json.load(f)
    with open(osp.join(root, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)

    suffix = ' (searched weights)' if args.searched_weights else ''
    columns = ['baseline', args.row, *compared, args.name]
    headers = [c + suffix if c in compared or c == args.row else c for c in columns]
    print('| seed | ' + ' | '.join(headers) + ' |\n' + '| --- ' * (len(columns) + 1) + '|')
    for i, seed in enumerate(args.seeds):
        print(f'| {seed} | ' + ' | '.join(f'{miou[c][i]:.2f}' for c in columns) + ' |')
    print('| mean | ' + ' | '.join(f'{statistics.mean(miou[c]):.2f}' for c in columns) + ' |')
    differences = [('baseline', results['variant_minus_baseline']),
                   (args.row + suffix, results['variant_minus_row'])]
    differences += [(row + suffix, d) for row, d in results['variant_minus_compared'].items()]
    for label, stats in differences:
        one_seed = f"{stats['mean']:+.2f}"
        print(f"{args.name} - {label}: {interval_text(stats, one_seed)} ({stats['verdict']})")
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

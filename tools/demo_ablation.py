"""Re-train one demo row with config changes, paired with the demo's own runs.

The question it answers is "which part of a recipe makes the difference": switch a term off,
scale its weight, keep a schedule's floor... The variant starts from the same initial student
and sees the same data order as the demo's baseline and the row it varies, on each seed, so
its paired difference to both is as clean as the demo's own. It needs a finished
``tools/demo.py`` run (the teacher, the initial students and the runs it compares with).

    python tools/demo_ablation.py csd-x100 --row 'DSD (CIRKD form)' --seeds 0 1 \\
        --cfg-options model.distiller.distill_losses.loss_csd.loss_weight=1000.0

Writes ``<demo>/ablations/<name>/seed<s>/`` (runs and, with ``--transfer``, what each student
took from the teacher) and ``<demo>/ablations/<name>/results.json``; prints the test mIoU of
baseline, row and variant per seed with the paired differences.
"""
import argparse
import json
import os.path as osp
import statistics
import subprocess
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import demo  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('name', help='the variant\'s name (its folder under ablations/)')
    parser.add_argument('--row', required=True,
                        help="the demo row it varies, as the demo's table names it")
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    parser.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='changes to the row\'s leaf config (mim train --cfg-options)')
    parser.add_argument('--transfer', action='store_true',
                        help='also measure every relation of baseline, row and variant')
    parser.add_argument('--out', default=osp.join(demo.REPO, 'work_dirs', 'demo'),
                        help='the demo run it belongs to')
    parser.add_argument('--jobs', type=int, default=2)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    pipeline = demo.Pipeline(argparse.Namespace(quick=False, seeds=args.seeds, out=args.out,
                                                force=False, jobs=args.jobs))
    pipeline.jobs()  # the demo's run folders (nothing is trained here)
    forms = {form.label: (method, form) for method, form in pipeline.forms}
    if args.row not in forms:
        raise SystemExit(f'--row {args.row!r} is not a demo row; rows: {sorted(forms)}')
    method, form = forms[args.row]
    p = pipeline.preset
    teacher_ckpt = osp.join(pipeline.out, 'teacher', f"iter_{p['teacher_iters']}.pth")
    for seed in args.seeds:
        for row in ('baseline', args.row):
            ckpt = osp.join(pipeline.runs[seed, row], f"iter_{p['student_iters']}.pth")
            if not osp.exists(ckpt):
                raise SystemExit(f'{ckpt} is missing: run tools/demo.py (same --seeds) first')
    root = osp.join(pipeline.out, 'ablations', args.name)
    stage1 = lambda seed: osp.join(pipeline.out, f'seed{seed}', 'ka-stage1',  # noqa: E731
                                   f"iter_{p['ka_stage1_iters']}.pth")
    jobs = []
    for seed in args.seeds:
        _, prefixed = pipeline.initial_students(seed)
        extra = [f'model.teacher_ckpt={teacher_ckpt}', f'load_from={prefixed}']
        if form.stage1:
            extra.append('model.distiller.connectors.teacher_autoencoder.checkpoint='
                         f'{stage1(seed)}')
        work = osp.join(root, f'seed{seed}')
        jobs.append(demo.Job(f'seed {seed}: {args.name}', lambda s=seed, w=work, e=extra:
                             pipeline.train('mmrazor', pipeline.leaf(method.directory,
                                                                     form.prefix),
                                            w, p['student_iters'], s, p['student_lr'],
                                            e + list(args.cfg_options))))
    demo.run_jobs(jobs, args.jobs, pipeline.log)

    miou = {row: [pipeline.miou(pipeline.runs[s, row]) for s in args.seeds]
            for row in ('baseline', args.row)}
    miou[args.name] = [pipeline.miou(osp.join(root, f'seed{s}')) for s in args.seeds]
    results = dict(row=args.row, cfg_options=args.cfg_options, seeds=args.seeds, miou=miou,
                   variant_minus_baseline=demo.paired(miou[args.name], miou['baseline']),
                   variant_minus_row=demo.paired(miou[args.name], miou[args.row]))
    if args.transfer:
        results['transfer'] = {}
        for seed in args.seeds:
            out = osp.join(root, f'seed{seed}', 'transfer')
            cmd = [sys.executable, osp.join(demo.REPO, 'tools', 'transfer.py'),
                   pipeline.testing.TEACHER_CFG, teacher_ckpt, '--data',
                   pipeline.data_config(), '--out', out]
            if osp.exists(stage1(seed)):
                cmd += ['--ka-stage1', stage1(seed)]
            for name, run in (('baseline', pipeline.runs[seed, 'baseline']),
                              (demo.slug(args.row), pipeline.runs[seed, args.row]),
                              (args.name, osp.join(root, f'seed{seed}'))):
                cmd += ['--student', name, pipeline.testing.STUDENT_CFG,
                        osp.join(run, f"iter_{p['student_iters']}.pth")]
            subprocess.run(cmd, check=True, env=pipeline.env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            with open(osp.join(out, 'transfer.json')) as f:
                results['transfer'][seed] = json.load(f)
    with open(osp.join(root, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)

    print(f"| seed | baseline | {args.row} | {args.name} |\n| --- | --- | --- | --- |")
    for i, seed in enumerate(args.seeds):
        print(f"| {seed} | {miou['baseline'][i]:.2f} | {miou[args.row][i]:.2f} | "
              f"{miou[args.name][i]:.2f} |")
    print(f"| mean | {statistics.mean(miou['baseline']):.2f} | "
          f"{statistics.mean(miou[args.row]):.2f} | {statistics.mean(miou[args.name]):.2f} |")
    for label, key in (('baseline', 'variant_minus_baseline'), (args.row, 'variant_minus_row')):
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
    names = ('baseline', demo.slug(row), name)
    relations = list(results['transfer'][seeds[0]]['baseline'])
    print(f'\n| relation | baseline | {row} | {name} | {name} - baseline | {name} - row |\n'
          '| --- | --- | --- | --- | --- | --- |')
    for relation in relations:
        values = {n: [results['transfer'][s][n][relation] for s in seeds] for n in names}
        cells = [f'{statistics.mean(values[n]):.4g}' for n in names]
        for other in ('baseline', demo.slug(row)):
            stats = demo.paired(values[name], values[other])
            interval = ('' if stats['low'] is None
                        else f" [{stats['low']:+.3g}, {stats['high']:+.3g}]")
            cells.append(f"{stats['mean']:+.3g}{interval}")
        print(f"| {relation} | {' | '.join(cells)} |")


if __name__ == '__main__':
    main()

"""The benchmark as a library: the measurement worker processes, the step tables of the shipped
pairs, and the whole run ``tools/benchmark.py`` is the command line of.

Every measurement runs in a fresh subprocess (``python -m benchmarks.speed.runner
--worker KIND SPEC``), so one measurement's allocations and threads never reach another's.
"""
import json
import os
import os.path as osp
import subprocess
import sys
import time

from benchmarks import with_lab_on_path
from benchmarks.tiny import REPO
from mmseg_distill.methods import METHODS

PAIR = 'deeplabv3-r101-d8_deeplabv3-r18-d8_4xb2-80k_cityscapes-512x1024'
# teacher_precision of the extra reduced-precision step row: bf16 autocast on CPUs, fp16 on GPUs
REDUCED_PRECISION = {'cpu': 'bf16', 'cuda': 'fp16'}
# the model-zoo pairs at their real crop and per-GPU batch (the GPU preset's step table)
ZOO_PAIRS = [
    ('PSPNet R101-D8 -> R18-D8', 'pspnet-r101-d8_pspnet-r18-d8_4xb2-80k_cityscapes-512x1024',
     (512, 1024), 2, 19),
    ('DeepLabV3 R101-D8 -> R18-D8', PAIR, (512, 1024), 2, 19),
    ('DeepLabV3+ R101-D8 -> MobileNetV2',
     'deeplabv3plus-r101-d8_deeplabv3plus-mobilenet-v2-d8_4xb4-40k_voc12aug-512x512',
     (512, 512), 4, 21),
    ('SegFormer MiT-B2 -> MiT-B0', 'segformer-mit-b2_segformer-mit-b0_8xb2-160k_ade20k-512x512',
     (512, 512), 2, 150),
]


def default_leaves(pair):
    """(method, leaf) of each method's default form on a shipped pair."""
    return [(method.key, osp.join(REPO, 'configs', method.forms[0].leaf(method.directory, pair)))
            for method in METHODS.values()]


def run_worker(kind, spec, timeout=None):
    """``kind`` ('ours', 'pair', 'step') in a fresh process; its JSON result."""
    # the worker imports this package from the clone
    env = with_lab_on_path(dict(os.environ, PYTHONWARNINGS='ignore'))
    if spec.get('pin_malloc', True):
        # RSS then follows live memory (freed buffers go back to the system), at the price of
        # a page-fault per large allocation: right for memory, wrong for allocation-heavy timing
        env['MALLOC_MMAP_THRESHOLD_'] = '131072'
    try:
        out = subprocess.run([sys.executable, '-m', __name__, '--worker', kind,
                              json.dumps(spec)],
                             capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {'status': 'timeout', 'seconds': timeout}
    lines = [line for line in out.stdout.splitlines() if line.startswith('{')]
    if out.returncode != 0 or not lines:
        tail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ['killed']
        if out.returncode < 0 or 'MemoryError' in out.stderr or 'memory' in tail[0].lower():
            return {'status': 'oom', 'error': tail[0][:160]}
        raise RuntimeError(f'worker failed: {out.stderr[-2000:]}')
    return json.loads(lines[-1])


def step_row(spec, **extra):
    """A step worker for timing (glibc's allocator as is) and one for peak memory."""
    row = dict(extra, **run_worker('step', dict(spec, pin_malloc=False)))
    row.update(run_worker('step', dict(spec, memory_only=True)))
    return row


def bench_steps(args):
    import tempfile
    size = (128, 256) if args.preset == 'quick' else (256, 512)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = dict(device=args.device, threads=args.threads, size=size, batch=2,
                    rounds=3 if args.preset == 'quick' else 7, tmp=tmp, num_classes=19)
        runs = [(m, leaf, fast, 'fp32') for m, leaf in default_leaves(PAIR)
                for fast in (True, False)]
        # the frozen teacher-side connectors of a two-stage method run in the teacher's
        # precision: one reduced-precision row each
        runs += [(m, leaf, True, REDUCED_PRECISION[args.device])
                 for m, leaf in default_leaves(PAIR) if METHODS[m].stage1]
        for method, leaf, fast, precision in runs:
            spec = dict(base, leaf=leaf, fast_path=fast, teacher_precision=precision)
            rows.append(step_row(spec, method=method, leaf=osp.relpath(leaf, REPO),
                                 fast_path=fast, teacher_precision=precision))
            print(f"  step {method} fast path {fast} teacher {precision}: "
                  f"{rows[-1]['step']['median']:.1f} ms", flush=True)
    return dict(pair='DeepLabV3 R101-D8 -> DeepLabV3 R18-D8 (random weights)',
                input=f'2x3x{size[0]}x{size[1]}', rows=rows)


def bench_zoo_steps(args, shrink=1):
    """Each method's default form on the four model-zoo pairs (``shrink`` divides crops: a
    CPU test run of the GPU preset)."""
    import tempfile
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, pair, crop, batch, classes in ZOO_PAIRS:
            crop = [crop[0] // shrink, crop[1] // shrink]
            for method, leaf in default_leaves(pair):
                spec = dict(device=args.device, threads=args.threads, size=crop, batch=batch,
                            rounds=args.repeats, tmp=tmp, num_classes=classes, leaf=leaf)
                rows.append(step_row(spec, pair=name, method=method, crop=crop, batch=batch))
                print(f"  {name} {method}: {rows[-1]['step']['median']:.1f} ms, ratio "
                      f"{rows[-1]['step_ratio']['median']:.2f}", flush=True)
    return rows


def parse_args(argv=None, description='The benchmark'):
    """``tools/benchmark.py``'s options."""
    import argparse
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--preset', choices=['full', 'quick', 'gpu'], default='full',
                        help="gpu: Cityscapes-scale losses and the four model-zoo pairs at "
                             "their real crop and batch (docs/benchmark_gpu.md)")
    parser.add_argument('--shrink', type=int, default=1,
                        help="divide the gpu preset's sizes (a CPU test run of it)")
    parser.add_argument('--report', help='also write the Markdown tables to this file')
    parser.add_argument('--device', default=None)
    parser.add_argument('--out', default='work_dirs/benchmark')
    parser.add_argument('--threads', type=int, default=os.cpu_count())
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--max-seconds', type=float, default=30.0,
                        help='time budget for the repeats of one loss measurement')
    parser.add_argument('--naive-budget-gib', type=float, default=12.0)
    parser.add_argument('--naive-timeout', type=float, default=300.0,
                        help='seconds after which a naive measurement is stopped')
    parser.add_argument('--skip-step', action='store_true')
    parser.add_argument('--steps-only', action='store_true',
                        help="re-measure only the step table; keep --out's other results, if any")
    return parser.parse_args(argv)


def run(args):
    """The benchmark ``args`` asks for (``tools/benchmark.py``'s options)."""
    import torch

    from . import losses, report
    args.device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    os.makedirs(args.out, exist_ok=True)
    device_name = torch.cuda.get_device_name() if args.device == 'cuda' else \
        f'CPU ({os.cpu_count()} cores)'
    results = dict(device=device_name, preset=args.preset, torch=torch.__version__,
                   cuda=torch.version.cuda, date=time.strftime('%Y-%m-%d'),
                   threads=args.threads, naive_budget_gib=args.naive_budget_gib, losses=[])
    base = dict(device=args.device, threads=args.threads, repeats=args.repeats,
                max_seconds=args.max_seconds, budget_gib=args.naive_budget_gib,
                naive_timeout=args.naive_timeout)
    if args.steps_only:
        previous = osp.join(args.out, 'benchmark.json')
        if osp.exists(previous):  # keep the loss and scaling tables of an earlier run
            with open(previous) as f:
                kept = json.load(f)
            results.update(losses=kept.get('losses', []), scaling=kept.get('scaling'))
        results['steps'] = bench_steps(args)
        return write_results(args, results)
    print('[benchmark] losses', flush=True)
    cases = {'full': losses.FULL_CASES, 'quick': losses.QUICK_CASES}.get(args.preset) or \
        losses.gpu_cases(args.shrink)
    results['losses'] = losses.bench_losses(run_worker, cases, base)
    if args.preset == 'gpu':
        if not args.skip_step:
            print('[benchmark] model-zoo training steps', flush=True)
            results['zoo_steps'] = bench_zoo_steps(args, args.shrink)
        return write_results(args, results)
    print('[benchmark] scaling', flush=True)
    results['scaling'] = losses.bench_scaling(run_worker, args.preset, base)
    report.plot_scaling(results['scaling'], osp.join(args.out, 'scaling.png'))
    if not args.skip_step:
        print('[benchmark] training step', flush=True)
        results['steps'] = bench_steps(args)
    write_results(args, results)


def write_results(args, results):
    from . import report
    with open(osp.join(args.out, 'benchmark.json'), 'w') as f:
        json.dump(results, f, indent=1)
    parts = [report.loss_table(results)] if results['losses'] else []
    if results.get('steps'):
        parts.append(report.step_table(results['steps']))
    if results.get('zoo_steps'):
        parts.append('Training steps of the model-zoo pairs (random weights, teacher fast path '
                     'on):\n\n' + report.zoo_table(results['zoo_steps']))
    if args.preset == 'gpu':
        parts.append('Targets:\n\n' + report.gpu_targets(results))
    table = '\n\n'.join(parts)
    with open(osp.join(args.out, 'benchmark.md'), 'w') as f:
        f.write(table + '\n')
    if args.report:
        with open(args.report, 'w') as f:
            f.write(f"# Benchmark: `python tools/benchmark.py {' '.join(sys.argv[1:])}`\n\n"
                    f"CUDA {results.get('cuda')}\n\n" + table + '\n')
    print(table)
    print(f'[benchmark] wrote {args.out}/benchmark.json, benchmark.md')


def worker_main(argv=None):
    """A measurement worker: ``--worker KIND SPEC`` prints the JSON result of one measurement."""
    import argparse

    from . import losses, steps
    parser = argparse.ArgumentParser()
    parser.add_argument('--worker', nargs=2, required=True)
    kind, spec = parser.parse_args(argv).worker
    worker = {'ours': losses.worker_ours, 'pair': losses.worker_pair,
              'step': steps.worker_step}[kind]
    print(json.dumps(worker(json.loads(spec))))


if __name__ == '__main__':
    worker_main()

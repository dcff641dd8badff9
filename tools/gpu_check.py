"""Validate the plugin on a device: loss numerics, `mim train` (and `--amp`), resume, export.

    python tools/gpu_check.py [--device cuda|cpu] [--out DIR] [--iters N] [--report PATH]
        [--install-steps TSV]

``tools/gpu_check.sh`` installs the stack on a bare GPU machine and then runs this. Every check
prints PASS/FAIL with its figure; the report (Markdown + JSON) goes to ``--out`` and, with
``--report``, to a file in the repository (docs/gpu_validation.md). Exit status 1 if any check
failed. ``--device cpu`` runs the same code path on the CPU with the same tiny pair (there
`--amp` is reported as skipped: MMEngine's AmpOptimWrapper needs a GPU).
"""
import argparse
import json
import math
import os
import os.path as osp
import platform
import re
import shutil
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
from benchmarks.tiny import CONFIGS as CFG  # noqa: E402
from benchmarks.tiny import STUDENT_CFG, TEACHER_CFG  # noqa: E402
from benchmarks.tiny import TINY_PAIR as PAIR  # noqa: E402
from mmseg_distill.methods import all_forms  # noqa: E402
from mmseg_distill.pairing.runs import logged_scalars, mim_train, schedule_options  # noqa: E402

# every method form on the tiny pair (the one list, mmseg_distill.methods)
LEAVES = [f'{method.directory}/{form.prefix}' for method, form in all_forms()]
# the export check exports the first form's student; the resume check runs the first form whose
# weights follow a schedule (it must continue exactly too)
EXPORTED = LEAVES[0]
RESUMED = next(f'{m.directory}/{f.prefix}' for m, f in all_forms() if f.weight_schedule)
DEVICE_LOSS_TESTS = 'tests/test_models/test_losses/test_device_losses.py'
RESUME_TOLERANCE = {'cpu': 1e-5, 'cuda': 1e-3}
AMP_INIT_SCALE = 2.0**16  # torch GradScaler's default, which MMEngine's 'dynamic' scaler uses


class Checks:
    """Runs the checks, times them and collects PASS/FAIL rows."""

    def __init__(self, args):
        self.args = args
        self.out = osp.abspath(args.out)
        self.mim = osp.join(osp.dirname(sys.executable), 'mim')
        self.rows = []
        self.env = dict(os.environ, PYTHONUNBUFFERED='1', CUBLAS_WORKSPACE_CONFIG=':4096:8')
        if args.device == 'cpu':
            self.env['CUDA_VISIBLE_DEVICES'] = ''  # MMEngine picks CUDA whenever it sees one

    def record(self, name, passed, figure, seconds):
        self.rows.append(dict(check=name, result='PASS' if passed else 'FAIL', figure=figure,
                              seconds=round(seconds, 1)))
        print(f"[gpu_check] {'PASS' if passed else 'FAIL'} {name}: {figure} ({seconds:.1f} s)",
              flush=True)

    def run(self, name, fn):
        begin = time.time()
        try:
            passed, figure = fn()
        except Exception as error:  # a failed check is reported, the others still run
            passed, figure = False, f'{type(error).__name__}: {str(error)[-300:]}'
        self.record(name, passed, figure, time.time() - begin)
        return passed

    # ------------------------------------------------------------------------- helpers
    def options(self, iters, extra=()):
        data = osp.join(self.out, 'data', 'synthetic_scenes')
        opts = schedule_options(iters, scheduler_end=True) + [
            'default_hooks.logger.interval=1', 'default_hooks.visualization.draw=False',
            'randomness.seed=0', 'env_cfg.cudnn_benchmark=False']
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            opts += [f'{loader}.dataset.data_root={data}',
                     f'{loader}.dataset.generator.num_train=16',
                     f'{loader}.dataset.generator.num_val=8']
        return opts + list(extra)

    def mim_train(self, package, config, work_dir, iters, extra=(), flags=()):
        os.makedirs(work_dir, exist_ok=True)
        out = mim_train(package, config, work_dir, self.out, self.options(iters, extra), flags,
                        env=self.env, timeout=3600, log=osp.join(work_dir, 'run.log'))
        if out.returncode != 0:
            with open(osp.join(work_dir, 'run.log')) as log:
                raise RuntimeError(f'mim train {package} exited {out.returncode}: '
                                   f'{log.read()[-600:]}')
        return osp.join(work_dir, f'iter_{iters}.pth')

    scalars = staticmethod(logged_scalars)

    def training_figures(self, work_dir):
        records = self.scalars(work_dir)
        train = [r for r in records if 'loss' in r]
        losses = [v for r in train for k, v in r.items() if 'loss' in k]
        miou = [r['mIoU'] for r in records if 'mIoU' in r]
        finite = bool(losses) and all(math.isfinite(v) for v in losses)
        return finite, bool(miou), train, (miou[-1] if miou else None)

    # --------------------------------------------------------------------------- checks
    def environment(self):
        import torch
        info = dict(python=platform.python_version(), torch=torch.__version__,
                    cuda=torch.version.cuda, device=self.args.device)
        if self.args.device == 'cuda':
            info['device_name'] = torch.cuda.get_device_name(0)
            try:
                info['driver'] = subprocess.run(
                    ['nvidia-smi', '--query-gpu=driver_version', '--format=csv,noheader'],
                    capture_output=True, text=True, timeout=30).stdout.strip()
            except OSError:
                info['driver'] = 'nvidia-smi not found'
        else:
            info['device_name'] = f'CPU ({os.cpu_count()} cores)'
        import mmcv
        info['mmcv'] = mmcv.__version__
        try:
            from mmcv.ops import get_compiling_cuda_version
            built = get_compiling_cuda_version()
            info['mmcv_build'] = 'CPU ops only (built with CUDA hidden; no mmcv CUDA kernels)' \
                if built in ('not available', '', None) else f'ops with CUDA {built}'
        except ImportError as error:
            info['mmcv_build'] = f'no compiled ops ({error})'
        for name in ('mmengine', 'mmseg', 'mmrazor'):
            info[name] = __import__(name).__version__
        return info

    def loss_tests(self):
        env = dict(self.env, MMSEG_DISTILL_TEST_DEVICE=self.args.device)
        if self.args.device == 'cpu':
            env['MMSEG_DISTILL_TEST_SIZES'] = 'small'
        out = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
                              osp.join(REPO, DEVICE_LOSS_TESTS)], cwd=REPO,
                             env=env, capture_output=True, text=True)
        with open(osp.join(self.out, 'loss_tests.log'), 'w') as f:
            f.write(out.stdout + out.stderr)
        summary = (out.stdout.strip().splitlines() or ['no output'])[-1]
        passed = out.returncode == 0 and ' passed' in summary and 'skipped' not in summary
        return passed, summary

    def teacher(self):
        self.teacher_ckpt = self.mim_train('mmseg', TEACHER_CFG, osp.join(self.out, 'teacher'),
                                           self.args.iters)
        finite, validated, _, miou = self.training_figures(osp.join(self.out, 'teacher'))
        return finite and validated, f'teacher trained, val mIoU {miou}'

    def method(self, leaf, amp):
        method_dir, name = leaf.split('/')
        tag = name + ('-amp' if amp else '')
        work_dir = osp.join(self.out, tag)
        extra = [f'model.teacher_ckpt={self.teacher_ckpt}']
        stage = next(f.stage1 for m, f in all_forms() if f'{m.directory}/{f.prefix}' == leaf)
        if stage:  # a form that trains on a first stage's checkpoint (KA's encoder)
            stage1 = self.mim_train('mmrazor', osp.join(CFG, method_dir,
                                                        f'{stage.prefix}_{PAIR}.py'),
                                    osp.join(self.out, stage.prefix + ('-amp' if amp else '')),
                                    self.args.iters, extra, ['--amp'] if amp else [])
            extra.append(f'{stage.checkpoint_key}={stage1}')
        ckpt = self.mim_train('mmrazor', osp.join(CFG, method_dir, f'{name}_{PAIR}.py'),
                              work_dir, self.args.iters, extra, ['--amp'] if amp else [])
        finite, validated, train, miou = self.training_figures(work_dir)
        figure = f'{len(train)} logged steps, losses finite: {finite}, student val mIoU {miou}'
        passed = finite and validated
        if amp:
            import torch
            scaler = torch.load(ckpt, map_location='cpu', weights_only=False)['optimizer'].get(
                'loss_scaler', {})
            scale = float(scaler.get('scale', float('nan')))
            # every skipped step halves the scale: all skipped would leave init * 0.5**iters
            stepped = scale > AMP_INIT_SCALE * 0.5**self.args.iters
            figure += f', loss scale {scale:g} (all steps skipped would be ' \
                      f'{AMP_INIT_SCALE * 0.5**self.args.iters:g})'
            passed = passed and stepped
        if leaf == EXPORTED and not amp:
            self.export_source = (ckpt, miou)
        return passed, figure

    def resume(self):
        leaf = osp.join(CFG, f'{RESUMED}_{PAIR}.py')
        extra = [f'model.teacher_ckpt={self.teacher_ckpt}']
        iters, half = self.args.iters, self.args.iters // 2
        full = osp.join(self.out, 'resume-full')
        self.mim_train('mmrazor', leaf, full, iters,
                       extra + [f'default_hooks.checkpoint.interval={half}'])
        part = osp.join(self.out, 'resume-part')
        shutil.rmtree(part, ignore_errors=True)
        shutil.copytree(full, part, ignore=shutil.ignore_patterns(f'iter_{iters}.pth', '2*'))
        with open(osp.join(part, 'last_checkpoint'), 'w') as f:
            f.write(osp.join(part, f'iter_{half}.pth'))
        self.mim_train('mmrazor', leaf, part, iters,
                       extra + [f'default_hooks.checkpoint.interval={half}'], ['--resume'])
        want = {r['iter']: r['loss'] for r in self.scalars(full) if 'loss' in r}
        got = {r['iter']: r['loss'] for r in self.scalars(part) if 'loss' in r}
        later = [i for i in sorted(got) if i > half]
        worst = max(abs(got[i] - want[i]) / max(abs(want[i]), 1e-12) for i in later)
        # CUDA's bilinear-upsampling backward accumulates with atomics (no deterministic
        # kernel, so MMEngine's deterministic mode would refuse to run): same-seed runs differ
        # by float rounding there. A dropout mask drawn from the wrong RNG state changes the
        # loss by far more than either limit.
        limit = RESUME_TOLERANCE[self.args.device]
        return bool(later) and worst <= limit, \
            f'iterations {later[0]}-{later[-1]} after resuming at {half}: max relative ' \
            f'loss difference {worst:.1e} (limit {limit:g})'

    def export_and_test(self):
        sys.path.insert(0, REPO)
        from mmseg_distill.engine.export import export_student
        ckpt, val_miou = self.export_source
        path, _ = export_student(ckpt, osp.join(self.out, 'exported'),
                                 f"{EXPORTED.split('/')[1]}_tiny")
        cmd = [self.mim, 'test', 'mmseg', STUDENT_CFG, '--checkpoint', path, '--work-dir',
               osp.join(self.out, 'mim-test'), '--cfg-options'] + [
                   o for o in self.options(1) if o.startswith('test_dataloader')]
        out = subprocess.run(cmd, cwd=self.out, env=self.env, capture_output=True, text=True)
        found = re.findall(r'mIoU: ([0-9.]+)', out.stdout + out.stderr)
        if out.returncode != 0 or not found:
            return False, f'mim test mmseg exited {out.returncode}: {out.stderr[-300:]}'
        # the log prints two decimals; scalars.json keeps the float32 value
        return abs(float(found[-1]) - val_miou) < 0.006, \
            f'mim test mmseg on the exported student: mIoU {found[-1]} (distillation val: ' \
            f'{val_miou})'

    # ---------------------------------------------------------------------------- main
    def main(self):
        os.makedirs(self.out, exist_ok=True)
        begin = time.time()
        info = self.environment()
        print(f'[gpu_check] {info}', flush=True)
        self.run(f'loss values and gradients vs CPU float64 ({DEVICE_LOSS_TESTS})',
                 self.loss_tests)
        if self.run('tiny teacher through mim train mmseg', self.teacher):
            for leaf in self.args.forms:
                self.run(f'mim train mmrazor {leaf}', lambda: self.method(leaf, False))
            if self.args.device == 'cuda':
                for leaf in self.args.forms:
                    self.run(f'mim train mmrazor {leaf} --amp', lambda: self.method(leaf, True))
            else:
                self.record('mim train mmrazor --amp', True,
                            'skipped: MMEngine AmpOptimWrapper needs a GPU', 0.0)
            self.run('interrupted + resumed run equals the uninterrupted one', self.resume)
            if hasattr(self, 'export_source'):
                self.run('exported student evaluates with mim test mmseg',
                         self.export_and_test)
        self.report(info, time.time() - begin)
        return 0 if all(r['result'] == 'PASS' for r in self.rows) else 1

    def report(self, info, seconds):
        steps = []
        if self.args.install_steps and osp.exists(self.args.install_steps):
            with open(self.args.install_steps) as f:
                steps = [line.rstrip('\n').split('\t') for line in f if line.strip()]
        lines = ['# Validation on a device', '',
                 f"`bash tools/gpu_check.sh --device {self.args.device}` on "
                 f"{time.strftime('%Y-%m-%d')}, {self.args.iters} iterations per run.", '',
                 '| item | value |', '| --- | --- |']
        lines += [f'| {k} | {v} |' for k, v in info.items()]
        if steps:
            lines += ['', '| install step | seconds | exit |', '| --- | --- | --- |']
            lines += [f'| {s[0]} | {float(s[1]) / 1000:.1f} | {s[2]} |' for s in steps]
        lines += ['', '| check | result | figure | seconds |', '| --- | --- | --- | --- |']
        lines += [f"| {r['check']} | {r['result']} | {r['figure']} | {r['seconds']} |"
                  for r in self.rows]
        lines += ['', f'Checks took {seconds:.0f} s in all.']
        text = '\n'.join(lines) + '\n'
        with open(osp.join(self.out, 'gpu_validation.md'), 'w') as f:
            f.write(text)
        with open(osp.join(self.out, 'gpu_validation.json'), 'w') as f:
            json.dump(dict(info=info, install=steps, checks=self.rows, seconds=seconds), f,
                      indent=1)
        if self.args.report:
            os.makedirs(osp.dirname(osp.abspath(self.args.report)), exist_ok=True)
            with open(self.args.report, 'w') as f:
                f.write(text)
        print(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0].replace('\n', ' '))
    parser.add_argument('--device', choices=['cuda', 'cpu'], default='cuda')
    parser.add_argument('--out', default=osp.join(REPO, 'work_dirs', 'gpu_check'))
    parser.add_argument('--iters', type=int, default=8)
    parser.add_argument('--report', help='also write the Markdown report here')
    parser.add_argument('--install-steps', help='TSV of install steps (name, ms, exit code)')
    parser.add_argument('--forms', nargs='+', default=LEAVES, choices=LEAVES, metavar='FORM',
                        help='the method forms to train, as <directory>/<prefix> (default: '
                        f"every form: {' '.join(LEAVES)}); the export check needs {EXPORTED}")
    args = parser.parse_args(argv)
    if args.device == 'cuda':
        import torch
        if not torch.cuda.is_available():
            parser.error('--device cuda: no CUDA device is visible (use --device cpu)')
    sys.exit(Checks(args).main())


if __name__ == '__main__':
    main()

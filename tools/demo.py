"""The main job: show on a laptop CPU whether distillation helps, with every method.

    python tools/demo.py [--quick] [--seeds 0 1 2] [--out work_dirs/demo]

1. generates the procedural street-scene dataset (cached),
2. trains the teacher (DeepLabV3 R18-tiny) and the student baseline (FCN MobileNetV2-tiny)
   with `mim train mmseg`,
3. distils the student with each method through `mim train mmrazor` (pixel KD, DSD, KA in two
   stages, PFS, AICSD with ALW), once per seed,
4. evaluates everything with MMSeg's IoUMetric and writes results.md / results.json, a bar chart
   (miou.png) and qualitative predictions (qualitative.png) of the exported students.

The teacher is trained once (seed 0); the baseline and each method run once per seed, and the
table reports mean and standard deviation over seeds. Nothing is tuned on the validation set.
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CFG = osp.join(REPO, 'configs')
PAIR = 'deeplabv3-r18-tiny_fcn-mbv2-tiny_1xb4-40_synthetic-64x64'
TEACHER_CFG = osp.join(CFG, 'tiny/deeplabv3_r18-tiny_1xb4-40_synthetic-64x64.py')
STUDENT_CFG = osp.join(CFG, 'tiny/fcn_mbv2-tiny_1xb4-40_synthetic-64x64.py')
METHODS = [  # (name in the table, leaf config); a method's second form is an extra row
    ('pixel KD', f'pixel_kd/pixel-kd_{PAIR}.py'),
    ('DSD (CIRKD form)', f'dsd/dsd_{PAIR}.py'),
    ('DSD (paper form)', f'dsd/dsd-paper_{PAIR}.py'),
    ('KA', f'ka/ka-stage2_{PAIR}.py'),
    ('PFS', f'pfs/pfs_{PAIR}.py'),
    ('AICSD (paper form)', f'aicsd/aicsd_{PAIR}.py'),
    ('AICSD (official-code form)', f'aicsd/aicsd-official_{PAIR}.py'),
]
PRESETS = {
    'full': dict(teacher_iters=2000, student_iters=1000, ka_stage1_iters=200, num_train=400,
                 num_val=100),
    'quick': dict(teacher_iters=300, student_iters=150, ka_stage1_iters=50, num_train=200,
                  num_val=50),
}


def short(name):
    """'DSD (paper form)' -> 'DSD-paper': labels that fit a plot."""
    return re.sub(r' \((\w+)[\w-]* form\)', r'-\1', name)


def slug(name):
    return re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')


class Pipeline:

    def __init__(self, args):
        self.args = args
        self.preset = PRESETS['quick' if args.quick else 'full']
        self.out = osp.abspath(args.out)
        self.data_root = osp.join(self.out, 'data', 'synthetic_scenes')
        self.mim = osp.join(osp.dirname(sys.executable), 'mim')
        self.started = time.time()

    def log(self, message):
        print(f'[demo {time.time() - self.started:6.0f}s] {message}', flush=True)

    def options(self, iters, seed):
        gen = dict(num_train=self.preset['num_train'], num_val=self.preset['num_val'], size=64,
                   seed=0)
        opts = [f'randomness.seed={seed}', f'train_cfg.max_iters={iters}',
                f'train_cfg.val_interval={iters}', f'param_scheduler.0.end={iters}',
                f'default_hooks.checkpoint.interval={iters}', 'default_hooks.logger.interval=50',
                'default_hooks.visualization.draw=False']
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            opts.append(f'{loader}.dataset.data_root={self.data_root}')
            opts += [f'{loader}.dataset.generator.{k}={v}' for k, v in gen.items()]
        return opts

    def train(self, package, config, work_dir, iters, seed, extra=()):
        """Run `mim train` unless work_dir already holds its final checkpoint (resumable)."""
        ckpt = osp.join(work_dir, f'iter_{iters}.pth')
        if osp.exists(ckpt) and not self.args.force:
            return ckpt
        os.makedirs(work_dir, exist_ok=True)
        cmd = [self.mim, 'train', package, config, '--work-dir', work_dir, '--cfg-options'] + \
            self.options(iters, seed) + list(extra)
        with open(osp.join(work_dir, 'run.log'), 'w') as log:
            code = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.out)
        if code != 0 or not osp.exists(ckpt):
            raise RuntimeError(f'{" ".join(cmd[:5])} failed; see {work_dir}/run.log')
        return ckpt

    @staticmethod
    def final_metrics(work_dir):
        """The last validation record of the newest run in work_dir."""
        runs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
        with open(runs[-1]) as f:
            records = [json.loads(line) for line in f if 'mIoU' in line]
        return records[-1]

    def run(self):
        from mmseg_distill.datasets.synthetic_scenes import generate
        os.makedirs(self.out, exist_ok=True)
        p = self.preset
        self.log(f"data: {p['num_train']} train / {p['num_val']} val scenes at 64x64")
        generate(self.data_root, p['num_train'], p['num_val'], 64, 0)

        self.log(f"teacher: DeepLabV3 R18-tiny, {p['teacher_iters']} iterations")
        teacher_ckpt = self.train('mmseg', TEACHER_CFG, osp.join(self.out, 'teacher'),
                                  p['teacher_iters'], 0)
        results = dict(teacher=self.final_metrics(osp.join(self.out, 'teacher'))['mIoU'],
                       runs={})
        for seed in self.args.seeds:
            runs = results['runs'].setdefault(str(seed), {})
            self.log(f"seed {seed}: student baseline, {p['student_iters']} iterations")
            work = osp.join(self.out, f'seed{seed}', 'baseline')
            self.train('mmseg', STUDENT_CFG, work, p['student_iters'], seed)
            runs['baseline'] = dict(miou=self.final_metrics(work)['mIoU'],
                                    ckpt=osp.join(work, f"iter_{p['student_iters']}.pth"))
            for name, leaf in METHODS:
                extra = [f'model.teacher_ckpt={teacher_ckpt}']
                if name == 'KA':
                    self.log(f"seed {seed}: KA stage 1 (auto-encoder), "
                             f"{p['ka_stage1_iters']} iterations")
                    stage1 = self.train('mmrazor', osp.join(CFG, f'ka/ka-stage1_{PAIR}.py'),
                                        osp.join(self.out, f'seed{seed}', 'ka_stage1'),
                                        p['ka_stage1_iters'], seed, extra)
                    extra.append(
                        f'model.distiller.connectors.teacher_autoencoder.checkpoint={stage1}')
                self.log(f"seed {seed}: {name}, {p['student_iters']} iterations")
                work = osp.join(self.out, f'seed{seed}', osp.basename(leaf).split('_')[0])
                ckpt = self.train('mmrazor', osp.join(CFG, leaf), work, p['student_iters'],
                                  seed, extra)
                runs[name] = dict(miou=self.final_metrics(work)['mIoU'], ckpt=ckpt)
        self.report(results)

    # ------------------------------------------------------------------------ reporting
    def report(self, results):
        import torch

        import mmseg_distill  # noqa: F401
        from mmseg_distill.utils import export_student
        names = ['baseline'] + [n for n, _ in METHODS]
        table = {}
        for name in names:
            values = [results['runs'][str(s)][name]['miou'] for s in self.args.seeds]
            table[name] = dict(mean=statistics.mean(values),
                               std=statistics.stdev(values) if len(values) > 1 else 0.0,
                               values=values)
        base = table['baseline']['mean']
        for name in names[1:]:
            table[name]['delta'] = table[name]['mean'] - base
        export_dir = osp.join(self.out, 'students')
        exported = {name: export_student(results['runs'][str(self.args.seeds[0])][name]['ckpt'],
                                         export_dir, 'demo_' + slug(name))
                    for name in names[1:]}
        exported['baseline'] = results['runs'][str(self.args.seeds[0])]['baseline']['ckpt']
        cost = self.costs(torch, exported['baseline'])
        summary = dict(preset='quick' if self.args.quick else 'full', seeds=self.args.seeds,
                       teacher_miou=results['teacher'], students=table, cost=cost,
                       minutes=(time.time() - self.started) / 60, preset_cfg=self.preset,
                       runs=results['runs'])
        with open(osp.join(self.out, 'results.json'), 'w') as f:
            json.dump(summary, f, indent=1)
        lines = [f"Procedural scenes, 7 classes, 64x64; {len(self.args.seeds)} seed(s) "
                 f"{self.args.seeds}; preset {summary['preset']}; {summary['minutes']:.1f} min "
                 'on this machine.', '',
                 '| model | mIoU (mean +- std) | vs baseline | params | CPU latency (ms/img) |',
                 '| --- | --- | --- | --- | --- |',
                 f"| teacher: DeepLabV3 R18-tiny | {results['teacher']:.2f} | | "
                 f"{cost['teacher']['params_m']:.3f} M | {cost['teacher']['latency_ms']:.2f} |"]
        for name in names:
            row = table[name]
            delta = '' if name == 'baseline' else \
                f"{row['delta']:+.2f}" + ('' if row['delta'] > 0 else ' (no gain)')
            label = 'student baseline: FCN MobileNetV2-tiny' if name == 'baseline' else \
                f'student + {name}'
            lines.append(f"| {label} | {row['mean']:.2f} +- {row['std']:.2f} | {delta} | "
                         f"{cost['student']['params_m']:.3f} M | "
                         f"{cost['student']['latency_ms']:.2f} |")
        markdown = '\n'.join(lines)
        with open(osp.join(self.out, 'results.md'), 'w') as f:
            f.write(markdown + '\n')
        self.plot(summary)
        self.qualitative(exported)
        print(markdown)
        self.log(f'wrote {self.out}/results.md, results.json, miou.png, qualitative.png')

    def costs(self, torch, student_ckpt):
        from mmseg.apis import init_model

        def measure(cfg):
            model = init_model(cfg, None, device='cpu')
            model.eval()
            x = torch.randn(1, 3, 64, 64)
            with torch.no_grad():
                for _ in range(3):
                    model(x, mode='tensor')
                times = []
                for _ in range(20):
                    begin = time.perf_counter()
                    model(x, mode='tensor')
                    times.append((time.perf_counter() - begin) * 1e3)
            # parameters used at inference (the auxiliary head is training-only)
            params = sum(p.numel() for n, p in model.named_parameters()
                         if not n.startswith('auxiliary_head'))
            return dict(params_m=params / 1e6, latency_ms=statistics.median(times))

        return dict(teacher=measure(TEACHER_CFG), student=measure(STUDENT_CFG))

    def plot(self, summary):
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        names = list(summary['students'])
        means = [summary['students'][n]['mean'] for n in names]
        stds = [summary['students'][n]['std'] for n in names]
        fig, ax = plt.subplots(figsize=(9, 4))
        colors = ['grey'] + ['tab:blue'] * (len(names) - 1)
        ax.bar([short(n) for n in names], means, yerr=stds, color=colors, capsize=4)
        ax.tick_params(axis='x', labelrotation=25, labelsize=8)
        ax.axhline(summary['teacher_miou'], color='tab:red', linestyle='--', label='teacher')
        ax.axhline(summary['students']['baseline']['mean'], color='grey', linestyle=':',
                   label='student baseline')
        ax.set_ylabel('val mIoU (%)')
        ax.set_title(f"Distilled students, mean +- std over {len(summary['seeds'])} seed(s)")
        low = min(m - s for m, s in zip(means, stds))
        ax.set_ylim(max(0, low - 5), max(summary['teacher_miou'], max(means)) + 3)
        ax.legend(loc='lower right', fontsize=8)
        fig.tight_layout()
        fig.savefig(osp.join(self.out, 'miou.png'), dpi=110)

    def qualitative(self, exported, count=4):
        import numpy as np
        import cv2
        from mmseg.apis import inference_model, init_model

        from mmseg_distill.datasets.synthetic_scenes import PALETTE
        palette = np.array(PALETTE, np.uint8)
        images = sorted(glob.glob(osp.join(self.data_root, 'img_dir', 'val', '*.png')))[:count]
        columns = [('teacher', TEACHER_CFG, osp.join(self.out, 'teacher',
                                                     f"iter_{self.preset['teacher_iters']}.pth"))]
        columns += [(name, STUDENT_CFG, path) for name, path in exported.items()]
        models = [(name, init_model(cfg, ckpt, device='cpu')) for name, cfg, ckpt in columns]
        rows = []
        for path in images:
            image = cv2.imread(path)
            label = cv2.imread(path.replace('img_dir', 'ann_dir'), cv2.IMREAD_GRAYSCALE)
            tiles = [image[..., ::-1], palette[label]]
            for _, model in models:
                pred = inference_model(model, path).pred_sem_seg.data[0].numpy()
                tiles.append(palette[pred])
            rows.append(np.concatenate([np.pad(t, ((2, 2), (2, 2), (0, 0)),
                                               constant_values=255) for t in tiles], 1))
        grid = np.concatenate(rows, 0)
        grid = cv2.resize(grid, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
        header = np.full((24, grid.shape[1], 3), 255, np.uint8)
        titles = ['input', 'ground truth'] + [short(name) for name, _ in models]
        step = grid.shape[1] // len(titles)
        for i, title in enumerate(titles):
            cv2.putText(header, title[:14], (i * step + 4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                        (0, 0, 0), 1)
        cv2.imwrite(osp.join(self.out, 'qualitative.png'),
                    np.concatenate([header, grid], 0)[..., ::-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true', help='small budget, one seed (< 5 min)')
    parser.add_argument('--seeds', type=int, nargs='+', default=None)
    parser.add_argument('--out', default=None)
    parser.add_argument('--force', action='store_true', help='retrain runs that are done')
    args = parser.parse_args()
    args.seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    args.out = args.out or osp.join(REPO, 'work_dirs', 'demo-quick' if args.quick else 'demo')
    Pipeline(args).run()


if __name__ == '__main__':
    main()

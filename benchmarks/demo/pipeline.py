"""The demo as a library: the paired-seed experiment on the tiny pair (``Pipeline``) that
``tools/demo.py`` runs (its docstring describes the steps and outputs) and
``tools/demo_ablation.py`` extends: the data, the teacher, per seed one initial student shared
by the baseline and every method form of the registry (same weights, same data order), the
transfer measurement, the paired report. Its jobs run through ``mmseg_distill.pairing.jobs``
(submitit: locally two single-threaded jobs at a time, or on Slurm), so a job's numbers depend
only on its config and seed."""
import glob
import json
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import time

from benchmarks import tiny
from mmseg_distill.methods import METHODS, all_forms, default_forms
from mmseg_distill.pairing.jobs import ExecutorOptions, Job, run_jobs
from mmseg_distill.pairing.runs import (SINGLE_THREAD, last_validation, launch_options, machine,
                                        mim_train, schedule_options, slug, with_job_gpus)
from mmseg_distill.utils.stats import paired
from . import figures, report
from .tuned import CHOSEN, choose

# the regime, chosen on the tune split ('val'; the measurements: docs/demo.md, round two:
# batch 8, 2,000 iterations, lr 0.03 is the one that resolves one point). ``forms``: the
# registry's default form of every method (the main table) or every form; ``searched``: the
# folder under docs/weight_search/ with the weight search's logs at this regime (the second
# table), ``search_seeds`` / ``search_factors``: what ``--search`` runs to remake them
FULL = dict(seeds=[0, 1, 2, 3, 4], num_train=1000, num_val=300, num_test=300, size=64,
            teacher_iters=3000, teacher_lr=0.05, student_iters=2000, student_lr=0.03, batch=8,
            stage1_iters=100, forms='default', searched='b8-2000-lr0.03', search_seeds=[0, 1],
            search_factors=[0.1, 1.0, 10.0, 100.0])
# the first round's regime (1,000 iterations, lr 0.08): half the training, intervals of +-1 to
# +-6 mIoU (docs/demo.md); its committed search logs cover pixel KD, DSD, CWD and DIST
SHORT = dict(FULL, student_iters=1000, student_lr=0.08, searched='b8-1000-lr0.08')
PRESETS = {
    'full': FULL,
    'short': SHORT,
    # the paper forms and the official AICSD command beside the defaults
    'all-forms': dict(FULL, forms='all'),
    'quick': dict(SHORT, seeds=[0], num_train=200, num_val=50, num_test=100, teacher_iters=300,
                  student_iters=150, stage1_iters=20, searched='quick_regime', search_seeds=[0]),
    # the relation methods with 16x16 distilled positions (128x128 scenes, stride 8) instead of
    # the main table's 8x8: an ablation of resolution at the regime it was measured at (the
    # first round's), shipped weights only
    'positions-16': dict(SHORT, seeds=[0, 1], size=128, forms=('dsd', 'pfs', 'ka'),
                         searched=None),
}


def preset_name(args) -> str:
    name = getattr(args, 'preset', None) or ('quick' if getattr(args, 'quick', False) else 'full')
    if name not in PRESETS:
        raise ValueError(f'no demo preset {name!r}; presets: {sorted(PRESETS)}')
    return name


class Pipeline:

    def __init__(self, args):
        """``args``: quick, seeds, out, force, and the executor's ``jobs`` (workers),
        ``executor`` ('local' or 'slurm') and ``slurm_partition``."""
        self.args = args
        self.preset_name = preset_name(args)
        self.preset = dict(PRESETS[self.preset_name])
        if args.seeds:
            self.preset['seeds'] = args.seeds
        if getattr(args, 'forms', None):  # --all-forms, ablations: every form at its regime
            self.preset['forms'] = args.forms
        self.seeds = self.preset['seeds']
        forms = self.preset['forms']
        self.forms = (all_forms() if forms == 'all' else default_forms() if forms == 'default'
                      else [(m, f) for m, f in default_forms() if m.key in forms])
        # the first stages the forms need (KA's auto-encoder), one run per seed each
        self.stages = list({form.stage1.prefix: form.stage1 for _, form in self.forms
                            if form.stage1}.values())
        self.out = osp.abspath(args.out)
        self.data_root = osp.join(self.out, 'data', 'synthetic_scenes')
        # the second table's weights: the committed search logs at this regime, or this run's
        # own searches (--search); none without the second table (tools/demo.py without --tuned)
        committed = osp.join(tiny.REPO, 'docs', 'weight_search', self.preset['searched']) \
            if self.preset['searched'] else None
        self.searched = None if not getattr(args, 'tuned', True) else \
            osp.join(self.out, 'search') if getattr(args, 'search', False) else \
            getattr(args, 'searched', None) or committed
        self.choices = {}
        self.started = time.time()
        self.trained = []  # work dirs (relative to out) this invocation trained
        self.reused = []  # work dirs whose finished runs it read instead
        self.env = dict(os.environ, **SINGLE_THREAD)

    def log(self, message):
        print(f'[demo {time.time() - self.started:6.0f}s] {message}', flush=True)

    # --------------------------------------------------------------------------- runs
    def options(self, iters, seed, lr=None):
        """A run's options: its seed, the regime, and the test split as its one evaluation."""
        opts = [f'randomness.seed={seed}'] + self.regime_options(iters, lr)
        # the single evaluation of every run, at its end, is on the reported (test) split
        for loader in ('val_dataloader', 'test_dataloader'):
            opts += [f'{loader}.dataset.data_prefix.img_path=img_dir/test',
                     f'{loader}.dataset.data_prefix.seg_map_path=ann_dir/test']
        return opts

    def regime_options(self, iters, lr=None):
        """Schedule, batch and data of a run (the weight search's runs too, which evaluate on
        the tune split)."""
        p = self.preset
        gen = dict(num_train=p['num_train'], num_val=p['num_val'], num_test=p['num_test'],
                   size=p['size'], seed=0)
        opts = schedule_options(iters, scheduler_end=True) + [
            'default_hooks.logger.interval=50', 'default_hooks.visualization.draw=False',
            f"train_dataloader.batch_size={p['batch']}"]
        if lr is not None:
            opts.append(f'optim_wrapper.optimizer.lr={lr}')
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            opts.append(f'{loader}.dataset.data_root={self.data_root}')
            opts += [f'{loader}.dataset.generator.{k}={v}' for k, v in gen.items()]
        # the student's evaluation only (the teacher is evaluated once, by its own run)
        opts.append('val_cfg.type=ValLoop')
        return opts

    def train(self, package, config, work_dir, iters, seed, lr=None, extra=()):
        """`mim train` unless ``work_dir`` holds its final checkpoint (the demo resumes):
        (the checkpoint, whether it trained)."""
        ckpt = osp.join(work_dir, f'iter_{iters}.pth')
        if osp.exists(ckpt) and not self.args.force:
            return ckpt, False
        os.makedirs(work_dir, exist_ok=True)
        out = mim_train(package, config, work_dir, self.out,
                        self.options(iters, seed, lr) + list(extra),
                        extra=launch_options(self.executor_options().processes()),
                        env=with_job_gpus(self.env), timeout=3600,
                        log=osp.join(work_dir, 'run.log'))
        if out.returncode != 0 or not osp.exists(ckpt):
            raise RuntimeError(f'mim train {package} {osp.basename(config)} failed; see '
                               f'{work_dir}/run.log')
        return ckpt, True

    def initial_students(self, seed):
        """One initial student per seed, shared by the baseline and every method: the paired
        design (same initial weights; the data order follows the seed in every run)."""
        import torch
        from mmengine.runner import set_random_seed

        from mmseg_distill.models import ModelFromConfig
        plain = osp.join(self.out, 'init', f'student_seed{seed}.pth')
        prefixed = osp.join(self.out, 'init', f'student_seed{seed}_architecture.pth')
        if not osp.exists(prefixed) or self.args.force:
            import logging

            from mmengine.logging import MMLogger

            # init_weights logs every parameter: keep the demo's output readable
            MMLogger.get_current_instance().setLevel(logging.WARNING)
            os.makedirs(osp.dirname(plain), exist_ok=True)
            set_random_seed(seed)
            model = ModelFromConfig(tiny.STUDENT_CFG)
            model.init_weights()
            state = model.state_dict()
            torch.save({'state_dict': state}, plain)
            torch.save({'state_dict': {'architecture.' + k: v for k, v in state.items()}},
                       prefixed)
        return plain, prefixed

    def leaf(self, directory, prefix):
        return tiny.tiny_leaf(directory, prefix)

    def stage1_checkpoint(self, seed, stage):
        return osp.join(self.out, f'seed{seed}', stage.prefix,
                        f"iter_{self.preset['stage1_iters']}.pth")

    def jobs(self):
        p = self.preset
        work = lambda *parts: osp.join(self.out, *parts)  # noqa: E731
        teacher_ckpt = work('teacher', f"iter_{p['teacher_iters']}.pth")
        teacher = Job('teacher', lambda: self.train(
            'mmseg', tiny.TEACHER_CFG, work('teacher'), p['teacher_iters'], 0,
            p['teacher_lr']), priority=100)
        jobs = [teacher]
        self.runs = {}  # (seed, row) -> work dir
        self.tuned_runs = {}  # (seed, row) -> work dir, where the search changed the weights
        self.choices = {
            form.label: choose(self.searched, self.leaf(method.directory, form.prefix),
                               form.label, self.preset)
            for method, form in self.forms} if self.searched else {}
        for seed in self.seeds:
            plain, prefixed = self.initial_students(seed)
            baseline_dir = work(f'seed{seed}', 'baseline')
            self.runs[seed, 'baseline'] = baseline_dir
            seed_jobs = [Job(f'seed {seed}: baseline', lambda s=seed, d=baseline_dir, i=plain:
                             self.train('mmseg', tiny.STUDENT_CFG, d, p['student_iters'],
                                        s, p['student_lr'], [f'load_from={i}']), priority=50)]
            stage1_jobs = {}
            for stage in self.stages:
                method = next(m for m, f in self.forms if f.stage1 == stage)
                stage1_jobs[stage] = Job(
                    f'seed {seed}: {stage.prefix}',
                    lambda s=seed, st=stage, m=method: self.train(
                        'mmrazor', self.leaf(m.directory, st.prefix),
                        osp.dirname(self.stage1_checkpoint(s, st)), p['stage1_iters'], s,
                        extra=[f'model.teacher_ckpt={teacher_ckpt}']),
                    after=[teacher], priority=40)
                seed_jobs.append(stage1_jobs[stage])
            for method, form in self.forms:
                run_dir = work(f'seed{seed}', form.prefix)
                self.runs[seed, form.label] = run_dir
                seed_jobs.append(self.form_job(
                    f'seed {seed}: {form.label}', seed, method, form, run_dir, teacher,
                    teacher_ckpt, prefixed, stage1_jobs, priority=10))
            # the loop's variables bound now: a late-bound stage-1 checkpoint gave every seed
            # the last seed's KA encoder
            stage1_ckpt = self.stage1_checkpoint(seed, self.stages[0]) if self.stages else None
            # the transfer measures the first table's runs: it runs beside the second table's
            transfer = Job(f'seed {seed}: transfer', lambda s=seed, k=stage1_ckpt: self.transfer(
                s, teacher_ckpt, k), after=list(seed_jobs) + [teacher], priority=9)
            tuned = self.tuned_jobs(seed, teacher_ckpt, prefixed, teacher, stage1_jobs)
            jobs += seed_jobs + tuned + [transfer]
        return jobs

    def form_job(self, name, seed, method, form, run_dir, teacher, teacher_ckpt, init,
                 stage1_jobs, options=(), priority=10):
        """A method form's training from the seed's initial student (after the teacher and,
        for KA, the seed's first stage)."""
        p = self.preset
        extra = [f'model.teacher_ckpt={teacher_ckpt}', f'load_from={init}']
        after = [teacher]
        if form.stage1:
            extra.append(f'{form.stage1.checkpoint_key}='
                         f'{self.stage1_checkpoint(seed, form.stage1)}')
            after.append(stage1_jobs[form.stage1])
        extra += list(options)
        return Job(name, lambda: self.train(
            'mmrazor', self.leaf(method.directory, form.prefix), run_dir, p['student_iters'],
            seed, p['student_lr'], extra), after=after, priority=priority)

    def tuned_jobs(self, seed, teacher_ckpt, init, teacher, stage1_jobs):
        """The second table's runs of a seed: a row whose search chose other weights than the
        shipped ones trains again with them; a row whose search kept them reuses its run."""
        jobs = []
        for method, form in self.forms:
            choice = self.choices.get(form.label)
            if choice is None or not choice.changes_weights:
                continue
            run_dir = osp.join(self.out, f'seed{seed}', form.prefix + '-tuned')
            self.tuned_runs[seed, form.label] = run_dir
            jobs.append(self.form_job(
                f'seed {seed}: {form.label} at the searched weights', seed, method, form,
                run_dir, teacher, teacher_ckpt, init, stage1_jobs, choice.options(),
                priority=8))
        return jobs

    # ------------------------------------------------------------------------ search
    def search(self):
        """``--search``: the weight search of every row on the tune split, at the demo's
        regime, into <out>/search (the teacher and the first stages it needs trained first)."""
        from mmseg_distill.pairing.search import (WeightSearch, candidates, distill_options,
                                                  loss_weight_keys, record)
        p = self.preset
        teacher_ckpt = osp.join(self.out, 'teacher', f"iter_{p['teacher_iters']}.pth")
        seeds = p['search_seeds']
        jobs = [job for job in self.jobs() if job.name == 'teacher' or any(
            job.name == f'seed {s}: {stage.prefix}' for s in seeds for stage in self.stages)]
        for job in jobs:  # the first stages' dependencies are the teacher, which is here
            job.after = [a for a in job.after if a in jobs]
        run_jobs(jobs, self.executor_options(), self.log)
        os.makedirs(self.searched, exist_ok=True)
        options = self.regime_options(p['student_iters'], p['student_lr'])
        for method, form in self.forms:
            leaf = self.leaf(method.directory, form.prefix)
            stage1 = self.stage1_checkpoint(seeds[0], form.stage1) if form.stage1 else None
            shipped = loss_weight_keys(leaf)
            found = candidates(shipped, p['search_factors'])
            command = ' '.join(
                ['python tools/search_weights.py', osp.relpath(leaf, tiny.REPO),
                 '--factors'] + [f'{f:g}' for f in p['search_factors']] + ['--seeds'] +
                [str(s) for s in seeds] + ['--iters', str(p['student_iters']),
                                           '--teacher-ckpt', teacher_ckpt] +
                (['--stage1-ckpt', stage1] if stage1 else []) +
                ['--work-dir', self.searched, '--cfg-options'] + options)
            # the log is committed: paths relative to the repository run from any clone
            command = command.replace(tiny.REPO + os.sep, '')
            self.log(f'weight search of {form.label}: {len(found)} candidates x '
                     f'{len(seeds)} seed(s) on the tune split')
            result = WeightSearch(
                leaf, found, seeds, self.searched, p['student_iters'], options,
                self.executor_options(), log=self.log,
                distill_options=distill_options(leaf, teacher_ckpt, stage1)).run()
            record(leaf, osp.join(self.searched, f'{form.prefix}_searched.py'), self.searched,
                   command, shipped, found, result, seeds)

    def data_config(self):
        """The test split as a data config (for tools/transfer.py)."""
        p = self.preset
        path = osp.join(self.out, 'test_split_data.py')
        with open(path, 'w') as f:
            data = osp.join(tiny.CONFIGS, '_base_/datasets/synthetic_scenes.py')
            f.write(f"_base_ = [{data!r}]\n"
                    f"generator = dict(num_train={p['num_train']}, num_val={p['num_val']}, "
                    f"num_test={p['num_test']}, size={p['size']}, seed=0)\n"
                    "val_dataloader = dict(dataset=dict(\n"
                    f"    data_root={self.data_root!r}, generator=generator,\n"
                    "    data_prefix=dict(img_path='img_dir/test', "
                    "seg_map_path='ann_dir/test')))\n")
        return path

    def transfer(self, seed, teacher_ckpt, stage1_ckpt):
        out = osp.join(self.out, f'seed{seed}', 'transfer')
        if osp.exists(osp.join(out, 'transfer.json')) and not self.args.force:
            return
        iters = self.preset['student_iters']
        students = []
        pre_relu = ['teacher=decode_head.bottleneck.bn']
        for (s, row), run_dir in self.runs.items():
            if s != seed:
                continue
            students += ['--student', slug(row), tiny.STUDENT_CFG,
                         osp.join(run_dir, f'iter_{iters}.pth')]
            pre_relu.append(f'{slug(row)}=decode_head.convs.0.bn')
        cmd = [sys.executable, '-m', 'mmseg_distill.evidence.transfer', tiny.TEACHER_CFG,
               teacher_ckpt, '--data', self.data_config(), '--out', out,
               '--pre-relu'] + pre_relu + students
        if stage1_ckpt:
            cmd += ['--stage1', stage1_ckpt]
        with open(osp.join(self.out, f'seed{seed}', 'transfer.log'), 'w') as log:
            code = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                   cwd=self.out)
        if code:
            raise RuntimeError(f'the transfer measurement failed; see {out}/../transfer.log')

    def executor_options(self):
        return ExecutorOptions(kind=getattr(self.args, 'executor', 'local'),
                               workers=self.args.jobs, folder=osp.join(self.out, 'jobs'),
                               slurm_partition=getattr(self.args, 'slurm_partition', None),
                               gpus_per_job=getattr(self.args, 'gpus_per_job', None))

    def run(self):
        from mmseg_distill.datasets.synthetic_scenes import generate
        os.makedirs(self.out, exist_ok=True)
        p = self.preset
        self.log(f"data: {p['num_train']} train / {p['num_val']} tune / {p['num_test']} test "
                 f"scenes at {p['size']}x{p['size']}")
        generate(self.data_root, p['num_train'], p['num_val'], p['size'], 0, p['num_test'])
        self.log(f"{len(self.seeds)} seed(s), {len(self.forms)} method forms, "
                 f'{self.args.jobs} single-threaded jobs at a time')
        if getattr(self.args, 'search', False):
            self.search()
        jobs = self.jobs()
        unusable = {label: c for label, c in self.choices.items() if c.status != CHOSEN}
        for label, choice in unusable.items():
            self.log(f'searched weights of {label}: {choice.status} ({choice.reason}); the '
                     'second table lists it without a number (--search makes the logs)')
        run_jobs(jobs, self.executor_options(), self.log)
        for job in jobs:
            if isinstance(job.result, tuple):  # a training job: (checkpoint, whether it trained)
                run_dir = osp.relpath(osp.dirname(job.result[0]), self.out)
                (self.trained if job.result[1] else self.reused).append(run_dir)
        self.report()

    # ---------------------------------------------------------------------- results
    def miou(self, work_dir):
        return last_validation(work_dir)['mIoU']

    def per_class(self, work_dir):
        """The per-class IoU table MMSeg's metric logged at the end of a run."""
        logs = sorted(glob.glob(osp.join(work_dir, '*', '*.log')))
        with open(logs[-1]) as f:
            text = f.read()
        rows = re.findall(r'\|\s*([a-z]+)\s*\|\s*([\d.]+|nan)\s*\|\s*([\d.]+|nan)\s*\|', text)
        return {name: float(iou) for name, iou, _ in rows}

    def report(self):
        seeds, labels = self.seeds, ['baseline'] + [f.label for _, f in self.forms]
        forms = {f.label: f for _, f in self.forms}
        teacher_dir = osp.join(self.out, 'teacher')
        miou = {row: [self.miou(self.runs[s, row]) for s in seeds] for row in labels}
        transfer = {}
        for seed in seeds:
            with open(osp.join(self.out, f'seed{seed}', 'transfer', 'transfer.json')) as f:
                transfer[seed] = json.load(f)
        rows = {}
        for row in labels:
            entry = dict(miou=miou[row], mean=statistics.mean(miou[row]),
                         std=statistics.stdev(miou[row]) if len(seeds) > 1 else None)
            if row != 'baseline':
                entry['paired'] = paired(miou[row], miou['baseline'])
                distilled = forms[row].relations
                entry['relations'] = {}
                for relation in distilled + ('logit_kl', 'agreement'):
                    if relation in entry['relations']:
                        continue
                    ours = [transfer[s][slug(row)].get(relation) for s in seeds]
                    base = [transfer[s]['baseline'].get(relation) for s in seeds]
                    if None in ours or None in base:
                        continue
                    stats = paired(ours, base)
                    if stats['low'] is None:  # one seed: no interval, no verdict
                        better = None
                    elif relation == 'agreement':
                        better = stats['low'] > 0
                    else:
                        better = stats['high'] < 0
                    stats.update(baseline=statistics.mean(base), student=statistics.mean(ours),
                                 distilled=relation in distilled,
                                 closer=better)
                    entry['relations'][relation] = stats
            rows[row] = entry
        teacher = dict(miou=self.miou(teacher_dir), per_class=self.per_class(teacher_dir))
        ledger = self.wall_ledger()
        summary = dict(preset=self.preset_name, seeds=seeds, commit=report.source_commit(),
                       command=getattr(self.args, 'command', None), machine=machine(),
                       tuned=self.tuned_rows(miou),
                       preset_cfg=self.preset, teacher=teacher,
                       baseline_per_class={s: self.per_class(self.runs[s, 'baseline'])
                                           for s in seeds},
                       rows=rows, transfer=transfer,
                       wall=ledger, untracked_runs=self.untracked_runs(ledger),
                       cost=self.costs())
        with open(osp.join(self.out, 'results.json'), 'w') as f:
            json.dump(summary, f, indent=1)
        markdown = report.markdown(summary)
        with open(osp.join(self.out, 'results.md'), 'w') as f:
            f.write(markdown + '\n')
        figures.plot(summary, self.out)
        figures.qualitative(self)
        print(markdown)
        self.log(f'wrote {self.out}/results.md, results.json, paired.png, miou.png, '
                 'qualitative.png')

    def tuned_rows(self, miou):
        """The second table: every row at its searched weights (its shipped run where the
        search kept them), paired with the baseline and with pixel KD at its searched weights."""
        base = miou['baseline']
        rows = {}
        for method, form in self.forms:
            if form.label not in self.choices:  # a preset without the second table
                continue
            choice = self.choices[form.label]
            entry = dict(status=choice.status, reason=choice.reason,
                         log=osp.relpath(choice.log, tiny.REPO), baseline_method=method.baseline)
            if choice.status == CHOSEN:
                if choice.changes_weights:
                    values = [self.miou(self.tuned_runs[s, form.label]) for s in self.seeds]
                    # what the search's choice did on test: the same row, same seeds
                    entry['to_shipped'] = paired(values, miou[form.label])
                else:
                    values = miou[form.label]
                entry.update(candidate=choice.candidate, values=choice.values,
                             shipped=choice.shipped, tied=choice.tied,
                             shipped_run=not choice.changes_weights, miou=values,
                             mean=statistics.mean(values), paired=paired(values, base))
            rows[form.label] = entry
        # the reference of "does each seed method beat tuned pixel KD?", by the registry's label
        pixel_kd = METHODS['pixel_kd'].default.label
        reference = rows.get(pixel_kd)
        if reference and 'miou' in reference:
            for label, entry in rows.items():
                if label != pixel_kd and 'miou' in entry:
                    entry['to_pixel_kd'] = paired(entry['miou'], reference['miou'])
        return rows

    def wall_ledger(self):
        """Every invocation that built these results, with its wall time and the runs it
        trained: a rerun that only re-reads trained runs must not pass for the cost of all."""
        path = osp.join(self.out, 'wall_time.json')
        ledger = []
        if osp.exists(path) and not self.args.force:
            with open(path) as f:
                ledger = json.load(f)
        ledger.append(dict(date=time.strftime('%Y-%m-%d %H:%M', time.localtime(self.started)),
                           minutes=round((time.time() - self.started) / 60, 2),
                           trained_runs=len(self.trained), trained=sorted(self.trained)))
        with open(path, 'w') as f:
            json.dump(ledger, f, indent=1)
        return ledger

    def untracked_runs(self, ledger):
        """The reused runs that no invocation of the ledger trained: another command made them
        in this folder (a partial run of the job graph), so their time is in no total."""
        tracked = {run for entry in ledger for run in entry.get('trained', ())}
        return sorted(set(self.reused) - tracked)

    def costs(self):
        import torch
        from mmseg.apis import init_model

        def measure(cfg):
            model = init_model(cfg, None, device='cpu')
            model.eval()
            x = torch.randn(1, 3, self.preset['size'], self.preset['size'])
            times = []
            with torch.no_grad():
                for index in range(23):
                    begin = time.perf_counter()
                    model(x, mode='tensor')
                    if index >= 3:
                        times.append((time.perf_counter() - begin) * 1e3)
            # parameters used at inference (the auxiliary head is training-only)
            params = sum(p.numel() for n, p in model.named_parameters()
                         if not n.startswith('auxiliary_head'))
            return dict(params_m=params / 1e6, latency_ms=statistics.median(times))

        return dict(teacher=measure(tiny.TEACHER_CFG),
                    student=measure(tiny.STUDENT_CFG))

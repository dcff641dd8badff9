"""A loss-weight search on the user's own pair and validation split (``tools/search_weights.py``).

Every candidate (a set of ``--cfg-options`` values: loss weights by default) is trained from
the same initial student and with the same data order as a baseline run of the student alone,
one run per seed; each run is evaluated once, at its end, on the leaf's validation split (its
``val_dataloader``; the test split is never read). The table gives each candidate's paired
difference to the baseline with its 95% t interval, and its paired difference to the best
candidate: a candidate whose interval to the best contains 0 cannot be told apart from it, and
is reported as such rather than ranked.

Why a log grid and not a sampler (Optuna's TPE, ...): a loss weight's plausible range spans
orders of magnitude (CSD at CIRKD's weight sat at 0.3% of the task loss on the demo's pair and
transferred nothing; 100x did), so the question is "which decade", which five points answer;
the budget is a handful of trainings per seed, where a model-based sampler has nothing to
learn from; every candidate must run on every seed for the paired comparison (a sampler picks
its next point from noisy single results); and a grid is reproducible and needs no dependency.
Modes: ``together`` (default) scales every searched weight by the same factor, one dimension
(the distillation strength, relative shares of the terms kept as the recipe set them);
``each`` varies one weight at a time, the others as shipped; ``grid`` tries every combination
(factors ** keys trainings per seed).
"""
import itertools
import json
import os
import os.path as osp
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from ..utils.stats import interval_text, paired
from .jobs import ExecutorOptions, Job, run_jobs
from .runs import (SINGLE_THREAD, failure_cause, last_validation, launch_options, machine,
                   machine_text, mim_train, schedule_options, with_job_gpus)

FACTORS = (0.01, 0.1, 1.0, 10.0, 100.0)


class SearchError(ValueError):
    """A search that cannot run as given (found before any training)."""


def parse_options(options: Sequence[str]) -> Dict:
    """``--cfg-options`` strings (``key=value``) as MMEngine's ``DictAction`` reads them."""
    from mmengine.config import DictAction
    parsed = {}
    for option in options:
        key, _, value = option.partition('=')
        parsed[key] = DictAction._parse_iterable(value)
    return parsed


MODES = ('together', 'each', 'grid')
BASELINE = 'baseline'


@dataclass
class Candidate:
    """Values for config keys (``--cfg-options`` keys), and a name for the table."""
    name: str
    values: Dict[str, float] = field(default_factory=dict)

    def options(self) -> List[str]:
        return [f'{key}={value!r}' for key, value in self.values.items()]


def _factor_name(factor: float) -> str:
    return f'x{factor:g}'


def candidates(shipped: Dict[str, float], factors: Sequence[float] = FACTORS,
               mode: str = 'together') -> List[Candidate]:
    """The candidates of a search over ``shipped`` ({key: the leaf's value})."""
    if mode not in MODES:
        raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
    if not shipped:
        raise ValueError('nothing to search: no key given and the leaf has no distillation '
                         'loss with a loss_weight')
    if any(f <= 0 for f in factors):
        raise ValueError(f'factors must be positive, got {list(factors)}')
    short = {key: key.split('.')[-2] if key.endswith('.loss_weight') else key
             for key in shipped}
    if mode == 'together':
        return [Candidate(_factor_name(f), {k: v * f for k, v in shipped.items()})
                for f in factors]
    if mode == 'each':
        found = [Candidate('shipped', dict(shipped))]
        for key, value in shipped.items():
            found += [Candidate(f'{short[key]} {_factor_name(f)}',
                                dict(shipped, **{key: value * f}))
                      for f in factors if f != 1.0]
        return found
    found = []
    for combo in itertools.product(factors, repeat=len(shipped)):
        name = ', '.join(f'{short[k]} {_factor_name(f)}' for k, f in zip(shipped, combo))
        found.append(Candidate(name, {k: v * f for (k, v), f in zip(shipped.items(), combo)}))
    return found


def loss_weight_keys(leaf: str) -> Dict[str, float]:
    """{``model.distiller.distill_losses.<loss>.loss_weight``: its value} for every
    distillation loss of ``leaf`` (composed or not)."""
    from mmengine.config import Config

    from ..models.distillers.composition import flat_distiller
    losses = flat_distiller(Config.fromfile(leaf).model.distiller).get('distill_losses', {})
    return {f'model.distiller.distill_losses.{name}.loss_weight': float(loss['loss_weight'])
            for name, loss in losses.items() if 'loss_weight' in loss}


def value_at(leaf: str, key: str) -> float:
    """The value of a dotted config key in ``leaf`` (the flat distiller's for distiller keys)."""
    from mmengine.config import Config

    from ..models.distillers.composition import flat_distiller
    cfg = Config.fromfile(leaf).to_dict()
    parts = key.split('.')
    node = cfg
    if parts[:2] == ['model', 'distiller']:
        node, parts = flat_distiller(cfg['model']['distiller']), parts[2:]
    for part in parts:
        if isinstance(node, (list, tuple)):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(f'{key}: {leaf} has no {part!r} there; give a key the leaf sets '
                           '(as for --cfg-options)')
    return float(node)


def compare(scores: Dict[str, List[float]], baseline: List[float]) -> Dict:
    """The paired table: each candidate against the baseline and against the best (highest
    mean difference), and which candidates cannot be told apart from the best."""
    rows = {name: dict(values=values, mean=statistics.mean(values),
                       to_baseline=paired(values, baseline))
            for name, values in scores.items()}
    best = max(rows, key=lambda name: rows[name]['to_baseline']['mean'])
    for name, row in rows.items():
        if name == best:
            row['to_best'], row['tied_with_best'] = None, True
            continue
        diff = paired(row['values'], rows[best]['values'])
        row['to_best'] = diff
        # with one seed nothing can be told apart; else: the interval to the best holds 0
        row['tied_with_best'] = diff['high'] is None or diff['high'] >= 0
    return dict(rows=rows, best=best, baseline=baseline,
                tied=[n for n, r in rows.items() if r['tied_with_best'] and n != best])


def search(evaluate: Callable[[Optional[Candidate], int], float],
           found: Sequence[Candidate], seeds: Sequence[int]) -> Dict:
    """The search with an ``evaluate(candidate or None for the baseline, seed) -> score``
    (in process; ``WeightSearch`` runs trainings as jobs)."""
    baseline = [evaluate(None, seed) for seed in seeds]
    scores = {c.name: [evaluate(c, seed) for seed in seeds] for c in found}
    return compare(scores, baseline)


def _fmt(diff: Optional[Dict]) -> str:
    if diff is None:
        return ''
    return interval_text(diff, single=f"{diff['mean']:+.2f} (1 seed)")


def markdown(result: Dict, found: Sequence[Candidate], metric: str = 'mIoU') -> str:
    by_name = {c.name: c for c in found}
    lines = [f'| candidate | values | {metric} per seed | to the baseline, 95% CI | '
             'to the best, 95% CI | |', '| --- | --- | --- | --- | --- | --- |',
             f"| baseline | student alone | {', '.join(f'{v:.2f}' for v in result['baseline'])}"
             ' | | | |']
    for name, row in result['rows'].items():
        values = ', '.join(f'{k.split(".")[-2] if k.endswith(".loss_weight") else k}='
                           f'{v:.4g}' for k, v in by_name[name].values.items())
        mark = 'best' if name == result['best'] else \
            'not told apart from the best' if row['tied_with_best'] else ''
        lines.append(f"| {name} | {values} | {', '.join(f'{v:.2f}' for v in row['values'])} | "
                     f"{_fmt(row['to_baseline'])} | {_fmt(row['to_best'])} | {mark} |")
    return '\n'.join(lines)


def _nested(values: Dict[str, float]) -> dict:
    root: dict = {}
    for key, value in values.items():
        node = root
        parts = key.split('.')
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return root


def chosen_leaf_text(leaf: str, out: str, chosen: Candidate, result: Dict, command: str,
                     seeds: Sequence[int]) -> str:
    """A leaf over ``leaf`` with the chosen values, and the one-line record of the choice."""
    from mmengine.config import Config
    row = result['rows'][chosen.name]
    diff = row['to_baseline']
    interval = (f"{diff['mean']:+.2f} mIoU (1 seed, no interval)" if diff['low'] is None else
                f'{interval_text(diff)} mIoU (95% paired t, {len(seeds)} seeds)')
    tied = f"; not told apart from it: {', '.join(result['tied'])}" if result['tied'] else ''
    base = osp.relpath(osp.abspath(leaf), osp.dirname(osp.abspath(out)))
    comment = (f"# weight search: chosen on the validation split (val_dataloader of "
               f"{osp.basename(leaf)}) by `{command}`, against the baseline (the student alone, "
               f'same initial weights and data order): {chosen.name}, {interval}{tied}\n')
    body = Config(_nested(chosen.values)).pretty_text
    return f'_base_ = [{base!r}]\n' + comment + body


class WeightSearch:
    """The search of ``tools/search_weights.py`` as jobs: per seed one initial student, one
    baseline run and one run per candidate, evaluated on the leaf's validation split."""

    def __init__(self, leaf: str, found: Sequence[Candidate], seeds: Sequence[int],
                 work_dir: str, iters: Optional[int] = None,
                 options: Sequence[str] = (), executor: Optional[ExecutorOptions] = None,
                 log: Callable[[str], None] = print, distill_options: Sequence[str] = ()):
        self.leaf = osp.abspath(leaf)
        self.found, self.seeds = list(found), list(seeds)
        self.work_dir = osp.abspath(work_dir)
        # options: every run's; distill_options: the distillation runs' only (teacher weights)
        self.iters, self.extra, self.distill_extra = iters, list(options), list(distill_options)
        self.executor = executor or ExecutorOptions(folder=osp.join(self.work_dir, 'jobs'))
        # every run starts where the user runs the search: the relative paths of the leaf's
        # data (MMSeg's data_root) resolve from there, as in their own `mim train`
        self.cwd = os.getcwd()
        self.log = log
        self.env = dict(os.environ, **SINGLE_THREAD)
        self.started = time.time()

    def budget(self) -> List[str]:
        if not self.iters:
            return []
        return schedule_options(self.iters)

    def prepare(self) -> str:
        """The baseline config (the student alone, from the leaf) and the initial students."""
        from mmengine.config import Config

        from .baseline import baseline_text, write_initial_student
        os.makedirs(self.work_dir, exist_ok=True)
        import hashlib
        text = baseline_text(self.leaf, osp.join(self.work_dir, 'baseline.py'))
        # what the baseline trains, whichever leaf it came from (the first line names it)
        content = text.split('\n', 2)[-1] + '\n'.join(self.extra) + str(self.iters)
        self.baseline_hash = hashlib.sha1(content.encode()).hexdigest()[:10]
        baseline = osp.join(self.work_dir, f'baseline_{self.baseline_hash}.py')
        with open(baseline, 'w') as f:
            f.write(text)
        architecture = Config.fromfile(self.leaf).model.architecture
        for seed in self.seeds:
            write_initial_student(architecture.cfg_path, self.init_leaf(seed),
                                  architecture.get('num_classes'), seed)
        return baseline

    def init_leaf(self, seed: int) -> str:
        return osp.join(self.work_dir, f'seed{seed}', 'student.py')

    def run_dir(self, seed: int, name: str) -> str:
        """A candidate's run under the leaf's name; the baseline's under its config's hash,
        so searches of several leaves of one student, data and schedule in one work
        directory train it once per seed."""
        if name == BASELINE:
            return osp.join(self.work_dir, f'seed{seed}', f'baseline_{self.baseline_hash}')
        leaf = osp.splitext(osp.basename(self.leaf))[0]
        return osp.join(self.work_dir, f'seed{seed}', leaf,
                        name.replace(' ', '_').replace(',', ''))

    def train(self, package: str, config: str, seed: int, name: str, options: List[str]):
        work = self.run_dir(seed, name)
        done = osp.join(work, 'result.json')
        if osp.exists(done):  # a search resumes where it stopped
            with open(done) as f:
                return json.load(f)['mIoU']
        os.makedirs(work, exist_ok=True)
        out = mim_train(package, config, work, self.cwd,
                        [f'randomness.seed={seed}'] + self.budget() + self.extra + options,
                        extra=launch_options(self.executor.processes()),
                        env=with_job_gpus(self.env), timeout=24 * 3600,
                        log=osp.join(work, 'run.log'))
        if out.returncode != 0:
            raise RuntimeError(f'mim train {package} {osp.basename(config)} failed: '
                               f"{failure_cause(osp.join(work, 'run.log'))} (log: {work}/run.log)")
        miou = float(last_validation(work)['mIoU'])
        with open(done, 'w') as f:
            json.dump(dict(mIoU=miou, options=options), f)
        return miou

    def jobs(self, baseline: str) -> Dict:
        from .baseline import initial_student_paths
        jobs = {}
        for seed in self.seeds:
            plain, prefixed = initial_student_paths(self.init_leaf(seed))
            jobs[seed, BASELINE] = Job(
                f'seed {seed}: baseline', lambda s=seed, i=plain: self.train(
                    'mmseg', baseline, s, BASELINE, [f'load_from={i}']), priority=10)
            for c in self.found:
                jobs[seed, c.name] = Job(
                    f'seed {seed}: {c.name}', lambda s=seed, c=c, i=prefixed: self.train(
                        'mmrazor', self.leaf, s, c.name,
                        [f'load_from={i}'] + self.distill_extra + c.options()))
        return jobs

    def check(self, baseline: str) -> None:
        """Build every candidate leaf (and the baseline) with the options its runs get, and run
        one training step of the leaf, before any training: a leaf or option that cannot work
        fails here with its own error, not after the baseline trained. ``SearchError`` says
        which candidate and why."""
        from mmengine.config import Config

        from .check import check_config
        started = time.time()
        options = self.budget() + self.extra
        try:
            check_config(Config.fromfile(baseline), parse_options(options), step=False)
        except Exception as error:
            raise SearchError(f'the baseline ({baseline}, options {options}) cannot be built: '
                              f'{type(error).__name__}: {error}') from error
        for index, candidate in enumerate(self.found):
            given = options + self.distill_extra + candidate.options()
            try:
                check_config(Config.fromfile(self.leaf), parse_options(given), step=index == 0)
            except Exception as error:
                raise SearchError(
                    f'candidate {candidate.name} ({osp.basename(self.leaf)} with {given}) cannot '
                    f'be {"built and run" if index == 0 else "built"}: '
                    f'{type(error).__name__}: {error}') from error
        self.log(f'checked the baseline and {len(self.found)} candidate leaves (built, one '
                 f'step of the leaf) in {time.time() - started:.0f} s')

    def run(self) -> Dict:
        baseline = self.prepare()
        self.check(baseline)
        jobs = self.jobs(baseline)
        self.log(f'{len(jobs)} trainings: {len(self.seeds)} seeds x (baseline + '
                 f'{len(self.found)} candidates), {self.executor.workers} at a time '
                 f'({self.executor.kind})')
        run_jobs(list(jobs.values()), self.executor, log=self.log)
        scores = {c.name: [jobs[s, c.name].result for s in self.seeds] for c in self.found}
        result = compare(scores, [jobs[s, BASELINE].result for s in self.seeds])
        result['seconds'] = time.time() - self.started
        result['job_seconds'] = sum(j.seconds or 0 for j in jobs.values())
        return result


def distill_options(leaf: str, teacher_ckpt: Optional[str] = None,
                    stage1_ckpt: Optional[str] = None) -> List[str]:
    """The options of the distillation runs only: the teacher's weights and, for a leaf that
    loads a first stage (KA's auto-encoder), its checkpoint."""
    options = [f'model.teacher_ckpt={teacher_ckpt}'] if teacher_ckpt else []
    if stage1_ckpt:
        from mmengine.config import Config

        from ..methods import stage1_connector
        found = stage1_connector(Config.fromfile(leaf).model.distiller)
        if found is None:
            raise ValueError(f'a first-stage checkpoint was given, but {leaf} loads no first '
                             'stage')
        options.append(f'{found[0].checkpoint_key}={stage1_ckpt}')
    return options


def record(leaf: str, out: str, work_dir: str, command: str, shipped: Dict[str, float],
           found: Sequence[Candidate], result: Dict, seeds: Sequence[int]) -> str:
    """Write what a search found: ``out`` (the leaf with the chosen values and its record),
    ``search_<leaf>.json`` (every run's score, the command, the candidates) and
    ``search_<leaf>.md`` (the table) in ``work_dir``. Returns the table."""
    table = markdown(result, found)
    info = machine()
    best = next(c for c in found if c.name == result['best'])
    with open(out, 'w') as f:
        f.write(chosen_leaf_text(leaf, out, best, result, command, seeds))
    stem = osp.splitext(osp.basename(leaf))[0]
    with open(osp.join(work_dir, f'search_{stem}.json'), 'w') as f:
        json.dump(dict(leaf=leaf, command=command, shipped=shipped,
                       candidates={c.name: c.values for c in found}, machine=info, **result),
                  f, indent=1)
    with open(osp.join(work_dir, f'search_{stem}.md'), 'w') as f:
        f.write(f'`{command}`\n\nOn {machine_text(info)}.\n\n{table}\n')
    return table

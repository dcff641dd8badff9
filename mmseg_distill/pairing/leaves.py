"""Leaf configs for a teacher/student pair: one writer per method, from the pair's recording
points, with explicit arguments.

A leaf inherits the method's fragment (``mmseg_distill::_base_/distill/<fragment>.py``), fills in
what depends on the pair (recorders, channels, the KA stage-1 checkpoint), sets the class count
on both models, and takes its data, schedule and runtime from the student config (or from a
data config, ``data``). Weights come from the fragment (their sources are in its comments);
``weights`` overrides them with a comment each (``tools/inspect_pair.py`` passes the
calibrated ones).
"""
import os.path as osp
import re
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Tuple

from ..methods import METHODS, all_forms, methods_of
from ..utils.config_writer import BaseRef, assignment_text, merge_entries
from .plans import PairError, Plan, check_pair_classes, compose_plans, plan_method  # noqa: F401
from .points import RecordingPoint

TRAINING_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator',
                 'test_evaluator', 'optim_wrapper', 'param_scheduler', 'train_cfg', 'test_cfg',
                 'default_hooks', 'env_cfg', 'log_processor', 'vis_backends', 'visualizer',
                 'log_level', 'load_from', 'resume', 'randomness', 'default_scope',
                 'auto_scale_lr')
DATA_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator',
             'test_evaluator')
SCHEDULE_KEYS = ('optim_wrapper', 'param_scheduler', 'train_cfg', 'test_cfg', 'default_hooks',
                 'randomness', 'auto_scale_lr')


@dataclass
class Pair:
    """What the leaf is for: configs (files or ``package::`` paths), method, class count, the
    crop the models were inspected at, and an optional data config to inherit.

    File paths are as the user gave them (relative to the working directory); the leaf writes
    each so that it resolves from the leaf's own folder (``anchored``). ``seed`` is the run's
    seed; ``init_checkpoint`` the initial student (plain student keys) the leaf starts from (the
    architecture's ``init_cfg``), shared with the baseline config."""
    teacher: str
    student: str
    method: str
    out: str
    crop: Tuple[int, int]
    num_classes: Optional[int] = None
    data: Optional[str] = None
    teacher_ckpt: Optional[str] = None
    schedule: Optional[str] = None
    seed: Optional[int] = None
    init_checkpoint: Optional[str] = None


# ------------------------------------------------------------------------------ paths
def is_file_path(path: Optional[str]) -> bool:
    return bool(path) and '::' not in path


def base_path(path: str, leaf: str) -> str:
    """A ``_base_`` entry: MMEngine resolves a relative one from the leaf's folder."""
    if not is_file_path(path) or osp.isabs(path):
        return path
    return osp.relpath(osp.abspath(path), osp.dirname(osp.abspath(leaf)))


def anchored(path: Optional[str], leaf: str) -> Optional[str]:
    """A path read at run time (a config a model is built from, a checkpoint): relative to the
    leaf's folder through MMEngine's ``{{ fileDirname }}`` (the leaf then works from any
    working directory and moves with its folder); ``package::`` and absolute paths as given."""
    if not is_file_path(path) or osp.isabs(path):
        return path
    relative = osp.relpath(osp.abspath(path), osp.dirname(osp.abspath(leaf)))
    return '{{ fileDirname }}/' + relative


def initial_weights(checkpoint: str, config: str) -> dict:
    """The ``init_cfg`` that starts a model from the initial student ``checkpoint`` (anchored to
    ``config``'s folder). An initialisation, not ``load_from``: with ``load_from`` set,
    MMEngine's ``--resume`` resumes from that file (no ``meta['epoch']``: ``KeyError``) instead
    of the run's last checkpoint. The runner initialises before it loads or resumes, so a
    resumed run continues from its own checkpoint, and ``load_from`` still overrides both."""
    return dict(type='Pretrained', checkpoint=anchored(checkpoint, config))


def relative_data_roots(cfg) -> Dict[str, str]:
    """{dataloader: its dataset's ``data_root``} for the roots that are relative paths. MMSeg
    reads those from the working directory of the run, not from the config's folder, so they
    are the one kind of path in a leaf that does not move with it (the tool says so)."""
    found = {}
    for loader in DATA_KEYS[:3]:
        dataset = (cfg.get(loader) or {}).get('dataset') or {}
        root = dataset.get('data_root') if isinstance(dataset, dict) else None
        if isinstance(root, str) and root and not osp.isabs(root) and '{{' not in root:
            found[loader] = root
    return found


def plan(method: str, teacher: Sequence[RecordingPoint], student: Sequence[RecordingPoint],
         stage1_checkpoint: str = '', stage1_note: str = '') -> List[Plan]:
    """The leaf plans of ``method`` for this pair (two where it has a first stage). A
    composition (``dsd+pixel_kd``) has one composed plan, after the first stage's where one of
    its methods has one; a composition that cannot be built is a ``PairError``."""
    methods = methods_of(method)
    for each in methods:
        check_pair_classes(teacher, student, each)
    if len(methods) == 1:
        return plan_method(methods[0], teacher, student, stage1_checkpoint, stage1_note)
    first_stages, parts = [], []
    for each in methods:
        plans = plan_method(each, teacher, student, stage1_checkpoint, stage1_note)
        first_stages += plans[:-1]
        parts.append((each, plans[-1]))
    composed = compose_plans(parts)
    check_composition(composed)
    return first_stages + [composed]


def check_composition(plan_: Plan) -> None:
    """The composed terms combine (``models.distillers.composition``'s rules), else why not."""
    from ..models.distillers.composition import CompositionError, compose_terms
    from ..utils.config import load_config
    terms = {}
    for key, fragment in plan_.composed:
        terms[key] = load_config(f'mmseg_distill::_base_/distill/terms/{fragment}')[
            METHODS[key].terms_variable]
    try:
        compose_terms(terms)
    except CompositionError as error:
        raise PairError(str(error)) from error


def weight_scheduled(fragment: str) -> bool:
    """Whether the form of this fragment schedules its weights (its terms file has hooks)."""
    return any(form.weight_schedule for _, form in all_forms() if form.fragment == fragment)


# ------------------------------------------------------------------------------ writing
def model_block(pair: Pair, plan_: Plan, weights: Dict[str, Tuple[float, str]],
                data_preprocessor: Optional[dict], leaf: str) -> str:
    classes = dict(num_classes=pair.num_classes) if pair.num_classes else {}
    architecture = dict(type='ModelFromConfig', cfg_path=anchored(pair.student, leaf), **classes)
    if pair.init_checkpoint:
        architecture['init_cfg'] = initial_weights(pair.init_checkpoint, leaf)
    model = dict(architecture=architecture,
                 teacher=dict(type='ModelFromConfig', cfg_path=anchored(pair.teacher, leaf),
                              **classes, random_init=True),
                 teacher_ckpt=anchored(pair.teacher_ckpt, leaf))
    comments = {('teacher_ckpt', ): ['the trained teacher (required for real training; None '
                                     'only for --check)']}
    if data_preprocessor:
        model['data_preprocessor'] = data_preprocessor
        comments['data_preprocessor', ] = [
            "the student's preprocessing, padded to the crop of the data config"]
    distiller = {}
    if plan_.composed:
        distiller['compose'] = {key: BaseRef(METHODS[key].terms_variable)
                                for key, _ in plan_.composed}
    distiller = merge_entries(distiller, plan_.distiller)
    comments.update({('distiller', ) + path: lines for path, lines in plan_.comments.items()})
    if weights:
        distiller = merge_entries(distiller, dict(distill_losses={
            name: dict(loss_weight=weight) for name, (weight, _) in weights.items()}))
        comments.update({('distiller', 'distill_losses', name): comment.splitlines()
                         for name, (_, comment) in weights.items()})
    if distiller:
        model['distiller'] = distiller
        comments['distiller', ] = plan_.notes
    text = assignment_text('model', model, comments)
    hooks = [METHODS[key].hooks_variable for key, fragment in plan_.composed
             if weight_scheduled(fragment)]
    if hooks:
        text += ('custom_hooks = _base_.custom_hooks + ' +
                 ' + '.join(f'_base_.{name}' for name in hooks) + '\n')
    return text


def training_settings(student_cfg, pair: Pair, leaf: str) -> str:
    """The student config's data, schedule and runtime, written out (without what the data and
    schedule configs of the pair, inherited instead, provide); the distillation validation
    loop; the student export hook; the seed and initial student of the pair."""
    from mmengine.config import Config
    inherited = (DATA_KEYS if pair.data else ()) + (SCHEDULE_KEYS if pair.schedule else ())
    keys = [k for k in TRAINING_KEYS if k in student_cfg and k not in inherited]
    settings = {k: student_cfg[k] for k in keys}
    if pair.seed is not None:
        settings['randomness'] = dict(settings.get('randomness', {}), seed=pair.seed)
    if not pair.schedule and 'auto_scale_lr' not in settings:
        protocol = re.search(r'_(\d+)xb(\d+)-', osp.basename(pair.student))
        if protocol:  # OpenMMLab's names give the batch the config's lr is set for
            settings['auto_scale_lr'] = dict(
                enable=False, base_batch_size=int(protocol[1]) * int(protocol[2]))
    # in default_hooks (merged by key), so hooks a user adds to custom_hooks never replace them:
    # the student for plain MMSeg at the end; each term's share of the task loss while training
    settings['default_hooks'] = dict(settings.get('default_hooks', {}),
                                     export_student=dict(type='mmrazor.ExportStudentHook'),
                                     term_shares=dict(type='mmrazor.TermShareHook'))
    imports = list(student_cfg.get('custom_imports', {}).get('imports', []))
    imports += [] if 'mmseg_distill' in imports else ['mmseg_distill']
    copied = [name for name, given in (('data', pair.data), ('schedule', pair.schedule))
              if not given] + ['runtime']
    return (f"# {', '.join(copied)}: copied from the student config\n" +
            Config(settings).pretty_text +
            f'custom_imports = dict(imports={imports!r}, allow_failed_imports=False)\n' +
            "val_cfg = dict(type='mmrazor.SingleTeacherDistillValLoop')\n")


def data_preprocessor_for(student_cfg, data_cfg_text: Optional[dict]) -> Optional[dict]:
    """The student's data preprocessor with ``size`` set to the data config's crop."""
    if not data_cfg_text or 'crop_size' not in data_cfg_text:
        return None
    preprocessor = student_cfg.get('data_preprocessor') or \
        student_cfg.get('model', {}).get('data_preprocessor')
    if not preprocessor:
        return None
    preprocessor = dict(preprocessor)
    preprocessor['size'] = tuple(data_cfg_text['crop_size'])
    if '.' not in preprocessor.get('type', '.'):  # built in MMRazor's scope with the algorithm
        preprocessor['type'] = 'mmseg.' + preprocessor['type']
    return preprocessor


def stage1_path(out: str) -> str:
    return out[:-3] + '_stage1.py'


def baseline_path(out: str) -> str:
    """The plain student's config written beside the leaf (``mim train mmseg``)."""
    return out[:-3] + '_baseline.py'


def leaf_texts(pair: Pair, teacher: Sequence[RecordingPoint], student: Sequence[RecordingPoint],
               student_cfg, weights: Optional[Dict[str, Dict[str, Tuple[float, str]]]] = None,
               data_cfg=None, schedule_cfg=None) -> List[Tuple[str, str]]:
    """[(path, text)] of the leaves for ``pair`` (KA: stage 1 then stage 2).

    ``weights``: per leaf path, {loss name: (weight, comment)} overriding the fragment's.
    ``data_cfg`` / ``schedule_cfg``: the loaded data and schedule configs (when ``pair.data``
    / ``pair.schedule`` are given). KA's stage-2 leaf names the stage-1 run's default work
    directory (``work_dirs/<stage-1 leaf name>`` of the working directory the tool runs in),
    whose last checkpoint its connector loads.
    """
    weights = weights or {}
    header = (f'# Written by tools/inspect_pair.py: {pair.method} from {pair.teacher} to '
              f'{pair.student}, crop {pair.crop[0]}x{pair.crop[1]}.\n')
    stage1_leaf = stage1_path(pair.out)
    stage1_work = osp.join('work_dirs', osp.basename(stage1_leaf)[:-3])
    # the stage-1 run's work directory: stage 2 loads its last checkpoint, whatever its length
    stage1_ckpt = anchored(stage1_work, pair.out)
    plans = plan(pair.method, teacher, student, stage1_ckpt,
                 f' (mim train mmrazor {osp.basename(stage1_leaf)} run from '
                 f'{osp.abspath(".")}; another --work-dir: change it)')
    paths = [stage1_leaf, pair.out] if any(m.stage1 for m in methods_of(pair.method)) \
        else [pair.out]
    preprocessor = data_preprocessor_for(student_cfg, data_cfg)
    texts = []
    for path, plan_ in zip(paths, plans):
        bases = [f'mmseg_distill::_base_/distill/{plan_.fragment}'] + \
            [f'mmseg_distill::_base_/distill/terms/{fragment}' for _, fragment in
             plan_.composed] + \
            [base_path(base, path) for base in (pair.data, pair.schedule) if base]
        # stage 1 trains the teacher's auto-encoder only: no initial student to share
        leaf_pair = pair if path == pair.out else replace(pair, init_checkpoint=None)
        texts.append((path, header + f'_base_ = {bases!r}\n' +
                      model_block(leaf_pair, plan_, weights.get(path, {}), preprocessor, path) +
                      training_settings(student_cfg, leaf_pair, path)))
    return texts

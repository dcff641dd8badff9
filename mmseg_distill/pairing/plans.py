"""How the pair tool plans a method's leaf for a pair nobody shipped: one planner per kind of
method (``PLANNERS``, by method key; ``plan_fragment`` for a method not in it), from the pair's
recording points."""
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..methods import Method
from ..utils.config_writer import merge_entries
from .points import RecordingPoint, points_of


class PairError(ValueError):
    """The pair cannot be distilled with this method as asked; the message says what to do."""


@dataclass
class Plan:
    """A method's leaf before it is written: the fragment and the model settings it needs."""
    fragment: str
    # what the leaf sets in model.distiller, as values (``utils.config_writer`` writes them)
    distiller: Dict[str, Any] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)  # comment lines above the distiller
    # a composition: (method key, its form's fragment) for each composed method; the leaf
    # inherits _algorithm.py and each form's terms file instead of ``fragment``
    composed: List[Tuple[str, str]] = field(default_factory=list)
    # comment lines above an entry of ``distiller``, by its key path in it
    comments: Dict[Tuple[str, ...], List[str]] = field(default_factory=dict)


def compose_plans(parts: Sequence[Tuple[Method, Plan]]) -> Plan:
    """One plan for several methods: their forms' terms composed, the entries each plan sets
    on the distiller merged key by key (two plans setting one key differently cannot be
    merged: a ``PairError`` naming it)."""
    merged: Dict[str, Any] = {}
    comments: Dict[Tuple[str, ...], List[str]] = {}
    for _, part in parts:
        try:
            merged = merge_entries(merged, part.distiller)
        except ValueError as clash:
            raise PairError(f'the composed methods both set model.distiller.{clash}, '
                            'differently; write the leaf of one method and add the other by '
                            'hand') from None
        comments.update(part.comments)
    notes = [f'{method.key}: {note}' for method, part in parts for note in part.notes]
    return Plan('_algorithm.py', merged, notes,
                [(method.key, part.fragment) for method, part in parts], comments)


# ------------------------------------------------------------------------------ methods
def check_pair_classes(teacher: Sequence[RecordingPoint], student: Sequence[RecordingPoint],
                       method: Method) -> None:
    """Teacher and student predict the same classes where ``method`` compares logits."""
    if not method.compares_logits:
        return
    t_logits, s_logits = points_of(teacher, 'logits'), points_of(student, 'logits')
    if t_logits and s_logits and t_logits[0].channels != s_logits[0].channels:
        raise PairError(
            f'{method.key} compares logits class by class, but the teacher predicts '
            f'{t_logits[0].channels} classes and the student {s_logits[0].channels}. Pass '
            '--num-classes K (the class count of the dataset you distil on): both models are '
            'then built for K classes.')


def plan_dsd(method: Method, teacher: Sequence[RecordingPoint],
             student: Sequence[RecordingPoint], *_) -> List[Plan]:
    """CIRKD's forms where the pair allows one (CIRKD keeps 1000 / 10 at every resolution; the
    pair tool measures what that weighs on this pair), the stage form otherwise."""
    t_logits, s_logits = points_of(teacher, 'logits')[0], points_of(student, 'logits')[0]
    t_aux = _aux_source(teacher, t_logits.stride)
    s_aux = _aux_source(student, s_logits.stride)
    feats = points_of(teacher, 'head feature') and points_of(student, 'head feature')
    if feats and t_aux and s_aux:
        return [Plan('dsd_cirkd.py', dict(
            student_recorders=dict(aux_logits=dict(source=s_aux)),
            teacher_recorders=dict(aux_logits=dict(source=t_aux))),
            ["CIRKD's form: [auxiliary logits, classifier feature, logits] on both sides (the "
             "auxiliary head whose stride is closest to the logits')"])]
    if feats and t_aux:
        return [Plan('dsd_cirkd_student_no_aux.py', dict(
            teacher_recorders=dict(aux_logits=dict(source=t_aux))),
            ["CIRKD's form for a student without an auxiliary head: teacher [auxiliary logits, "
             'feature, logits], student [logits, feature, logits]'])]
    if feats:
        return [Plan('dsd_cirkd_head.py', {},
                     ["CIRKD's SegFormer form: PSD over [classifier feature, logits]"])]
    matched = _stride_matched_stages(teacher, student)
    if matched is None:
        raise PairError('DSD: no classifier feature and fewer than two stage maps at the same '
                        'strides; record maps by name in the leaf config')
    module, t_index, s_index, strides = matched

    def feats_of(from_student, indices):
        return [dict(recorder='stages', from_student=from_student, data_idx=i) for i in indices]

    mappings = dict(loss_psd=dict(feats_S=feats_of(True, s_index),
                                  feats_T=feats_of(False, t_index)))
    return [Plan('dsd_stages.py', dict(
        student_recorders=dict(stages=dict(source=module)),
        teacher_recorders=dict(stages=dict(source=module)),
        loss_forward_mappings=mappings),
        [f'stride-matched {module} outputs (strides {strides}): teacher indices {t_index}, '
         f'student indices {s_index} (this project\'s extension of DSD to stage maps)'])]


def _aux_source(points, stride) -> Optional[str]:
    aux = points_of(points, 'auxiliary logits')
    if not aux:
        return None
    return min(aux, key=lambda p: abs(p.stride - stride)).name


def _stride_matched_stages(teacher, student):
    for what in ('neck', 'stage'):
        t, s = points_of(teacher, what), points_of(student, what)
        common = sorted({p.stride for p in t} & {p.stride for p in s})
        if len(common) >= 2:
            def pick(points):
                return [next(i for i, p in enumerate(points) if p.stride == stride)
                        for stride in common]
            return ('neck' if what == 'neck' else 'backbone'), pick(t), pick(s), common
    return None


def _classifier_features(teacher, student, method):
    for side, points in (('teacher', teacher), ('student', student)):
        if not points_of(points, 'head feature'):
            family = next(p.name for p in points if p.what.startswith('head feature'))
            raise PairError(f'{method}: the {side} ({family}) has no classifier feature (it '
                            'classifies masks or kernels); use a logit method (pixel_kd, aicsd, '
                            'dsd) or record a module by name')
    return points_of(teacher, 'head feature')[0], points_of(student, 'head feature')[0]


def plan_ka(method: Method, teacher, student, stage1_checkpoint: str, stage1_note: str = ''
            ) -> List[Plan]:
    """Stage 1 (the teacher feature's auto-encoder) and stage 2 (adapters from the student's
    classifier feature to the code)."""
    t_feat, s_feat = _classifier_features(teacher, student, method.key)
    code = max(t_feat.channels // 2, 1)
    connector = method.stage1.connector
    stage1 = Plan(method.stage1.fragment,
                  dict(connectors={connector: dict(in_channels=t_feat.channels)}),
                  [f'the teacher classifier feature has {t_feat.channels} channels'])
    adapter = dict(in_channel=s_feat.channels, out_channel=code)
    stage2 = Plan(method.fragment, dict(connectors={
        connector: dict(in_channels=t_feat.channels, checkpoint=stage1_checkpoint),
        'student_adapter': adapter, 'student_affinity_adapter': dict(adapter)}),
        [f'adapters map the student feature ({s_feat.channels} channels) to the code '
         f'({code} channels)'],
        comments={('connectors', connector, 'checkpoint'): [
            f'the last checkpoint of the stage-1 run{stage1_note}']})
    return [stage1, stage2]


def plan_fragment(method: Method, *_) -> List[Plan]:
    """The method's default fragment as it is (its recorders serve every head family)."""
    return [Plan(method.fragment)]


def plan_classifier_features(method: Method, teacher, student, *_) -> List[Plan]:
    """The default fragment, for a pair where both models have a classifier feature."""
    _classifier_features(teacher, student, method.key)
    return plan_fragment(method)


def plan_same_positions(method: Method, teacher, student, *_) -> List[Plan]:
    """The default fragment, for a loss that compares the logits position by position with no
    resizing of its own (MMRazor's ChannelWiseDivergence and DISTLoss)."""
    t_logits, s_logits = points_of(teacher, 'logits')[0], points_of(student, 'logits')[0]
    if t_logits.stride != s_logits.stride:
        raise PairError(
            f'{method.key} compares the logits position by position (MMRazor\'s loss does not '
            f'resize), but the teacher predicts at stride {t_logits.stride} and the student at '
            f'stride {s_logits.stride}; pick a method that aligns maps (pixel_kd, dsd, aicsd) '
            'or a pair with the same output stride')
    return plan_fragment(method)


# (method, teacher points, student points, stage-1 checkpoint, its note) -> [Plan]
Planner = Callable[..., List[Plan]]
PLANNERS: Dict[str, Planner] = {
    'dsd': plan_dsd,
    'ka': plan_ka,
    'pfs': plan_classifier_features,
    'cwd': plan_same_positions,
    'dist': plan_same_positions,
}


def planner_of(method: Method) -> Planner:
    """The planner of a method: its entry of ``PLANNERS``, else ``plan_fragment`` (the fragment
    alone: a method whose recorders need no pair-specific setting)."""
    return PLANNERS.get(method.key, plan_fragment)


def plan_method(method: Method, teacher: Sequence[RecordingPoint],
                student: Sequence[RecordingPoint], stage1_checkpoint: str = '',
                stage1_note: str = '') -> List[Plan]:
    """The leaf plans of one method for a pair's recording points (two with a first stage)."""
    return planner_of(method)(method, teacher, student, stage1_checkpoint, stage1_note)

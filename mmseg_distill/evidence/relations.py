"""Relation distances between students and a teacher on the same batches."""
import re
import statistics
from typing import Dict, Iterable, List, Optional

import torch
from torch import nn

from ..models.head_families import own_class_heads
from ..models.losses import functional as F
from ..models.utils import align_spatial, positions_as_rows

RELATIONS = ('logit_kl', 'agreement', 'psd', 'csd', 'pfs', 'ka_affinity', 'ka_cka', 'icsd',
             'icsd_official', 'pairwise', 'cwd', 'dist')


def channel_wise_divergence(preds_S: torch.Tensor, preds_T: torch.Tensor) -> torch.Tensor:
    """MMRazor's ChannelWiseDivergence at tau 1 (the CWD row's term, unit weight), on maps
    aligned to the teacher's size."""
    from mmrazor.models.losses import ChannelWiseDivergence
    preds_S, preds_T = align_spatial(preds_S, preds_T)
    return ChannelWiseDivergence(tau=1.0, loss_weight=1.0)(preds_S, preds_T)


def dist_relation(preds_S: torch.Tensor, preds_T: torch.Tensor) -> torch.Tensor:
    """MMRazor's DISTLoss with every pixel a sample (the DIST row's term, unit weight)."""
    from mmrazor.models.losses import DISTLoss
    preds_S, preds_T = align_spatial(preds_S, preds_T)
    classes = preds_S.shape[1]
    return DISTLoss()(positions_as_rows(preds_S).reshape(-1, classes),
                      positions_as_rows(preds_T).reshape(-1, classes))


def linear_cka_distance(feat_S: torch.Tensor, feat_T: torch.Tensor) -> torch.Tensor:
    """1 - linear CKA (Kornblith et al., 2019) between two maps' position vectors, per image,
    averaged: 0 when one is a rotation and scaling of the other, any channel counts."""
    feat_S, feat_T = align_spatial(feat_S, feat_T)
    values = []
    for s, t in zip(positions_as_rows(feat_S).double(), positions_as_rows(feat_T).double()):
        s, t = s - s.mean(0), t - t.mean(0)
        cross = (s.t() @ t).square().sum()
        norm = (s.t() @ s).square().sum().sqrt() * (t.t() @ t).square().sum().sqrt()
        values.append(1 - cross / norm.clamp_min(1e-30))
    return torch.stack(values).mean().float()


def agreement(preds_S: torch.Tensor, preds_T: torch.Tensor) -> torch.Tensor:
    preds_S, preds_T = align_spatial(preds_S, preds_T)
    return (preds_S.argmax(1) == preds_T.argmax(1)).float().mean()


class Relations:
    """Records of one model (teacher or student) and the distances between two of them."""

    def __init__(self, encoder: Optional[nn.Module] = None):
        self.encoder = encoder  # KA's stage-1 encoder (teacher side), if measured

    def distances(self, student: Dict[str, torch.Tensor], teacher: Dict[str, torch.Tensor]
                  ) -> Dict[str, float]:
        """Every relation both records allow: ``logits``, ``feature``, ``aux_logits``
        (optional), ``pre_relu`` (optional)."""
        s, t = student, teacher
        out = {'logit_kl': F.pixel_kd(s['logits'], t['logits']),
               'agreement': agreement(s['logits'], t['logits']),
               # CIRKD's CSD: rows not normalised, logits 2x2-pooled, tau 4
               'csd': F.category_similarity(s['logits'], t['logits'], tau=4.0, pool_size=2,
                                            normalize_rows=False),
               'icsd': F.inter_class_similarity(s['logits'], t['logits']),
               'icsd_official': F.inter_class_similarity(s['logits'], t['logits'],
                                                         formulation='official'),
               'pfs': F.pixel_feature_similarity(s['feature'], t['feature']),
               'cwd': channel_wise_divergence(s['logits'], t['logits']),
               'dist': dist_relation(s['logits'], t['logits'])}
        if 'aux_logits' in s and 'aux_logits' in t:
            out['psd'] = F.pixel_similarity([s['aux_logits'], s['feature'], s['logits']],
                                            [t['aux_logits'], t['feature'], t['logits']],
                                            pairs='all')
        if 'pre_relu' in s and 'pre_relu' in t:
            out['pairwise'] = F.pairwise_similarity(s['pre_relu'], t['pre_relu'])
        if self.encoder is not None:
            code = self.encoder(t['feature'])
            out['ka_affinity'] = F.affinity(s['feature'], code, formulation='paper')
            out['ka_cka'] = linear_cka_distance(s['feature'], code)
        return {k: float(v) for k, v in out.items()}


AUX_LOGITS = re.compile(r'^auxiliary_head(\.\d+)?\.conv_seg$')


def aux_logit_sources(model: nn.Module) -> List[str]:
    """The classifiers of every auxiliary head that predicts the data set's classes (one head,
    or a list of them as BiSeNetV1 and Fast-SCNN have; not STDC's detail head)."""
    own = own_class_heads(model)
    return [name for name, _ in model.named_modules()
            if AUX_LOGITS.match(name) and name.rsplit('.', 1)[0] not in own]


def _recorders(model: nn.Module, pre_relu: Optional[str]):
    from mmrazor.models.task_modules.recorder import ModuleOutputsRecorder

    from ..models.task_modules import SegHeadFeatureRecorder, SegLogitsRecorder
    recorders = {'logits': SegLogitsRecorder(), 'feature': SegHeadFeatureRecorder()}
    for source in aux_logit_sources(model):
        recorders[f'aux_logits:{source}'] = ModuleOutputsRecorder(source)
    if pre_relu:
        recorders['pre_relu'] = ModuleOutputsRecorder(pre_relu)
    for recorder in recorders.values():
        recorder.initialize(model)
    return recorders


def _closest_aux(records: dict) -> dict:
    """Keep, as ``aux_logits``, the auxiliary logits whose size is closest to the logits' (the
    one the pair tool's DSD leaf records: the auxiliary head whose stride is closest)."""
    aux = [(name, value) for name, value in records.items() if name.startswith('aux_logits:')]
    out = {name: value for name, value in records.items() if not name.startswith('aux_logits:')}
    if aux and 'logits' in out:
        height = out['logits'].shape[-2]
        out['aux_logits'] = min(aux, key=lambda item: abs(item[1].shape[-2] - height))[1]
    return out


def left_out(teacher: nn.Module, students: Dict[str, nn.Module],
             encoder: Optional[nn.Module] = None,
             pre_relu: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """{relation: why it is not measured} for the relations these models and options leave
    out (an empty dict when every relation is measured)."""
    pre_relu = pre_relu or {}
    reasons = {}
    without_aux = [name for name, model in dict(teacher=teacher, **students).items()
                   if not aux_logit_sources(model)]
    if without_aux:
        reasons['psd'] = (f"no auxiliary head on {', '.join(without_aux)}: PSD in CIRKD's form "
                          'compares [auxiliary logits, feature, logits] on both models')
    if encoder is None:
        reasons['ka_affinity'] = reasons['ka_cka'] = \
            "needs KA's stage-1 encoder (--stage1 CKPT)"
    missing = [name for name in ['teacher'] + list(students) if name not in pre_relu]
    if missing:
        reasons['pairwise'] = (f"needs the pre-ReLU module of {', '.join(missing)} "
                               '(--pre-relu NAME=MODULE)')
    return reasons


def record(model: nn.Module, recorders, inputs: torch.Tensor, data_samples) -> dict:
    """One forward in loss mode (auxiliary heads included) without gradient; its records."""
    for recorder in recorders.values():
        recorder.reset_data_buffer()
        recorder.__enter__()
    try:
        with torch.no_grad():
            model(inputs, data_samples, mode='loss')
    finally:
        for recorder in recorders.values():
            recorder.__exit__(None, None, None)
    return _closest_aux({name: recorder.data_buffer[0].float()
                         for name, recorder in recorders.items() if recorder.data_buffer})


def measure_students(teacher: nn.Module, students: Dict[str, nn.Module],
                     batches: Iterable, encoder: Optional[nn.Module] = None,
                     pre_relu: Optional[Dict[str, str]] = None) -> Dict[str, Dict[str, float]]:
    """Mean distance to the teacher in every relation, per student, over the same ``batches``
    of (inputs, data samples). ``pre_relu``: {'teacher' or student name: module name}."""
    from ..models.distillers import disable_inplace
    pre_relu = pre_relu or {}
    relations = Relations(encoder)
    for model in [teacher] + list(students.values()):
        model.eval()
        disable_inplace(model)  # a record must stay what its module returned
    teacher_recorders = _recorders(teacher, pre_relu.get('teacher'))
    student_recorders = {name: _recorders(model, pre_relu.get(name))
                         for name, model in students.items()}
    values: Dict[str, Dict[str, List[float]]] = {name: {} for name in students}
    with torch.no_grad():
        for inputs, data_samples in batches:
            t = record(teacher, teacher_recorders, inputs, data_samples)
            for name, model in students.items():
                s = record(model, student_recorders[name], inputs, data_samples)
                for relation, value in relations.distances(s, t).items():
                    values[name].setdefault(relation, []).append(value)
    return {name: {relation: statistics.mean(v) for relation, v in per.items()}
            for name, per in values.items()}

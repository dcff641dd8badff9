"""A distillation training step and its parts, for any leaf config.

One way to build a step model: the leaf config (a shipped one, or one the pair tool wrote), with
random weights, the teacher's fast path and precision as asked, and a random KA stage-1 encoder.
Its parts are timed interleaved, round by round, in one process: the full step, the teacher's
forward (``SegmentationDistill.record_teacher``), the student's own step, all distillation
losses with their connectors, the connectors that work on teacher records only (KA's frozen
encoder), and each loss alone. Differences and ratios are taken per round.
"""
import os.path as osp

from .timing import difference, interleaved, memory_probe, ratio, summary, timer


def build_step_model(spec: dict):
    """The leaf's algorithm on ``spec['device']`` in train mode, random weights."""
    import torch
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmrazor.registry import MODELS

    import mmseg_distill  # noqa: F401
    from benchmarks.tiny import write_ka_stage1_checkpoint
    from mmseg_distill.methods import set_stage1_checkpoint, stage1_connector
    cfg = Config.fromfile(spec['leaf']).model
    cfg.teacher_ckpt = None
    if cfg.architecture.get('type') == 'ModelFromConfig':
        cfg.architecture.random_init = True
    found = stage1_connector(cfg.distiller)
    if found is not None and found[1].get('mode') == 'encode':
        stage, encoder = found
        set_stage1_checkpoint(cfg.distiller, write_ka_stage1_checkpoint(
            osp.join(spec['tmp'], f"{stage.prefix}_{encoder['in_channels']}.pth"),
            encoder['in_channels'], encoder.get('checkpoint_prefix', stage.checkpoint_prefix)))
    cfg.teacher_fast_path = spec.get('fast_path', True)
    cfg.teacher_precision = spec.get('teacher_precision', 'fp32')
    torch.manual_seed(0)
    model = revert_sync_batchnorm(MODELS.build(cfg)).to(spec['device'])
    model.train()
    return model


def _detached_leaf(value):
    if isinstance(value, (list, tuple)):
        return type(value)(_detached_leaf(v) for v in value)
    if hasattr(value, 'detach') and value.is_floating_point():
        return value.detach().clone().requires_grad_(True)
    return value


def _teacher_side_requests(mappings):
    """(recorder, data_idx, connector) of every connector applied to a teacher record."""
    return {(r['recorder'], r.get('data_idx'), r['connector'])
            for mapping in mappings for r in mapping.values()
            if isinstance(r, dict) and not r['from_student'] and r.get('connector')}


def worker_step(spec: dict) -> dict:
    """Step parts of one leaf: medians with spread, per-round ratios and differences."""
    import torch

    from mmseg_distill.utils.batches import random_seg_batch
    torch.set_num_threads(spec['threads'])
    device = spec['device']
    model = build_step_model(spec)
    inputs, samples = random_seg_batch(spec['batch'], spec['size'], spec['num_classes'])
    inputs, samples = inputs.to(device), [s.to(device) for s in samples]
    distiller = model.distiller
    params = [p for p in model.parameters() if p.requires_grad]
    student_params = [p for p in model.student.parameters() if p.requires_grad]

    def full_step():
        for p in params:
            p.grad = None
        losses = model.loss(inputs, samples)
        sum(v for k, v in losses.items() if 'loss' in k).backward()

    if spec.get('memory_only'):
        peak = memory_probe(device)
        full_step()
        return {'peak_extra_mib': peak()}

    def teacher_forward():
        model.record_teacher(inputs, samples)

    def student_step():
        for p in student_params:
            p.grad = None
        losses = model.student.loss(inputs, samples)
        sum(v for k, v in losses.items() if 'loss' in k).backward()

    # the distillation losses alone: on leaf copies of one step's student records, put back
    # before each run (the interleaved full steps record anew)
    model.loss(inputs, samples)
    records = {name: [_detached_leaf(r) for r in recorder.data_buffer]
               for name, recorder in distiller.student_recorders.recorders.items()}
    leaves = [p for p in distiller.parameters() if p.requires_grad]
    mappings = dict(distiller.loss_forward_mappings)

    def distill_with(names):
        def run():
            for name, recorder in distiller.student_recorders.recorders.items():
                recorder._data_buffer = list(records[name])
            for p in leaves:
                p.grad = None
            distiller.loss_forward_mappings = {n: mappings[n] for n in names}
            try:
                losses = distiller.compute_distill_losses()
                sum(losses.values()).backward()
            finally:
                distiller.loss_forward_mappings = mappings
        return run

    requests = _teacher_side_requests(mappings.values())

    def teacher_connectors():
        with torch.no_grad():
            for recorder, data_idx, connector in requests:
                distiller.get_record(recorder, False, data_idx=data_idx, connector=connector)

    parts = {'step': full_step, 'teacher': teacher_forward, 'student': student_step,
             'distill': distill_with(list(mappings)), 'teacher_side': teacher_connectors}
    for name in mappings:
        parts[f'loss:{name}'] = distill_with([name])
    times = interleaved(parts, spec['rounds'], timer(device))
    result = {name: summary(values) for name, values in times.items()
              if not name.startswith('loss:')}
    student_plus_teacher = [s + t for s, t in zip(times['student'], times['teacher'])]
    result['step_ratio'] = ratio(times['step'], student_plus_teacher)
    result['distill_overhead'] = ratio(times['distill'], times['student'])
    student_side = [d - c for d, c in zip(times['distill'], times['teacher_side'])]
    result['student_side_ms'] = difference(times['distill'], times['teacher_side'])
    result['student_side_overhead'] = ratio(student_side, times['student'])
    # a share of a difference within the noise is within the noise too
    result['student_side_overhead']['resolved'] = result['student_side_ms']['resolved']
    result['per_loss'] = {}
    for name, mapping in mappings.items():
        own = _teacher_side_requests([mapping])
        # a loss that uses the teacher-side connectors runs them inside its timing: take them
        # out (where it uses only some of them, its figure keeps them)
        result['per_loss'][name] = difference(times[f'loss:{name}'], times['teacher_side']) \
            if own and own == requests else summary(times[f'loss:{name}'])
    result['rounds'] = len(times['step'])
    return result

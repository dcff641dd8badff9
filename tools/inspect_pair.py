"""Inspect a teacher/student pair, write a distillation config for it, and check it runs.

    python tools/inspect_pair.py TEACHER STUDENT [--method M] [--num-classes K] [--crop H W]
                                 [--out LEAF.py] [--check]

TEACHER/STUDENT: config files or ``mmseg::`` paths. Both models are built with random weights
(nothing is downloaded) and run once at the crop size.

- without ``--method``: prints every candidate recording point of both models side by side
  (module name, what it is, channels, spatial size, stride);
- ``--method {pixel_kd,dsd,ka,pfs,aicsd} --out LEAF.py``: writes a leaf config that inherits
  the method fragment (``mmseg_distill::``), fills in the recorders and channel numbers,
  rescales resolution-dependent weights (with the reason in a comment), sets ``--num-classes``
  on both models and copies the student config's data, schedule and runtime settings. KA
  writes its two stage leaves (``LEAF_stage1.py`` and ``LEAF.py``);
- ``--check``: builds what was written and runs one training iteration on random inputs of
  the crop size (KA: stage 1, then stage 2 from that stage-1 result). Exit 0 on success.
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
import traceback

import torch

METHODS = ('pixel_kd', 'dsd', 'ka', 'pfs', 'aicsd')
CIRKD_POSITIONS = 64 * 128  # CIRKD's PSD weight 1000 is for stride-8 maps of 512x1024 crops
TRAINING_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator',
                 'test_evaluator', 'optim_wrapper', 'param_scheduler', 'train_cfg', 'test_cfg',
                 'default_hooks', 'env_cfg', 'log_processor', 'vis_backends', 'visualizer',
                 'log_level', 'load_from', 'resume', 'randomness', 'default_scope')


# ------------------------------------------------------------------------------ inspection
def build(cfg_path, num_classes, crop):
    """A model of the config with random weights, its config, and one forward at ``crop``."""
    import mmseg_distill  # noqa: F401
    from mmengine.model import revert_sync_batchnorm
    from mmseg_distill.models.model_from_config import build_in_scope, load_model_cfg
    model_cfg, scope, cfg = load_model_cfg(cfg_path, num_classes, random_init=True)
    model = revert_sync_batchnorm(build_in_scope(model_cfg, scope))
    model.eval()
    return model, cfg


def candidates(model, crop):
    """[(name, what, channels, (h, w), stride)] of the points a recorder can read."""
    from mmseg_distill.models.task_modules.seg_head_recorders import (SegHeadFeatureRecorder,
                                                                      SegLogitsRecorder,
                                                                      head_family)
    points, hooks = [], []

    def shape_hook(name, what):
        def hook(module, inputs, output):
            maps = output if isinstance(output, (list, tuple)) else [output]
            for index, value in enumerate(maps):
                if isinstance(value, torch.Tensor) and value.dim() == 4:
                    label = f'{name}[{index}]' if len(maps) > 1 else name
                    points.append((label, what, value.shape[1], tuple(value.shape[-2:])))
        return hook

    modules = dict(model.named_modules())
    for name, what in (('backbone', 'stage'), ('neck', 'neck')):
        if name in modules:
            hooks.append(modules[name].register_forward_hook(shape_hook(name, what)))
    for name, module in modules.items():
        if name.startswith('auxiliary_head') and name.endswith('conv_seg'):
            hooks.append(module.register_forward_hook(shape_hook(name, 'auxiliary logits')))
    recorders = {}
    for kind, cls in (('head feature', SegHeadFeatureRecorder), ('logits', SegLogitsRecorder)):
        recorder = cls()
        try:
            recorder.initialize(model)
            recorders[kind] = recorder
        except ValueError:
            points.append((f'{cls.__name__[:-8]} ({head_family(model)[1]})',
                           f'{kind}: not available', 0, (0, 0)))
    for recorder in recorders.values():
        recorder.__enter__()
    try:
        with torch.no_grad():
            inputs = torch.randn(1, 3, *crop)
            heads = model.decode_head
            if isinstance(heads, torch.nn.ModuleList) and type(heads[-1]).__name__ == 'PointHead':
                # MMSeg has no tensor mode for PointRend: its dense map is the coarse head's
                heads[0].forward(model.extract_feat(inputs))
            else:
                model(inputs, None, mode='tensor')
    finally:
        for recorder in recorders.values():
            recorder.__exit__(None, None, None)
        for hook in hooks:
            hook.remove()
    for kind, recorder in recorders.items():
        value = recorder.data_buffer[0]
        source = {'head feature': 'SegHeadFeature', 'logits': 'SegLogits'}[kind]
        points.append((f"{source} ({head_family(model)[1]})", kind, value.shape[1],
                       tuple(value.shape[-2:])))
    aux = getattr(model, 'auxiliary_head', None)
    if aux is not None:  # auxiliary heads only run in training: run them on the features
        features = model.extract_feat(torch.randn(1, 3, *crop))
        heads = list(aux) if isinstance(aux, torch.nn.ModuleList) else [aux]
        for index, head in enumerate(heads):
            prefix = f'auxiliary_head.{index}' if isinstance(aux, torch.nn.ModuleList) \
                else 'auxiliary_head'
            with torch.no_grad():
                out = head.forward(features)
            out = out[0] if isinstance(out, (list, tuple)) else out
            points.append((f'{prefix}.conv_seg', 'auxiliary logits', out.shape[1],
                           tuple(out.shape[-2:])))
    return [(n, w, c, hw, crop[0] // hw[0] if hw[0] else 0) for n, w, c, hw in points]


def print_side_by_side(teacher_points, student_points, names):
    rows = [('model', 'recording point', 'what', 'channels', 'size', 'stride')]
    for side, points in zip(names, (teacher_points, student_points)):
        for name, what, channels, hw, stride in points:
            rows.append((side, name, what, str(channels), f'{hw[0]}x{hw[1]}', str(stride)))
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    for row in rows:
        print('  '.join(cell.ljust(width) for cell, width in zip(row, widths)))


# ---------------------------------------------------------------------------- writing
def by_kind(points, what):
    return [p for p in points if p[1] == what]


def stride_matched_stages(teacher_points, student_points):
    """The stage/neck maps both models have at the same strides, as (module, indices...)."""
    for what in ('neck', 'stage'):
        t, s = by_kind(teacher_points, what), by_kind(student_points, what)
        common = sorted(set(p[4] for p in t) & set(p[4] for p in s))
        if len(common) >= 2:
            pick = lambda points: [next(i for i, p in enumerate(points) if p[4] == stride)  # noqa
                                   for stride in common]
            module = 'neck' if what == 'neck' else 'backbone'
            return module, pick(t), pick(s), common, t
    return None


def aux_source(points, stride):
    aux = by_kind(points, 'auxiliary logits')
    if not aux:
        return None
    return min(aux, key=lambda p: abs(p[4] - stride))[0]


def dsd_distiller(teacher_points, student_points):
    t_logits, s_logits = by_kind(teacher_points, 'logits')[0], by_kind(student_points, 'logits')[0]
    t_aux, s_aux = aux_source(teacher_points, t_logits[4]), aux_source(student_points,
                                                                     s_logits[4])
    t_feat = by_kind(teacher_points, 'head feature')
    s_feat = by_kind(student_points, 'head feature')
    if t_aux and s_aux and t_feat and s_feat:
        largest = max([t_logits[3], t_feat[0][3]] + [p[3] for p in teacher_points
                                                     if p[0] == t_aux], key=lambda hw: hw[0] * hw[1])
        positions = largest[0] * largest[1]
        text = f'''    distiller=dict(
        # the auxiliary head whose output stride is closest to the logits', on each side
        student_recorders=dict(aux_logits=dict(source='{s_aux}')),
        teacher_recorders=dict(aux_logits=dict(source='{t_aux}')),
        # source: CIRKD's 1000 (train_dsd.sh) for 64x128 positions, rescaled by 1/P to the
        # largest teacher map here ({largest[0]}x{largest[1]}): PSD is a mean of squared
        # differences of unit vectors over P positions, so it scales as 1/P
        distill_losses=dict(loss_psd=dict(loss_weight=1000.0 * {positions} / {CIRKD_POSITIONS})))
'''
        return 'dsd_cirkd.py', text
    matched = stride_matched_stages(teacher_points, student_points)
    if matched is None:
        return 'dsd_cirkd.py', head_only_dsd(teacher_points, t_logits, t_feat)
    module, t_index, s_index, strides, t_maps = matched
    largest = max((t_maps[i][3] for i in t_index), key=lambda hw: hw[0] * hw[1])
    positions = largest[0] * largest[1]
    feats = lambda side, idx: ',\n'.join(  # noqa: E731
        f"                    dict(recorder='stages', from_student={side}, data_idx={i})"
        for i in idx)
    text = f'''    distiller=dict(
        # stride-matched {module} outputs (strides {strides}): teacher indices {t_index},
        # student indices {s_index}
        student_recorders=dict(stages=dict(source='{module}')),
        teacher_recorders=dict(stages=dict(source='{module}')),
        # uncalibrated: CIRKD's 1000 (64x128 positions) rescaled by 1/P to the largest teacher
        # map here ({largest[0]}x{largest[1]}); PSD on stage maps is this project's extension
        distill_losses=dict(loss_psd=dict(loss_weight=1000.0 * {positions} / {CIRKD_POSITIONS})),
        loss_forward_mappings=dict(
            loss_psd=dict(
                feats_S=[
{feats('True', s_index)}
                ],
                feats_T=[
{feats('False', t_index)}
                ])))
'''
    return 'dsd_stages.py', text


def head_only_dsd(teacher_points, t_logits, t_feat):
    """Fewer than two shared stage strides (single-scale ViT backbones) and no auxiliary
    heads on both sides: PSD on the two maps every head has, its classifier feature and the
    logits (one residual pair)."""
    if not t_feat:
        raise SystemExit('DSD: no auxiliary heads, fewer than two shared stage strides and no '
                         'classifier feature; record maps by name in the leaf config')
    largest = max((t_logits[3], t_feat[0][3]), key=lambda hw: hw[0] * hw[1])
    positions = largest[0] * largest[1]
    return f'''    distiller=dict(
        # no auxiliary heads and fewer than two stage strides in common: PSD on the classifier
        # feature and the logits of each model
        student_recorders=dict(_delete_=True, head_feat=dict(type='SegHeadFeature'),
                               logits=dict(type='SegLogits')),
        teacher_recorders=dict(_delete_=True, head_feat=dict(type='SegHeadFeature'),
                               logits=dict(type='SegLogits')),
        # uncalibrated: CIRKD's 1000 (three maps, 64x128 positions) rescaled by 1/P to the
        # largest teacher map here ({largest[0]}x{largest[1]}); two maps give one residual pair
        distill_losses=dict(loss_psd=dict(loss_weight=1000.0 * {positions} / {CIRKD_POSITIONS})),
        loss_forward_mappings=dict(
            loss_psd=dict(
                feats_S=[dict(recorder='head_feat', from_student=True),
                         dict(recorder='logits', from_student=True)],
                feats_T=[dict(recorder='head_feat', from_student=False),
                         dict(recorder='logits', from_student=False)])))
'''


def model_block(teacher, student, num_classes, extra):
    classes = f', num_classes={num_classes}' if num_classes else ''
    return f'''model = dict(
    architecture=dict(type='ModelFromConfig', cfg_path='{student}'{classes}),
    teacher=dict(type='ModelFromConfig', cfg_path='{teacher}'{classes}, random_init=True),
    # the trained teacher (required for real training; None only for --check)
    teacher_ckpt=None,
{extra})
'''


def training_settings(student_cfg, crop):
    """The student config's data, schedule and runtime, written out; distillation val loop."""
    from mmengine.config import Config
    settings = {k: student_cfg[k] for k in TRAINING_KEYS if k in student_cfg}
    text = Config(settings).pretty_text
    imports = list(student_cfg.get('custom_imports', {}).get('imports', []))
    imports += [] if 'mmseg_distill' in imports else ['mmseg_distill']
    return ('# data, schedule and runtime: copied from the student config\n' + text +
            f'custom_imports = dict(imports={imports!r}, allow_failed_imports=False)\n' +
            "val_cfg = dict(type='mmrazor.SingleTeacherDistillValLoop')\n"
            'find_unused_parameters = True\n')


def write_leaves(args, teacher_points, student_points, student_cfg):
    header = (f'# Written by tools/inspect_pair.py: {args.method} from {args.teacher} to '
              f'{args.student}, crop {args.crop[0]}x{args.crop[1]}.\n')
    settings = training_settings(student_cfg, args.crop)
    leaves = []
    if args.method in ('ka', 'pfs'):
        for side, points in (('teacher', teacher_points), ('student', student_points)):
            if not by_kind(points, 'head feature'):
                family = next(p[0] for p in points if p[1].startswith('head feature'))
                raise SystemExit(f'{args.method}: the {side} ({family}) has no classifier '
                                 'feature (it classifies masks or kernels); use a logit method '
                                 '(pixel_kd, aicsd, dsd) or record a module by name')
    if args.method == 'ka':
        t_feat = by_kind(teacher_points, 'head feature')[0]
        s_feat = by_kind(student_points, 'head feature')[0]
        code = max(t_feat[2] // 2, 1)
        stage1 = args.out[:-3] + '_stage1.py'
        stage1_work = osp.join('work_dirs', osp.basename(stage1)[:-3])
        extra1 = f'''    distiller=dict(connectors=dict(
        teacher_autoencoder=dict(in_channels={t_feat[2]})))'''
        leaves.append((stage1, header + "_base_ = ['mmseg_distill::_base_/distill/"
                       "ka_stage1.py']\n" + model_block(args.teacher, args.student,
                                                         args.num_classes, extra1) + settings))
        extra2 = f'''    distiller=dict(connectors=dict(
        teacher_autoencoder=dict(
            in_channels={t_feat[2]},
            # the last checkpoint of the stage-1 run (relative to the working directory)
            checkpoint='{stage1_work}/iter_{student_cfg.get('train_cfg', {}).get('max_iters', 0)}.pth'),
        student_adapter=dict(in_channel={s_feat[2]}, out_channel={code}),
        student_affinity_adapter=dict(in_channel={s_feat[2]}, out_channel={code})))'''
        leaves.append((args.out, header + "_base_ = ['mmseg_distill::_base_/distill/"
                       "ka_stage2.py']\n" + model_block(args.teacher, args.student,
                                                         args.num_classes, extra2) + settings))
        return leaves
    fragment, extra = {'pixel_kd': ('pixel_kd.py', ''), 'pfs': ('pfs.py', ''),
                       'aicsd': ('aicsd.py', '    # uncalibrated here: the ICSD weight of '
                                 'aicsd_paper.py was measured on the tiny pair; rerun\n'
                                 '    # tools/calibrate_weights.py with your teacher\n')
                       }.get(args.method, (None, None))
    if args.method == 'dsd':
        fragment, extra = dsd_distiller(teacher_points, student_points)
    leaves.append((args.out, header + f"_base_ = ['mmseg_distill::_base_/distill/{fragment}']\n"
                   + model_block(args.teacher, args.student, args.num_classes, extra) +
                   settings))
    return leaves


# ------------------------------------------------------------------------------ checking
def one_iteration(leaf, crop, num_classes, stage1_ckpt=None):
    """Build the leaf's algorithm (random teacher) and run one SGD step on random inputs."""
    import warnings

    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    from mmrazor.registry import MODELS
    cfg = Config.fromfile(leaf)
    model_cfg = cfg.model
    model_cfg.architecture.random_init = True
    auto_encoder = model_cfg.distiller.get('connectors', {}).get('teacher_autoencoder')
    if auto_encoder is not None and auto_encoder.get('mode') == 'encode':
        auto_encoder.checkpoint = stage1_ckpt
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = revert_sync_batchnorm(MODELS.build(model_cfg))
    model.train()
    classes = num_classes or 19
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(2, 3, *crop, generator=generator)
    samples = []
    for _ in range(2):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=torch.randint(0, classes, (1, *crop),
                                                         generator=generator))
        # PIDNet's boundary branch trains on edge maps (MMSeg's GenerateEdge transform)
        sample.gt_edge_map = PixelData(data=torch.randint(0, 2, (1, *crop),
                                                          generator=generator))
        sample.set_metainfo(dict(img_shape=tuple(crop), pad_shape=tuple(crop),
                                 ori_shape=tuple(crop)))
        samples.append(sample)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=1e-3)
    losses = model.loss(inputs, samples)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    if not torch.isfinite(total):
        raise RuntimeError(f'non-finite loss: { {k: float(v) for k, v in losses.items()} }')
    total.backward()
    optimizer.step()
    distill = {k: round(float(v), 6) for k, v in losses.items() if k.startswith('distill.')}
    print(f'[check] {osp.basename(leaf)}: one iteration OK, {distill}')
    return model


def check(leaves, args):
    stage1_ckpt = None
    for leaf, _ in leaves:
        model = one_iteration(leaf, args.crop, args.num_classes, stage1_ckpt)
        if leaf.endswith('_stage1.py'):
            stage1_ckpt = osp.join(tempfile.mkdtemp(), 'stage1.pth')
            torch.save({'state_dict': model.state_dict()}, stage1_ckpt)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('teacher')
    parser.add_argument('student')
    parser.add_argument('--method', choices=METHODS)
    parser.add_argument('--num-classes', type=int)
    parser.add_argument('--crop', type=int, nargs=2, default=[512, 512], metavar=('H', 'W'))
    parser.add_argument('--out', help='leaf config to write (with --method)')
    parser.add_argument('--check', action='store_true',
                        help='build what was written and run one training iteration')
    args = parser.parse_args(argv)
    if args.method and not args.out:
        parser.error('--method needs --out LEAF.py')
    import mmseg_distill  # noqa: F401
    torch.manual_seed(0)
    try:
        teacher, _ = build(args.teacher, args.num_classes, args.crop)
        student, student_cfg = build(args.student, args.num_classes, args.crop)
        teacher_points = candidates(teacher, args.crop)
        student_points = candidates(student, args.crop)
    except Exception as error:  # name the model that failed, keep the cause
        traceback.print_exc()
        print(f'[inspect_pair] could not build or run the pair: {error}', file=sys.stderr)
        return 2
    if not args.method:
        print_side_by_side(teacher_points, student_points, ('teacher', 'student'))
        return 0
    leaves = write_leaves(args, teacher_points, student_points, student_cfg)
    for path, text in leaves:
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        with open(path, 'w') as f:
            f.write(text)
        print(f'[inspect_pair] wrote {path}')
    if args.check:
        try:
            check(leaves, args)
        except Exception as error:
            traceback.print_exc()
            print(f'[inspect_pair] check failed: {error}', file=sys.stderr)
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

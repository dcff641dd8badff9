"""Inspect a teacher/student pair, write a distillation config for it, and check it runs.

    python tools/inspect_pair.py TEACHER STUDENT [--method M] [--num-classes K] [--crop H W]
        [--out LEAF.py] [--data DATA_CFG] [--schedule SCHEDULE_CFG] [--teacher-ckpt CKPT]
        [--keep-source-weights] [--check] [--allow-out-of-band] [--seed S]
        [--no-initial-student] [--device DEVICE]

Both models are built with random weights (nothing is downloaded) and run at the crop size.

- without ``--method``: prints every candidate recording point of both models side by side;
- ``--method M --out LEAF.py``: writes the leaf config(s) of method M for the pair (``a+b``:
  the methods composed in one leaf)
  (``mmseg_distill.pairing``), measures every distillation term's weighted value against the
  student's task loss on random inputs (and the trained teacher with ``--teacher-ckpt``),
  prints each term's share, and writes the weights: a term whose source weight puts it outside
  [1e-3, 100] x the task loss gets the project's calibrated weight (with the measurement in a
  comment), unless ``--keep-source-weights``;
- beside the leaf: the baseline config (``<leaf>_baseline.py``, the student alone on the same
  data, crop, schedule and seed, for ``mim train mmseg``) and the initial student both start
  from (``<leaf>_init.pth``, their ``init_cfg``, so ``--resume`` works on both;
  ``<leaf>_init_architecture.pth`` is the same weights for a ``load_from`` of the leaf);
- with ``--data``: every training mask is read (an even spread of ``--scan-masks`` in a larger
  set, and the tool says so): a value that is neither a class nor the ignore index is an error
  naming the file; images smaller than the crop are a warning;
- ``--check``: builds what was written, runs one training iteration (KA: stage 1, then stage 2
  from it) and fails on a term outside the band unless ``--allow-out-of-band``.

Every path written into the leaf resolves from the leaf's own folder; the data config's
``data_root`` is read as MMSeg reads it, from the working directory of the run (the tool prints
a note when it is relative).
"""
import argparse
import os
import os.path as osp
import sys

import torch


def parse_args(argv=None):
    from mmseg_distill.methods import METHODS, methods_of
    from mmseg_distill.utils.data_check import MAX_SCANNED_MASKS
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0].replace('\n', ' '))
    parser.add_argument('teacher', help='teacher config: a file or an mmseg::/mmseg_distill:: path')
    parser.add_argument('student', help='student config: a file or an mmseg::/mmseg_distill:: path')

    def method_spec(value):
        try:
            methods_of(value)
        except KeyError as error:
            raise argparse.ArgumentTypeError(error.args[0])
        return value

    parser.add_argument('--method', type=method_spec, metavar='|'.join(sorted(METHODS)),
                        help="write the leaf config of this method (needs --out); methods "
                        "composed with '+' share one leaf, e.g. dsd+pixel_kd")
    parser.add_argument('--num-classes', type=int,
                        help='build both models for K classes (the dataset you distil on)')
    parser.add_argument('--crop', type=int, nargs=2, default=[512, 512], metavar=('H', 'W'),
                        help='input size the models are inspected and measured at')
    parser.add_argument('--out', help='leaf config to write (with --method)')
    parser.add_argument('--data', help='a data config to inherit instead of copying the '
                        "student's data settings, e.g. "
                        'mmseg_distill::_base_/datasets/synthetic_scenes.py')
    parser.add_argument('--schedule', help='a schedule config to inherit instead of copying the '
                        "student's schedule, e.g. mmseg_distill::_base_/schedules/tiny_cpu.py")
    parser.add_argument('--teacher-ckpt', help='the trained teacher: written into the leaf and '
                        'used for the measurement (random teacher without it)')
    parser.add_argument('--batches', type=int, default=4,
                        help='random batches each term is measured on')
    parser.add_argument('--keep-source-weights', action='store_true',
                        help="keep the fragments' weights even where a term is out of band "
                        '(the leaf and the report name those terms)')
    parser.add_argument('--check', action='store_true',
                        help='build what was written and run one training iteration')
    parser.add_argument('--allow-out-of-band', action='store_true',
                        help='--check passes with dead or dominant terms')
    parser.add_argument('--scan-masks', type=int, default=MAX_SCANNED_MASKS, metavar='N',
                        help='training masks to read for the label check: every mask of a set '
                        'up to N, an even spread of N above (default %(default)s; 0: every '
                        'mask)')
    parser.add_argument('--device', help='where the measurement and --check run the models '
                        '(default: cuda where a CUDA device is visible, else cpu)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the leaf and its baseline (data order, initial student)')
    parser.add_argument('--no-initial-student', action='store_true',
                        help='write no initial student: leaf and baseline then initialise the '
                        'student each in its own run (not the same weights)')
    args = parser.parse_args(argv)
    if args.method and not args.out:
        parser.error('--method needs --out LEAF.py')
    return args


def load_cfg(path, what):
    """A config given on the command line, or an error naming the option and the path."""
    from mmseg_distill.utils import load_config
    if not path:
        return None
    if '::' not in path and not osp.isfile(path):
        raise FileNotFoundError(f'{what} {path}: no such file (working directory '
                                f'{osp.abspath(".")})')
    return load_config(path)


def check_inputs(args):
    """Every file the leaf will name exists, before anything is written."""
    if args.teacher_ckpt and not osp.isfile(args.teacher_ckpt):
        raise FileNotFoundError(f'--teacher-ckpt {args.teacher_ckpt}: no such file (working '
                                f'directory {osp.abspath(".")}); nothing was written')
    return load_cfg(args.data, '--data'), load_cfg(args.schedule, '--schedule')


def write(texts, notes_by_leaf):
    for path, text in texts:
        notes = notes_by_leaf.get(path, [])
        if notes:
            text = ''.join(f'# out of band: {note}\n' for note in notes) + text
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        with open(path, 'w') as f:
            f.write(text)
        print(f'[inspect_pair] wrote {path}')


def write_baseline(leaf, init):
    from mmseg_distill.pairing.baseline import baseline_text
    from mmseg_distill.pairing.leaves import baseline_path
    path = baseline_path(leaf)
    with open(path, 'w') as f:
        f.write(baseline_text(leaf, path, init))
    print(f'[inspect_pair] wrote {path} (the baseline: the student alone, same data, schedule, '
          f'seed and initial weights; mim train mmseg {path})')


def run(args) -> int:
    from mmseg_distill.pairing import (CropTooSmall, Pair, PairError, build_random, check_crop,
                                       format_shares, format_side_by_side, inspect_model,
                                       leaf_texts)
    from mmseg_distill.pairing.calibration import in_band_weights, measure_leaf_shares
    from mmseg_distill.pairing.check import (build_leaf_model, one_iteration, save_stage1,
                                             scan_pair_data)
    from mmseg_distill.utils.device import tool_device
    try:
        device = tool_device(args.device)
    except ValueError as error:
        print(f'[inspect_pair] {error}', file=sys.stderr)
        return 2
    torch.manual_seed(0)
    crop = tuple(args.crop)
    teacher, _ = build_random(args.teacher, args.num_classes)
    student, student_cfg = build_random(args.student, args.num_classes)
    try:
        check_crop([teacher, student], ['teacher', 'student'], crop)
    except CropTooSmall as error:
        print(f'[inspect_pair] {error}', file=sys.stderr)
        return 2
    teacher_points, student_points = inspect_model(teacher, crop), inspect_model(student, crop)
    del teacher, student
    if not args.method:
        print(format_side_by_side(teacher_points, student_points))
        return 0
    try:
        data_cfg, schedule_cfg = check_inputs(args)
    except FileNotFoundError as error:
        print(f'[inspect_pair] {error}', file=sys.stderr)
        return 2
    if data_cfg is not None:
        lines, failed = scan_pair_data(data_cfg, args.num_classes, crop, student_cfg,
                                       args.scan_masks)
        print('\n'.join(lines))
        if failed:
            print('[inspect_pair] the training data has labels the model cannot learn; '
                  'nothing was written', file=sys.stderr)
            return 2
    init = None
    if not args.no_initial_student:
        from mmseg_distill.pairing.baseline import initial_student_paths
        init = initial_student_paths(args.out)
    pair = Pair(args.teacher, args.student, args.method, args.out, crop, args.num_classes,
                args.data, args.teacher_ckpt, args.schedule, args.seed,
                init[0] if init else None)
    try:
        texts = leaf_texts(pair, teacher_points, student_points, student_cfg, data_cfg=data_cfg,
                           schedule_cfg=schedule_cfg)
    except PairError as error:
        print(f'[inspect_pair] {error}', file=sys.stderr)
        return 2
    if init:
        from mmseg_distill.pairing.baseline import write_initial_student
        _, _, pretrained = write_initial_student(args.student, args.out, args.num_classes,
                                                 args.seed)
        print(f'[inspect_pair] wrote {init[0]} and {init[1]} (the initial student of the leaf '
              'and its baseline)' + ''.join(
                  f'; {part} left out: both runs load it from {source}'
                  for part, source in pretrained.items()))
    write(texts, {})
    from mmseg_distill.pairing.leaves import relative_data_roots
    roots = relative_data_roots(data_cfg if data_cfg is not None else student_cfg)
    if roots:
        print(f"[inspect_pair] note: data_root {sorted(set(roots.values()))} is relative: MMSeg "
              f'reads it from the working directory of each run (here {osp.abspath(".")}), '
              'so run the leaf and its baseline from there, or make data_root absolute in '
              'the data config; every other path the leaf names resolves from its own folder')
    source = 'training batches of the data config' if data_cfg is not None else \
        f'random inputs at {crop[0]}x{crop[1]}'
    what = (f"{'the trained teacher' if args.teacher_ckpt else 'a random teacher'}, {source}, "
            f'{args.batches} batches')
    # without the trained teacher a relation term's scale is not the one training will see
    # (a random teacher's class maps are flat): report, but keep the sources' weights
    calibrate = bool(args.teacher_ckpt) and not args.keep_source_weights
    stage1 = None  # KA stage 2 needs an encoder: a random stage-1 state measures its scale
    weights, notes, reports = {}, {}, []
    for path, _ in texts:
        if path.endswith('_stage1.py'):
            stage1 = save_stage1(build_leaf_model(path, None, args.teacher_ckpt, device))
            continue
        terms, task, task_factor = measure_leaf_shares(path, pair, stage1, args.batches,
                                                       data_cfg, device)
        weights[path], notes[path] = in_band_weights(terms, calibrate, what)
        changed = []
        for name, (weight, _) in weights[path].items():
            changed.append(f'{name}: source weight {terms[name].weight:g} -> {weight:g} '
                           f'(share {terms[name].share:.3g} -> '
                           f'{terms[name].share * weight / terms[name].weight:.3g})')
            terms[name].share *= weight / terms[name].weight
            terms[name].weight = weight
        reports.append(format_shares(terms, task, f'{osp.basename(path)} ({what}):',
                                     task_factor) +
                       ''.join(f'\ncalibrated {line}' for line in changed) +
                       ''.join(f'\nout of band (kept): {note}' for note in notes[path]))
    if any(weights.values()) or any(notes.values()):
        texts = leaf_texts(pair, teacher_points, student_points, student_cfg, weights,
                           data_cfg=data_cfg, schedule_cfg=schedule_cfg)
        write(texts, notes)
    write_baseline(args.out, init[0] if init else None)
    print('\n\n'.join(reports))
    if not args.teacher_ckpt:
        print('\n[inspect_pair] measured with a random teacher: the shares are indicative and '
              "the leaf keeps the sources' weights. Rerun with --teacher-ckpt (and --data) "
              'for the weights training will need.')
    if not args.check:
        return 0
    if data_cfg is None:  # --data scanned its masks already; else the leaf's own data
        from mmengine.config import Config
        try:
            lines, failed = scan_pair_data(Config.fromfile(args.out), args.num_classes, crop,
                                           student_cfg, args.scan_masks)
        except Exception as error:  # best effort: the data may live on another machine
            lines, failed = [f'[check] the training data was not scanned: '
                             f'{type(error).__name__}: {error}'], False
        print('\n'.join(lines))
        if failed:
            return 1
    checked_stage1 = None
    for path, _ in texts:
        model = build_leaf_model(path, checked_stage1, args.teacher_ckpt, device)
        values = one_iteration(model, crop, args.num_classes or 19)
        print(f'[check] {osp.basename(path)}: one training step on a random {crop[0]}x{crop[1]} '
              'batch ran, every loss finite (its raw distillation losses, a random batch, not '
              'your data: ' + ', '.join(f'{k} {v:.3g}' for k, v in values.items()) + ')')
        if path.endswith('_stage1.py'):
            checked_stage1 = save_stage1(model)
            continue
        if not args.teacher_ckpt:
            print('[check] no --teacher-ckpt: term shares are not checked against the band')
            continue
        # measured as the table was (same student draw, batches and stage-1 state): the same
        # figures, now of the leaf as written
        terms, _, _ = measure_leaf_shares(path, pair, stage1, args.batches, data_cfg, device)
        shares = ', '.join(f'{n} {t.share:.3g}' for n, t in terms.items())
        bad = {n: t for n, t in terms.items() if not t.in_band()}
        if bad and not args.allow_out_of_band:
            print(f'[check] {osp.basename(path)}: terms out of band: '
                  + ', '.join(f'{n} {t.status} ({t.share:.3g} x task loss)'
                              for n, t in bad.items())
                  + '; rewrite without --keep-source-weights or pass --allow-out-of-band',
                  file=sys.stderr)
            return 1
        print(f'[check] {osp.basename(path)}: shares at full weight on {what} (the table\'s '
              f'measurement, of the leaf as written): {shares}; '
              + ('every term between the band edges' if not bad else
                 f"out of band, allowed: {', '.join(bad)}"))
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    return run(args)


if __name__ == '__main__':
    sys.exit(main())

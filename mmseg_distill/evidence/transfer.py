"""What each student took from the teacher, as a command: the distances of every student to the
teacher in every relation (``measure_students``) on one data config's validation images.
``tools/transfer.py`` is its command line; ``python -m mmseg_distill.evidence.transfer`` runs
it in a process of its own (the demo's transfer jobs).
"""
import argparse
import json
import os
import os.path as osp


def load_model(cfg_path, checkpoint, num_classes):
    import torch

    from mmseg_distill.models import ModelFromConfig
    model = ModelFromConfig(cfg_path, num_classes=num_classes, random_init=True)
    state = torch.load(checkpoint, map_location='cpu', weights_only=True)
    state = state.get('state_dict', state)
    if any(k.startswith('architecture.') for k in state):
        state = {k[len('architecture.'):]: v for k, v in state.items()
                 if k.startswith('architecture.')}
    model.load_state_dict(state, strict=True)
    return model


def load_encoder(checkpoint):
    from mmseg_distill.methods import stage1_forms
    from mmseg_distill.models.connectors import KAAutoEncoderConnector
    from mmseg_distill.utils import load_state_dict_under
    prefix = stage1_forms()[0][1].stage1.checkpoint_prefix
    state = load_state_dict_under(checkpoint, prefix)
    weight = state['encoder.0.conv.weight']
    return KAAutoEncoderConnector(in_channels=weight.shape[1], hidden_channels=weight.shape[0],
                                  code_channels=state['encoder.2.conv.weight'].shape[0],
                                  mode='encode', checkpoint=checkpoint,
                                  checkpoint_prefix=prefix).eval()


def val_batches(data_cfg, model, count, max_images=0):
    """The first ``count`` batches (0: all) of the data config's validation loader, at most
    ``max_images`` images (0: no bound; the last batch cut to it), through ``model``'s data
    preprocessor (so on its device)."""
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    with DefaultScope.overwrite_default_scope(data_cfg.get('default_scope', 'mmseg')):
        loader = Runner.build_dataloader(data_cfg.val_dataloader)
    seen = 0
    for index, batch in enumerate(loader):
        if (count and index == count) or (max_images and seen >= max_images):
            return
        data = model.data_preprocessor(batch, False)
        inputs, samples = data['inputs'], data['data_samples']
        if max_images and seen + len(samples) > max_images:
            keep = max_images - seen
            inputs, samples = inputs[:keep], samples[:keep]
        seen += len(samples)
        yield inputs, samples


def markdown(results, baseline):
    from mmseg_distill.evidence import RELATIONS
    relations = [r for r in RELATIONS if any(r in v for v in results.values())]
    lines = ['| student | ' + ' | '.join(relations) + ' |', '|' + ' --- |' * (len(relations) + 1)]
    for name, values in results.items():
        cells = []
        for relation in relations:
            value = values.get(relation)
            text = '-' if value is None else f'{value:.4g}'
            base = results.get(baseline, {}).get(relation)
            if value is not None and base and name != baseline:
                closer = value > base if relation == 'agreement' else value < base
                text += f" ({'closer' if closer else 'not closer'})"
            cells.append(text)
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + ('\n\n(closer / not closer: than the baseline '
                               f"'{baseline}'; agreement: higher is closer, else lower)")


def main(argv=None, description='What each student took from the teacher'):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('teacher_cfg', help='the teacher config (file or mmseg:: path)')
    parser.add_argument('teacher_ckpt', help='the trained teacher checkpoint')
    parser.add_argument('--student', nargs=3, action='append', required=True,
                        metavar=('NAME', 'CFG', 'CKPT'), help='a student; the first is the '
                        'baseline the others are compared with')
    parser.add_argument('--data', help='data config whose val_dataloader is measured on '
                        "(default: the first student's config)")
    parser.add_argument('--num-classes', type=int, help='class count the models were built for')
    parser.add_argument('--stage1', '--ka-stage1', dest='stage1',
                        help="a KA stage-1 checkpoint (adds KA's relations)")
    parser.add_argument('--pre-relu', nargs='*', default=[], metavar='NAME=MODULE',
                        help="module whose output is read for the pair-wise relation ('teacher'"
                        ' or a student name)')
    parser.add_argument('--batches', type=int, default=0, help='0: the whole val set')
    parser.add_argument('--max-images', type=int, default=0, metavar='N',
                        help='measure on the first N validation images at most (0: every '
                        'image --batches allows); bounds the time on a large val set')
    parser.add_argument('--device', help='where the models run (default: cuda where a CUDA '
                        'device is visible, else cpu)')
    parser.add_argument('--out', default='work_dirs/transfer')
    args = parser.parse_args(argv)

    import torch

    from mmseg_distill.evidence import left_out, measure_students
    from mmseg_distill.utils import load_config
    from mmseg_distill.utils.device import tool_device
    try:
        device = tool_device(args.device)
    except ValueError as error:
        parser.error(str(error))
    torch.set_grad_enabled(False)
    teacher = load_model(args.teacher_cfg, args.teacher_ckpt, args.num_classes).to(device)
    students = {name: load_model(cfg, ckpt, args.num_classes).to(device)
                for name, cfg, ckpt in args.student}
    data_cfg = load_config(args.data or args.student[0][1])
    encoder = load_encoder(args.stage1).to(device) if args.stage1 else None
    pre_relu = dict(item.split('=', 1) for item in args.pre_relu)
    batches = val_batches(data_cfg, teacher, args.batches, args.max_images)
    results = measure_students(teacher, students, batches, encoder, pre_relu)
    os.makedirs(args.out, exist_ok=True)
    with open(osp.join(args.out, 'transfer.json'), 'w') as f:
        json.dump(results, f, indent=1)
    table = markdown(results, args.student[0][0])
    reasons = left_out(teacher, students, encoder, pre_relu)
    if reasons:
        table += '\n\nNot measured:\n' + '\n'.join(
            f'- {relation}: {why}' for relation, why in reasons.items())
    with open(osp.join(args.out, 'transfer.md'), 'w') as f:
        f.write(table + '\n')
    print(table)


if __name__ == '__main__':
    main()

"""Draw what the methods compare, teacher beside student, for one image.

    python tools/visualize_similarity.py TEACHER_CFG TEACHER_CKPT STUDENT_CFG STUDENT_CKPT IMAGE
        [--pixel Y X] [--out DIR]

Writes to DIR: psd.png (attention maps of the backbone stages and their residuals, DSD-PSD),
class_similarity.png (CSD's and ICSD's K x K class-similarity matrices) and
pixel_similarity.png (cosine similarity of the chosen pixel to every position of the
decode-head feature, PFS / KA affinity). Checkpoints may be 'none' (random weights).
Values come from the loss modules' own code paths, so the pictures show what is distilled.
"""
import argparse
import os
import os.path as osp

import torch


def capture(model, image):
    """Backbone stage outputs, decode-head feature and logits of one test-pipeline forward."""
    from mmseg.apis import inference_model
    store = {}
    hooks = [model.backbone.register_forward_hook(lambda m, i, o: store.__setitem__('stages', o)),
             model.decode_head.conv_seg.register_forward_hook(
                 lambda m, i, o: store.update(feat=i[0], logits=o))]
    with torch.no_grad():
        inference_model(model, image)
    for hook in hooks:
        hook.remove()
    return store


def class_names(model, cfg_path, count):
    """The classes from the checkpoint's meta, else from the config's training dataset (a model
    with random weights has no meta), else their indices."""
    classes = (getattr(model, 'dataset_meta', None) or {}).get('classes')
    if not classes:
        from mmseg.registry import DATASETS

        from mmseg_distill.utils import load_config
        dataset = load_config(cfg_path).get('train_dataloader', {}).get('dataset', {})
        dataset_cls = DATASETS.get(dataset.get('type', '')) if dataset.get('type') else None
        classes = getattr(dataset_cls, 'METAINFO', {}).get('classes')
    if not classes or len(classes) != count:
        return [str(i) for i in range(count)]
    return list(classes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0].replace('\n', ' '))
    for name, text in (('teacher_cfg', 'the teacher config'),
                       ('teacher_ckpt', "the teacher checkpoint ('none': random weights)"),
                       ('student_cfg', 'the student config'),
                       ('student_ckpt', "the student checkpoint ('none': random weights)"),
                       ('image', 'the image to show')):
        parser.add_argument(name, help=text)
    parser.add_argument('--pixel', type=float, nargs=2, default=(0.5, 0.5),
                        help='pixel as fractions of height and width (default: centre)')
    parser.add_argument('--out', default='work_dirs/visualize')
    args = parser.parse_args()

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from mmseg.apis import init_model

    import mmseg_distill  # noqa: F401
    from mmseg_distill.models.losses import functional
    from mmseg_distill.models.utils import l2_normalize, positions_as_rows

    os.makedirs(args.out, exist_ok=True)
    models = {}
    for side in ('teacher', 'student'):
        ckpt = getattr(args, f'{side}_ckpt')
        models[side] = init_model(getattr(args, f'{side}_cfg'),
                                  None if ckpt.lower() == 'none' else ckpt, device='cpu')
    records = {side: capture(model, args.image) for side, model in models.items()}

    size = functional.attention_target_size(records['teacher']['stages'])
    fig, axes = plt.subplots(4, len(records['teacher']['stages']), figsize=(12, 9),
                             squeeze=False)
    maps = {side: ([functional.attention_map(f, size)[0].view(*size)
                    for f in records[side]['stages']],
                   [r[0].view(*size)
                    for r in functional.attention_residuals(records[side]['stages'], size)])
            for side in ('teacher', 'student')}
    for row, side in enumerate(('teacher', 'student')):
        attention, residuals = maps[side]
        for col, value in enumerate(attention):  # one colour scale per column, both models
            both = torch.stack([maps['teacher'][0][col], maps['student'][0][col]])
            axes[2 * row][col].imshow(value.numpy(), vmin=float(both.min()),
                                      vmax=float(both.max()))
            axes[2 * row][col].set_title(f'{side} attention, stage {col}', fontsize=8)
        for col, value in enumerate(residuals):
            bound = float(torch.stack([maps['teacher'][1][col],
                                       maps['student'][1][col]]).abs().max())
            axes[2 * row + 1][col].imshow(value.numpy(), cmap='coolwarm', vmin=-bound,
                                          vmax=bound)
            axes[2 * row + 1][col].set_title(f'{side} residual {col}->{col + 1}', fontsize=8)
    for ax in axes.flat:
        ax.axis('off')
    fig.suptitle('DSD-PSD: attention maps and residuals (what PSD matches)')
    fig.tight_layout()
    fig.savefig(osp.join(args.out, 'psd.png'), dpi=90)

    matrices = {}
    for side in ('teacher', 'student'):
        logits = records[side]['logits']
        matrices[side] = (
            ('CSD  Q Q^T', functional.class_similarity_matrix(
                torch.nn.functional.avg_pool2d(logits, 2, ceil_mode=True), 4.0, True)[0]),
            ('ICSD  N(KL(P_i||P_j))', functional.inter_class_similarity_matrix(logits)[0]))
    classes = class_names(models['teacher'], args.teacher_cfg, len(matrices['teacher'][0][1]))
    fig, axes = plt.subplots(2, 2, figsize=(9, 8))
    for row in range(2):
        # teacher and student on one colour scale, so their difference is what one sees
        values = torch.stack([matrices[side][row][1] for side in ('teacher', 'student')])
        low, high = float(values.min()), float(values.max())
        for col, side in enumerate(('teacher', 'student')):
            name, matrix = matrices[side][row]
            image = axes[row][col].imshow(matrix.numpy(), cmap='viridis', vmin=low, vmax=high)
            axes[row][col].set_title(f'{side}: {name}', fontsize=9)
            axes[row][col].set_xticks(range(len(classes)))
            axes[row][col].set_xticklabels(classes, rotation=60, fontsize=7)
            axes[row][col].set_yticks(range(len(classes)))
            axes[row][col].set_yticklabels(classes, fontsize=7)
            fig.colorbar(image, ax=axes[row][col], fraction=0.046)
    fig.suptitle('Class-similarity matrices (K x K)')
    fig.tight_layout()
    fig.savefig(osp.join(args.out, 'class_similarity.png'), dpi=90)

    fig, axes = plt.subplots(1, 2, figsize=(8, 4))
    for col, side in enumerate(('teacher', 'student')):
        feat = records[side]['feat']
        h, w = feat.shape[-2:]
        y, x = min(int(args.pixel[0] * h), h - 1), min(int(args.pixel[1] * w), w - 1)
        rows = l2_normalize(positions_as_rows(feat), dim=-1)[0]
        similarity = (rows @ rows[y * w + x]).view(h, w)
        axes[col].imshow(similarity.numpy(), cmap='magma', vmin=-1, vmax=1)
        axes[col].plot([x], [y], 'c+', markersize=12)
        axes[col].set_title(f'{side}: cos(pixel, all) of head feature', fontsize=9)
        axes[col].axis('off')
    fig.suptitle('PFS / KA affinity: one row of the P x P similarity matrix')
    fig.tight_layout()
    fig.savefig(osp.join(args.out, 'pixel_similarity.png'), dpi=90)
    print(f'wrote psd.png, class_similarity.png, pixel_similarity.png to {args.out}')


if __name__ == '__main__':
    main()

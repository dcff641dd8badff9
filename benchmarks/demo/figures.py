"""The demo's figures: the paired differences and the mIoU per seed (``plot``), and the
qualitative grid of predictions (``qualitative``)."""
import glob
import os.path as osp

from benchmarks import tiny


def plot(s, out):
    """``paired.png`` and ``miou.png`` of a summary (``results.json``) in ``out``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = [r for r in s['rows'] if r != 'baseline']
    fig, ax = plt.subplots(figsize=(10, 4.2))
    for index, row in enumerate(rows):
        d = s['rows'][row]['paired']
        ax.scatter([index] * len(d['diffs']), d['diffs'], color='tab:blue', s=14, zorder=3)
        if d['low'] is not None:
            color = {'gain': 'tab:green', 'loss': 'tab:red'}.get(d['verdict'], 'grey')
            error = [[d['mean'] - d['low']], [d['high'] - d['mean']]]
            ax.errorbar(index + 0.18, d['mean'], yerr=error, fmt='D', color=color,
                        capsize=4, zorder=4)
    ax.axhline(0, color='black', linewidth=0.8)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(rows, rotation=25, ha='right', fontsize=8)
    ax.set_ylabel('test mIoU - baseline (same seed)')
    ax.set_title('Paired differences per seed (dots) and their mean with 95% CI '
                 '(green: gain, red: loss, grey: no clear difference)', fontsize=9)
    fig.tight_layout()
    fig.savefig(osp.join(out, 'paired.png'), dpi=110)
    fig, ax = plt.subplots(figsize=(10, 4))
    labels = list(s['rows'])
    means = [s['rows'][r]['mean'] for r in labels]
    ax.bar(range(len(labels)), means, color=['grey'] + ['tab:blue'] * (len(labels) - 1))
    for index, row in enumerate(labels):
        ax.scatter([index] * len(s['rows'][row]['miou']), s['rows'][row]['miou'],
                   color='black', s=8, zorder=3)
    ax.axhline(s['teacher']['miou'], color='tab:red', linestyle='--', label='teacher')
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=25, ha='right', fontsize=8)
    ax.set_ylabel('test mIoU (%)')
    ax.set_ylim(min(min(r['miou']) for r in s['rows'].values()) - 5,
                s['teacher']['miou'] + 3)
    ax.legend(loc='lower right', fontsize=8)
    ax.set_title('Test mIoU per seed (dots) and mean (bars)', fontsize=9)
    fig.tight_layout()
    fig.savefig(osp.join(out, 'miou.png'), dpi=110)


def qualitative(pipeline, count=4):
    """``qualitative.png``: the first test images, ground truth and every model's prediction
    (the teacher, the baseline, each exported student as plain MMSeg loads it) of seed
    ``pipeline.seeds[0]``."""
    import cv2
    import numpy as np
    from mmseg.apis import inference_model, init_model

    from mmseg_distill.datasets.synthetic_scenes import CLASSES, PALETTE
    from mmseg_distill.engine.export import export_student
    palette = np.array(PALETTE, np.uint8)
    seed, iters = pipeline.seeds[0], pipeline.preset['student_iters']
    images = sorted(glob.glob(osp.join(pipeline.data_root, 'img_dir', 'test', '*.png')))[:count]
    columns = [('teacher', osp.join(pipeline.out, 'teacher',
                                    f"iter_{pipeline.preset['teacher_iters']}.pth"),
                tiny.TEACHER_CFG),
               ('baseline', osp.join(pipeline.runs[seed, 'baseline'], f'iter_{iters}.pth'),
                tiny.STUDENT_CFG)]
    for _, form in pipeline.forms:  # the exported students, as plain MMSeg loads them
        path, config = export_student(osp.join(pipeline.runs[seed, form.label],
                                               f'iter_{iters}.pth'),
                                      osp.join(pipeline.out, 'students'), 'demo_' + form.prefix)
        columns.append((form.label, path, config or tiny.STUDENT_CFG))
    models = [(name, init_model(cfg, ckpt, device='cpu')) for name, ckpt, cfg in columns]
    rows = []
    for path in images:
        image = cv2.imread(path)
        label = cv2.imread(path.replace('img_dir', 'ann_dir'), cv2.IMREAD_GRAYSCALE)
        tiles = [image[..., ::-1], palette[label]]
        for _, model in models:
            pred = inference_model(model, path).pred_sem_seg.data[0].numpy()
            tiles.append(palette[pred])
        rows.append(np.concatenate([np.pad(t, ((2, 2), (2, 2), (0, 0)),
                                           constant_values=255) for t in tiles], 1))
    grid = cv2.resize(np.concatenate(rows, 0), None, fx=2, fy=2,
                      interpolation=cv2.INTER_NEAREST)
    titles = ['input', 'ground truth'] + [name for name, _ in models]
    step = grid.shape[1] // len(titles)
    header = np.full((34, grid.shape[1], 3), 255, np.uint8)
    for i, title in enumerate(titles):
        for line, text in enumerate((title[:17], title[17:34])):
            cv2.putText(header, text, (i * step + 3, 13 + 12 * line),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.33, (0, 0, 0), 1)
    legend = np.full((26, grid.shape[1], 3), 255, np.uint8)
    for i, (name, color) in enumerate(zip(CLASSES, PALETTE)):
        x = 6 + i * 90
        cv2.rectangle(legend, (x, 6), (x + 14, 20), tuple(int(c) for c in color), -1)
        cv2.putText(legend, name, (x + 18, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    cv2.imwrite(osp.join(pipeline.out, 'qualitative.png'),
                np.concatenate([header, grid, legend], 0)[..., ::-1])

"""A small procedurally generated street-scene dataset in MMSeg's folder layout.

No real segmentation data may be downloaded where this project is tested, so it makes its own.
Scenes are built so that a model needs context and class relations, not only colour:

- sky above a jittered horizon, ground below it; a sun only in the sky;
- buildings stand on the horizon, trees stand on the ground, vehicles sit on the ground and
  wheels only ever occur under vehicles (class co-occurrence);
- later objects occlude earlier ones; colours of several classes overlap (dark wheels vs dark
  trunks vs dark windows; grey buildings vs grey vehicles), every region carries its own
  texture, and the whole image gets sensor noise and a global brightness change.

Everything is a pure function of (seed, split, index): the same arguments give the same bytes.
"""
import json
import os
import os.path as osp
import shutil
import tempfile

import numpy as np

CLASSES = ('sky', 'ground', 'building', 'tree', 'vehicle', 'wheel', 'sun')
PALETTE = [[70, 130, 180], [128, 64, 128], [70, 70, 70], [107, 142, 35], [0, 0, 142],
           [255, 255, 0], [220, 20, 60]]
SKY, GROUND, BUILDING, TREE, VEHICLE, WHEEL, SUN = range(len(CLASSES))
FORMAT_VERSION = 3


def _texture(rng, shape, scale):
    """Smooth random texture in [-1, 1]: upsampled low-resolution noise."""
    h, w = shape
    low = rng.standard_normal((max(h // scale, 2), max(w // scale, 2)))
    rows = np.linspace(0, low.shape[0] - 1, h).round().astype(int)
    cols = np.linspace(0, low.shape[1] - 1, w).round().astype(int)
    return np.tanh(low[rows][:, cols])


def _paint(image, label, mask, cls, color, rng, texture_scale=4, texture_amp=25):
    tex = _texture(rng, mask.shape, texture_scale)[..., None] * texture_amp
    image[mask] = np.clip(np.asarray(color, float)[None] + tex[mask], 0, 255)
    label[mask] = cls


def render_scene(size: int, seed: int, index: int, split: str):
    """Return (image HxWx3 uint8, label HxW uint8) of one scene."""
    split_code = {'train': 1, 'val': 2, 'test': 3}[split]
    rng = np.random.default_rng([seed, split_code, index])
    h = w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    image = np.zeros((h, w, 3), float)
    label = np.zeros((h, w), np.uint8)

    horizon = h * rng.uniform(0.35, 0.6) + np.sin(xx[0] / w * np.pi * rng.uniform(1, 3)) * h * 0.04
    sky = yy < horizon[None, :]
    sky_color = np.array([120, 160, 210]) * rng.uniform(0.7, 1.1)
    _paint(image, label, sky, SKY, sky_color, rng, texture_scale=16, texture_amp=15)
    ground_color = rng.choice([[110, 90, 100], [90, 100, 80], [120, 110, 90]])
    _paint(image, label, ~sky, GROUND, ground_color, rng, texture_scale=2, texture_amp=30)

    if rng.random() < 0.7:
        cy, cx = h * rng.uniform(0.08, 0.25), w * rng.uniform(0.1, 0.9)
        r = h * rng.uniform(.09, .14)
        _paint(image, label, ((yy - cy)**2 + (xx - cx)**2 < r * r) & sky, SUN,
               [230, 220, 150], rng, texture_amp=10)

    for _ in range(rng.integers(0, 4)):  # buildings on the horizon, windows as dark texture
        bw, bh = w * rng.uniform(0.12, 0.3), h * rng.uniform(0.15, 0.4)
        x0 = rng.uniform(-0.1, 0.9) * w
        base = horizon[int(np.clip(x0 + bw / 2, 0, w - 1))] + h * 0.03
        mask = (xx >= x0) & (xx < x0 + bw) & (yy >= base - bh) & (yy < base)
        grey = rng.uniform(90, 150)
        _paint(image, label, mask, BUILDING, [grey, grey, grey + 5], rng, texture_amp=15)
        windows = mask & ((xx - x0) % 6 < 2) & ((yy - base) % 7 < 3)
        image[windows] = rng.uniform(20, 50)

    objects = []
    for _ in range(rng.integers(1, 4)):
        objects.append(('tree', rng.uniform(horizon.min() + h * 0.1, h * 1.05)))
    for _ in range(rng.integers(1, 3)):
        objects.append(('vehicle', rng.uniform(horizon.max() + h * 0.08, h * 0.98)))
    objects.sort(key=lambda item: item[1])  # farther (higher) objects first: near ones occlude
    for kind, foot in objects:
        depth = (foot - horizon.mean()) / h + 0.3  # nearer objects are larger
        cx = rng.uniform(0, w)
        if kind == 'tree':
            trunk_w, trunk_h = w * 0.03 * depth * 2, h * 0.15 * depth * 2
            crown = h * 0.1 * depth * 2
            trunk = (abs(xx - cx) < trunk_w / 2) & (yy < foot) & (yy > foot - trunk_h)
            _paint(image, label, trunk, TREE, [50, 40, 35], rng, texture_amp=10)
            cy = foot - trunk_h - crown * 0.6
            crown_mask = (xx - cx)**2 + ((yy - cy) * 1.2)**2 < crown**2
            _paint(image, label, crown_mask, TREE, [60, 120 * rng.uniform(.8, 1.2), 50], rng,
                   texture_scale=2, texture_amp=35)
        else:
            vw, vh = w * 0.33 * depth * 1.5, h * 0.13 * depth * 1.5
            body = (abs(xx - cx) < vw / 2) & (yy < foot - vh * 0.3) & (yy > foot - vh * 1.3)
            grey = rng.uniform(90, 160)  # overlaps building greys on purpose
            _paint(image, label, body, VEHICLE, [grey, grey, grey * rng.uniform(.9, 1.5)], rng,
                   texture_amp=10)
            for offset in (-0.3, 0.3):
                r = vh * 0.5
                wheel = (xx - (cx + offset * vw))**2 + (yy - (foot - r))**2 < r * r
                _paint(image, label, wheel, WHEEL, [40, 38, 40], rng, texture_amp=8)

    image = image * rng.uniform(0.75, 1.2) + rng.normal(0, 8, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), label


def generate(root: str, num_train: int = 200, num_val: int = 50, size: int = 64,
             seed: int = 0, num_test: int = 0) -> str:
    """Write the dataset under ``root`` (img_dir/{train,val,test}, ann_dir/...); cached.

    ``val`` is the split to tune on, ``test`` (written when ``num_test`` > 0) the one to report:
    the demo chose its regime on ``val`` and reports ``test``.

    ``root/meta.json`` records the arguments: an existing dataset with the same arguments is
    reused, any other is rebuilt. Written to a temporary folder and renamed into place, so
    parallel workers (DDP ranks) never see a half-written dataset.
    """
    import cv2

    meta = dict(version=FORMAT_VERSION, num_train=num_train, num_val=num_val, size=size,
                seed=seed, classes=list(CLASSES))
    if num_test:
        meta['num_test'] = num_test
    meta_path = osp.join(root, 'meta.json')
    if osp.exists(meta_path):
        with open(meta_path) as f:
            if json.load(f) == meta:
                return root
    parent = osp.dirname(osp.abspath(root))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='.synthetic-', dir=parent)
    for split, count in (('train', num_train), ('val', num_val), ('test', num_test)):
        if not count:
            continue
        os.makedirs(osp.join(tmp, 'img_dir', split))
        os.makedirs(osp.join(tmp, 'ann_dir', split))
        for index in range(count):
            image, label = render_scene(size, seed, index, split)
            name = f'{split}_{index:05d}.png'
            cv2.imwrite(osp.join(tmp, 'img_dir', split, name), image[..., ::-1])
            cv2.imwrite(osp.join(tmp, 'ann_dir', split, name), label)
    with open(osp.join(tmp, 'meta.json'), 'w') as f:
        json.dump(meta, f)
    if osp.exists(root):
        shutil.rmtree(root, ignore_errors=True)
    try:
        os.rename(tmp, root)
    except OSError:  # another process won the race with the same content
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def main(argv=None) -> None:
    """``python -m mmseg_distill.datasets.synthetic_scenes ROOT``: write the data set there, in
    MMSeg's folder layout (a stand-in for a user's own data in examples and tests)."""
    import argparse
    parser = argparse.ArgumentParser(description=main.__doc__.split('\n\n')[0])
    parser.add_argument('root', help='the folder to write (img_dir/, ann_dir/)')
    parser.add_argument('--num-train', type=int, default=200)
    parser.add_argument('--num-val', type=int, default=50)
    parser.add_argument('--size', type=int, default=64, help='image side, pixels')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    generate(args.root, args.num_train, args.num_val, args.size, args.seed)
    print(f'wrote {args.num_train} training and {args.num_val} validation scenes of '
          f'{args.size}x{args.size} to {args.root} (classes: {", ".join(CLASSES)})')


if __name__ == '__main__':
    main()

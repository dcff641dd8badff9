"""A user's own small data set in MMSeg's folder layout, made by the tests (nothing here is the
project's synthetic scenes): JPEG images of a size no shipped config uses, PNG masks with
their own class count and 255 on object borders, and the data config a user would write."""
import os
import os.path as osp
from typing import Iterable, Optional, Tuple

import numpy as np

MY_CLASSES = ('road', 'wall', 'pole', 'sign', 'person')


def write_mmseg_folder(root, train: int = 8, val: int = 4, size: Tuple[int, int] = (80, 112),
                       classes: int = len(MY_CLASSES), bad: Iterable[int] = (),
                       bad_value: int = 9, seed: int = 0) -> str:
    """``root/{img_dir,ann_dir}/{train,val}``: images ``<i>.jpg`` and masks ``<i>.png`` of random
    rectangles of ``classes`` classes, each outlined with 255 (ignored), on a background of class
    0. Training masks at the indices ``bad`` hold one pixel of ``bad_value``. Returns root."""
    import cv2
    rng = np.random.default_rng(seed)
    height, width = size
    for split, count in (('train', train), ('val', val)):
        for sub in ('img_dir', 'ann_dir'):
            os.makedirs(osp.join(root, sub, split), exist_ok=True)
        for index in range(count):
            mask = np.zeros(size, np.uint8)
            image = rng.integers(0, 40, (height, width, 3), dtype=np.uint8)
            for _ in range(4):
                label = int(rng.integers(1, classes))
                top, left = int(rng.integers(0, height - 16)), int(rng.integers(0, width - 16))
                bottom, right = top + int(rng.integers(8, 16)), left + int(rng.integers(8, 16))
                mask[top:bottom, left:right] = label
                image[top:bottom, left:right] = (60 * label) % 256
                cv2.rectangle(mask, (left, top), (right - 1, bottom - 1), 255, 1)
            if split == 'train' and index in set(bad):
                mask[height // 2, width // 2] = bad_value
            cv2.imwrite(osp.join(root, 'img_dir', split, f'{index}.jpg'), image)
            cv2.imwrite(osp.join(root, 'ann_dir', split, f'{index}.png'), mask)
    return str(root)


def data_config(data_root: str, crop: Tuple[int, int] = (64, 64),
                classes: Optional[Tuple[str, ...]] = MY_CLASSES, batch: int = 2) -> str:
    """The data config a user writes for that folder (MMSeg's BaseSegDataset, as in the README
    walkthrough's), with ``data_root`` as given (relative to where runs start, or absolute)."""
    return f'''data_root = {data_root!r}
crop_size = {tuple(crop)!r}
metainfo = dict(classes={tuple(classes)!r})
train_pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                  dict(type='RandomCrop', crop_size=crop_size),
                  dict(type='RandomFlip', prob=0.5), dict(type='PackSegInputs')]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                 dict(type='PackSegInputs')]
train_dataloader = dict(
    batch_size={batch}, num_workers=0, sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='BaseSegDataset', data_root=data_root, metainfo=metainfo,
                 img_suffix='.jpg', seg_map_suffix='.png', pipeline=train_pipeline,
                 data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train')))
val_dataloader = dict(
    batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='BaseSegDataset', data_root=data_root, metainfo=metainfo,
                 img_suffix='.jpg', seg_map_suffix='.png', pipeline=test_pipeline,
                 data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val')))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
'''

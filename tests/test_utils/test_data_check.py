"""``mmseg_distill.utils.data_check``: a mask value the model cannot learn is an error naming
the file, the value, the classes and the ignore index; images smaller than the crop a warning."""
import os.path as osp
import warnings

import numpy as np
import pytest
import torch
from tiny_pair import build_algorithm, fake_batch, load_model_cfg

import mmseg_distill  # noqa: F401
from mmseg_distill.utils.data_check import (LabelError, check_batch_labels, crop_of,
                                            scan_training_data)

FAST_SCNN = 'mmseg::fastscnn/fast_scnn_8xb4-160k_cityscapes-512x1024.py'


# ------------------------------------------------------------------------ labels
def _sample(mask, path='data/x/ann_dir/train/a.png'):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    sample = SegDataSample(metainfo=dict(seg_map_path=path))
    sample.gt_sem_seg = PixelData(data=mask[None])
    return sample


def test_an_out_of_range_label_names_the_file_the_value_the_classes_and_the_ignore_index():
    good = torch.randint(0, 7, (8, 8))
    good[0, 0] = 255
    check_batch_labels([_sample(good)], 7, 255)  # class indices and the ignore index pass
    bad = good.clone()
    bad[3, 3] = 7
    with pytest.raises(LabelError) as error:
        check_batch_labels([_sample(good), _sample(bad, 'data/x/ann_dir/train/b.png')], 7, 255)
    text = str(error.value)
    assert 'data/x/ann_dir/train/b.png' in text and 'label value(s) 7' in text
    assert 'num_classes=7' in text and 'ignores 255' in text
    negative = good.clone()
    negative[1, 1] = -1
    with pytest.raises(LabelError, match='label value'):
        check_batch_labels([_sample(negative)], 7, 255)


def test_training_on_an_out_of_range_label_is_that_error_not_an_index_error():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        algorithm = build_algorithm(load_model_cfg('pixel_kd', 'pixel-kd'))
    inputs, samples = fake_batch()
    algorithm.loss(inputs, samples)
    samples[1].gt_sem_seg.data[0, 5, 5] = 7  # the tiny pair predicts 7 classes
    samples[1].set_metainfo(dict(seg_map_path='ann_dir/train/bad.png'))
    with pytest.raises(LabelError, match=r'ann_dir/train/bad\.png has label value\(s\) 7'):
        algorithm.loss(inputs, samples)


def _mmseg_folder(root, size=32, bad_value=None, count=4):
    import cv2
    for split in ('train', 'val'):
        for sub in ('img_dir', 'ann_dir'):
            (root / sub / split).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            image = np.full((size, size, 3), 40 * index, np.uint8)
            mask = np.zeros((size, size), np.uint8)
            mask[: size // 2] = 1
            mask[0, 0] = 255
            if bad_value is not None and index == 2:
                mask[4, 4] = bad_value
            cv2.imwrite(str(root / 'img_dir' / split / f'{index}.png'), image)
            cv2.imwrite(str(root / 'ann_dir' / split / f'{index}.png'), mask)


def _data_cfg(root, crop):
    from mmengine.config import Config
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                dict(type='PackSegInputs')]
    dataset = dict(type='BaseSegDataset', data_root=str(root), img_suffix='.png',
                   seg_map_suffix='.png', pipeline=pipeline,
                   metainfo=dict(classes=('a', 'b', 'c', 'd')),
                   data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'))
    return Config(dict(crop_size=crop, train_pipeline=pipeline,
                       train_dataloader=dict(batch_size=2, dataset=dataset)))


def test_the_data_scan_names_a_bad_mask_and_warns_about_images_smaller_than_the_crop(tmp_path):
    _mmseg_folder(tmp_path / 'ok')
    report = scan_training_data(_data_cfg(tmp_path / 'ok', (32, 32)), 4, 255, (32, 32))
    assert report.scanned == 4 and not report.errors and not report.warnings
    report = scan_training_data(_data_cfg(tmp_path / 'ok', (48, 48)), 4, 255, (48, 48))
    assert not report.errors and len(report.warnings) == 1
    assert 'smaller than the crop 48x48' in report.warnings[0] and '32x32' in report.warnings[0]
    assert 'pads them' in report.warnings[0]
    _mmseg_folder(tmp_path / 'bad', bad_value=7)
    report = scan_training_data(_data_cfg(tmp_path / 'bad', (32, 32)), 4, 255, (32, 32))
    assert len(report.errors) == 1
    assert osp.join('ann_dir', 'train', '2.png') in report.errors[0]
    assert 'label value(s) 7' in report.errors[0] and 'num_classes=4' in report.errors[0]
    assert crop_of(_data_cfg(tmp_path / 'ok', (32, 32))) == (32, 32)


# ------------------------------------------------------------------------ processes

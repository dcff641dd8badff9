"""Checks of a user's data before and while training: label values the model cannot predict,
and images smaller than the crop.

A mask value that is neither a class index (< ``num_classes``) nor the ignore index makes the
cross-entropy fail at the first iteration with a bare ``IndexError: Target 7 is out of bounds``
(on CUDA a device-side assert); both checks here name the file, the value, the class count and
the ignore index instead. An image smaller than the crop is padded by the data preprocessor
(image with 0, mask with 255, which the loss ignores): legal, but part of every batch is then
padding, which is worth a warning rather than silence.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import torch


class LabelError(ValueError):
    """A mask holds a value that is neither a class index nor the ignore index."""


def label_message(where: str, values: Sequence[int], num_classes: int, ignore_index: int) -> str:
    shown = ', '.join(str(v) for v in list(values)[:8])
    return (f'{where} has label value(s) {shown}, but the model predicts num_classes='
            f'{num_classes} classes (values 0..{num_classes - 1}) and ignores {ignore_index}. '
            'Either the masks hold other values than the class indices (map them to '
            f'0..{num_classes - 1}, or to {ignore_index} where a pixel has no class; '
            "reduce_zero_label=True in the dataset if 0 means 'unlabelled'), or the class count "
            'is wrong (--num-classes on the pair tool, num_classes of the heads in a config).')


def out_of_range(labels: torch.Tensor, num_classes: int, ignore_index: int) -> torch.Tensor:
    """The values of ``labels`` that are neither a class index nor ``ignore_index``."""
    bad = (labels >= num_classes) | (labels < 0)
    bad &= labels != ignore_index
    return labels[bad].unique()


def check_batch_labels(data_samples, num_classes: int, ignore_index: int) -> None:
    """Raise ``LabelError`` naming the file when a training batch holds an out-of-range label
    (one device synchronisation per batch, only to decide whether to look closer)."""
    masks = [s.gt_sem_seg.data for s in data_samples if 'gt_sem_seg' in s]
    if not masks:
        return
    flags = torch.stack([((m >= num_classes) | (m < 0)).logical_and(m != ignore_index).any()
                         for m in masks])
    if not bool(flags.any()):
        return
    for sample, mask, flag in zip(data_samples, masks, flags.tolist()):
        if flag:
            path = sample.metainfo.get('seg_map_path', '<mask without a file name>')
            values = out_of_range(mask, num_classes, ignore_index).tolist()
            raise LabelError(label_message(f'the mask {path}', values, num_classes,
                                           ignore_index))


@dataclass
class DataReport:
    """What a scan of a training set found: label errors (fatal) and warnings."""
    scanned: int = 0
    errors: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)


def scan_training_data(data_cfg, num_classes: int, ignore_index: int = 255,
                       crop: Optional[Tuple[int, int]] = None, samples: int = 32
                       ) -> DataReport:
    """Run ``samples`` images of the training set (evenly spread over it) through its pipeline
    and report every mask with an out-of-range value (file, values) and, with ``crop``,
    images smaller than the crop after the pipeline."""
    from mmengine.registry import DefaultScope
    from mmseg.registry import DATASETS
    with DefaultScope.overwrite_default_scope(data_cfg.get('default_scope', 'mmseg')):
        dataset = DATASETS.build(data_cfg.train_dataloader.dataset)
    report = DataReport()
    count = len(dataset)
    if count == 0:
        report.errors.append('the training set is empty: check data_root and data_prefix of '
                             'train_dataloader.dataset')
        return report
    scanned = min(samples, count)
    indices = sorted({round(i * (count - 1) / max(scanned - 1, 1)) for i in range(scanned)})
    smaller = []
    for index in indices:
        item = dataset[index]
        sample = item['data_samples']
        values = out_of_range(sample.gt_sem_seg.data, num_classes, ignore_index).tolist()
        if values:
            path = sample.metainfo.get('seg_map_path', f'sample {index}')
            report.errors.append(label_message(f'the mask {path}', values, num_classes,
                                               ignore_index))
        size = tuple(item['inputs'].shape[-2:])
        if crop and (size[0] < crop[0] or size[1] < crop[1]):
            smaller.append((sample.metainfo.get('img_path', f'sample {index}'), size))
    report.scanned = len(indices)
    if smaller:
        path, size = smaller[0]
        report.warnings.append(
            f'{len(smaller)} of {len(indices)} scanned training images are smaller than the '
            f'crop {crop[0]}x{crop[1]} after the pipeline (e.g. {path}: {size[0]}x{size[1]}). '
            'The data preprocessor pads them to the crop (image 0, mask 255, ignored by the '
            'loss), so part of every batch is padding; a crop no larger than the images (or a '
            'Resize in the pipeline) avoids it.')
    return report


def crop_of(data_cfg) -> Optional[Tuple[int, int]]:
    """The crop a data config trains at: its ``crop_size``, else its ``RandomCrop``'s."""
    if data_cfg.get('crop_size'):
        return tuple(data_cfg.crop_size)
    for step in data_cfg.get('train_pipeline', []) or []:
        if str(step.get('type', '')).endswith('RandomCrop'):
            return tuple(step['crop_size'])
    return None

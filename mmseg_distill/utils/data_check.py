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
from typing import Callable, List, Optional, Sequence, Tuple

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


def label_spec(segmentor) -> Optional[Tuple[int, int]]:
    """(num_classes, ignore_index) of a segmentor's (last) decode head, or None; for a
    distillation algorithm, its student's."""
    from torch import nn
    segmentor = getattr(segmentor, 'student', segmentor)
    head = getattr(segmentor, 'decode_head', None)
    if isinstance(head, nn.ModuleList):
        head = head[-1]
    classes = getattr(head, 'num_classes', None)
    return None if classes is None else (classes, getattr(head, 'ignore_index', 255))


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


# masks read one by one (no image, no augmentation) when the pair tool scans a training set: every
# mask of a set up to this size, an even spread of this many above it. Measured 2026-12-07 on
# this project's 2-core CPU machine: 12 ms per 1024x2048 PNG mask (MMSeg's LoadAnnotations),
# so Cityscapes' 2,975 training masks take about 40 s and this limit about 4 minutes
MAX_SCANNED_MASKS = 20000


@dataclass
class DataReport:
    """What a scan of a training set found: label errors (fatal) and warnings. ``scanned`` of
    ``total`` masks were read (all of them unless the set is larger than the scan's limit)."""
    scanned: int = 0
    total: int = 0
    errors: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)

    @property
    def sampled(self) -> bool:
        return self.scanned < self.total

    def summary(self) -> str:
        if not self.sampled:
            return f'scanned all {self.total} training masks'
        return (f'scanned {self.scanned} of {self.total} training masks (evenly spread; the '
                'others were not read: raise --scan-masks to read more)')


def spread(count: int, wanted: int) -> List[int]:
    """``wanted`` indices evenly spread over ``range(count)`` (all of them if fewer)."""
    if wanted <= 0 or wanted >= count:
        return list(range(count))
    return sorted({round(i * (count - 1) / max(wanted - 1, 1)) for i in range(wanted)})


def _mask_loader(dataset) -> Optional[Callable[[dict], dict]]:
    """The pipeline up to and including its ``LoadAnnotations``: the mask as the model gets its
    values (``reduce_zero_label`` and the dataset's ``label_map`` applied), without reading the
    image or augmenting. None where the pipeline loads no annotations."""
    transforms = list(getattr(dataset.pipeline, 'transforms', []))
    names = [type(t).__name__ for t in transforms]
    loads = [i for i, name in enumerate(names) if 'LoadAnnotations' in name]
    if not loads:
        return None
    loader = transforms[loads[0]]

    def load(info: dict) -> dict:
        return loader(dict(info, seg_fields=list(info.get('seg_fields', []))))

    return load


def scan_training_data(data_cfg, num_classes: int, ignore_index: int = 255,
                       crop: Optional[Tuple[int, int]] = None, samples: int = 32,
                       max_masks: int = MAX_SCANNED_MASKS) -> DataReport:
    """Read every training mask (an even spread of ``max_masks`` in a larger set; 0: all) and
    report each one with an out-of-range value (file, values); with ``crop``, run ``samples``
    images through the whole pipeline and warn about images smaller than the crop after it."""
    from mmengine.registry import DefaultScope
    from mmseg.registry import DATASETS
    with DefaultScope.overwrite_default_scope(data_cfg.get('default_scope', 'mmseg')):
        dataset = DATASETS.build(data_cfg.train_dataloader.dataset)
    report = DataReport()
    count = report.total = len(dataset)
    if count == 0:
        report.errors.append('the training set is empty: check data_root and data_prefix of '
                             'train_dataloader.dataset')
        return report
    load_mask = _mask_loader(dataset) if hasattr(dataset, 'get_data_info') else None
    mask_indices = spread(count, max_masks)
    for index in mask_indices:
        if load_mask is not None:
            info = dataset.get_data_info(index)
            labels = torch.from_numpy(load_mask(info)['gt_seg_map'].astype('int64'))
            path = info.get('seg_map_path', f'sample {index}')
        else:  # a dataset without MMSeg's loading step: through its whole pipeline
            sample = dataset[index]['data_samples']
            labels = sample.gt_sem_seg.data
            path = sample.metainfo.get('seg_map_path', f'sample {index}')
        values = out_of_range(labels, num_classes, ignore_index).tolist()
        if values:
            report.errors.append(label_message(f'the mask {path}', values, num_classes,
                                               ignore_index))
    report.scanned = len(mask_indices)
    if not crop:
        return report
    smaller = []
    shown = spread(count, samples)
    for index in shown:
        item = dataset[index]
        size = tuple(item['inputs'].shape[-2:])
        if size[0] < crop[0] or size[1] < crop[1]:
            smaller.append((item['data_samples'].metainfo.get('img_path', f'sample {index}'),
                            size))
    if smaller:
        path, size = smaller[0]
        report.warnings.append(
            f'{len(smaller)} of {len(shown)} training images run through the pipeline are '
            f'smaller than the crop {crop[0]}x{crop[1]} after it (e.g. {path}: '
            f'{size[0]}x{size[1]}). The data preprocessor pads them to the crop (image 0, mask '
            '255, ignored by the loss), so part of every batch is padding; a crop no larger '
            'than the images (or a Resize in the pipeline) avoids it.')
    return report


def crop_of(data_cfg) -> Optional[Tuple[int, int]]:
    """The crop a data config trains at: its ``crop_size``, else its ``RandomCrop``'s."""
    if data_cfg.get('crop_size'):
        return tuple(data_cfg.crop_size)
    for step in data_cfg.get('train_pipeline', []) or []:
        if str(step.get('type', '')).endswith('RandomCrop'):
            return tuple(step['crop_size'])
    return None

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .synthetic_scenes import CLASSES, PALETTE, generate


@DATASETS.register_module()
class SyntheticScenesDataset(BaseSegDataset):
    """MMSeg dataset over ``synthetic_scenes`` (7 classes), generated on first use.

    Args:
        generate_if_missing (bool): build the data under ``data_root`` when it is missing or
            was built with other arguments. Default True.
        generator (dict): arguments of ``synthetic_scenes.generate`` (num_train, num_val,
            size, seed).
    """

    METAINFO = dict(classes=CLASSES, palette=PALETTE)

    def __init__(self, generate_if_missing: bool = True, generator: dict = None, **kwargs):
        kwargs.setdefault('img_suffix', '.png')
        kwargs.setdefault('seg_map_suffix', '.png')
        kwargs.setdefault('reduce_zero_label', False)
        if generate_if_missing:
            generate(kwargs['data_root'], **(generator or {}))
        super().__init__(**kwargs)

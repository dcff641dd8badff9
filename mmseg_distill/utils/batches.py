"""Random segmentation batches: what the pair tool, the benchmark and the tests feed a model
when no data is at hand."""
from typing import List, Sequence, Tuple

import torch


def random_seg_batch(batch: int, size: Sequence[int], num_classes: int, seed: int = 0,
                     edges: bool = False) -> Tuple[torch.Tensor, List]:
    """(inputs (N, 3, H, W), SegDataSamples with random labels) from a seeded generator.

    ``edges=True`` adds the edge maps PIDNet's boundary branch trains on (MMSeg's GenerateEdge
    transform makes them from the labels in a real pipeline).
    """
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    generator = torch.Generator().manual_seed(seed)
    size = tuple(size)
    inputs = torch.randn(batch, 3, *size, generator=generator)
    samples = []
    for _ in range(batch):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes, (1, *size), generator=generator))
        if edges:
            sample.gt_edge_map = PixelData(
                data=torch.randint(0, 2, (1, *size), generator=generator))
        sample.set_metainfo(dict(img_shape=size, pad_shape=size, ori_shape=size))
        samples.append(sample)
    return inputs, samples

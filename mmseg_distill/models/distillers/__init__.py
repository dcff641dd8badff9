from .segmentation_distiller import SegmentationDistiller, disable_inplace

__all__ = ['SegmentationDistiller', 'disable_inplace']

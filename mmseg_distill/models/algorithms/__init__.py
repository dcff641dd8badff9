from .segmentation_distill import SegmentationDistill

__all__ = ['SegmentationDistill']

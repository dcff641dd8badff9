from .composition import CompositionError, compose_distiller, flat_distiller
from .segmentation_distiller import SegmentationDistiller, disable_inplace

__all__ = ['CompositionError', 'SegmentationDistiller', 'compose_distiller', 'disable_inplace',
           'flat_distiller']

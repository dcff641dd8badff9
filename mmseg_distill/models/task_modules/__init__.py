from .recorders import GroundTruthSegRecorder
from .seg_head_recorders import SegHeadFeatureRecorder, SegLogitsRecorder

__all__ = ['GroundTruthSegRecorder', 'SegHeadFeatureRecorder', 'SegLogitsRecorder']

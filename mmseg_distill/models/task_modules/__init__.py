from .recorders import GroundTruthSegRecorder

__all__ = ['GroundTruthSegRecorder']

from .export_student_hook import ExportStudentHook
from .loss_weight_scheduler_hook import AdaptiveLossWeightHook, alw_factors
from .rng_state_hook import RNGStateHook

__all__ = ['AdaptiveLossWeightHook', 'ExportStudentHook', 'RNGStateHook', 'alw_factors']

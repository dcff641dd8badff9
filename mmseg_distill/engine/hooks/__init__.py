from .adaptive_loss_weight_hook import AdaptiveLossWeightHook, alw_factors
from .export_student_hook import ExportStudentHook
from .label_check_hook import LabelCheckHook
from .rng_state_hook import RNGStateHook
from .term_share_hook import TermShareHook

__all__ = ['AdaptiveLossWeightHook', 'ExportStudentHook', 'LabelCheckHook', 'RNGStateHook',
           'TermShareHook', 'alw_factors']

from .checkpoint import load_state_dict_under, state_dict_mismatch
from .export import export_student, student_state_dict

__all__ = ['load_state_dict_under', 'state_dict_mismatch', 'export_student', 'student_state_dict']

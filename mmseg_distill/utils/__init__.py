from .checkpoint import load_state_dict_under
from .export import export_student, student_state_dict

__all__ = ['load_state_dict_under', 'export_student', 'student_state_dict']

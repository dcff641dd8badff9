from .checkpoint import load_state_dict_under

__all__ = ['load_state_dict_under']

import os.path as osp
from typing import Dict, List, Tuple

import torch
from mmengine.runner import CheckpointLoader


def resolve_checkpoint(path: str) -> str:
    """``path`` itself where it is a file; where it is a run's work directory, the checkpoint its
    ``last_checkpoint`` names (MMEngine writes that file at every save), so a config can name a
    run instead of a file whose name depends on the run's length. Missing: an error naming it."""
    if osp.isdir(path):
        record = osp.join(path, 'last_checkpoint')
        if not osp.isfile(record):
            raise FileNotFoundError(
                f'{path} is a directory without last_checkpoint: the run has saved no checkpoint '
                'there (train it first, or name a checkpoint file)')
        with open(record) as f:
            path = f.read().strip()
    if not osp.isfile(path):
        raise FileNotFoundError(f'no checkpoint at {path} (working directory {osp.abspath(".")})')
    return path


def load_state_dict_under(filename: str, prefix: str,
                          map_location: str = 'cpu') -> Dict[str, torch.Tensor]:
    """Entries of a checkpoint's state_dict whose key starts with ``prefix``, prefix removed.

    The prefix is removed from the start of the key only (never replaced elsewhere in it).
    """
    checkpoint = CheckpointLoader.load_checkpoint(filename, map_location=map_location)
    state = checkpoint.get('state_dict', checkpoint)
    selected = {key[len(prefix):]: value for key, value in state.items()
                if key.startswith(prefix)}
    if not selected:
        roots = sorted({key.split('.', 1)[0] for key in state})
        raise KeyError(f"no key of {filename} starts with '{prefix}' (top-level names: "
                       f'{roots[:10]})')
    return selected


def state_dict_mismatch(expected: Dict[str, torch.Tensor], given: Dict[str, torch.Tensor]
                        ) -> Tuple[List[str], List[str], List[str]]:
    """Keys missing from ``given``, keys it has in excess, and 'key: given vs expected' shapes."""
    missing = [k for k in expected if k not in given]
    unexpected = [k for k in given if k not in expected]
    mismatched = [f'{k}: {tuple(given[k].shape)} vs {tuple(expected[k].shape)}'
                  for k in expected if k in given and given[k].shape != expected[k].shape]
    return missing, unexpected, mismatched

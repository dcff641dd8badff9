"""The comparison a distillation needs: the student trained alone on the same data, crop,
schedule and seed, from the same initial weights.

The pair tool writes, beside the leaf, one initial student (the student config's own
initialisation under the seed) in two key layouts: the plain one, which the leaf's student and
the baseline start from (their ``init_cfg``, ``leaves.initial_weights``: an initialisation, so
``--resume`` continues from the run's own checkpoint), and the ``architecture.``-prefixed one,
for ``load_from`` of a distillation run (the weight search and the demo give each seed's this
way); and the baseline config: the leaf's student config for plain MMSeg
(``student_config_from``, the one the export hook writes too) starting from the plain initial
student.

Parts the student config initialises from pretrained weights (an ImageNet backbone, by URL or
file) are left out of the initial student: nothing is downloaded here, both runs load those
weights themselves when they start (the same weights), and the initial student (which MMEngine's
``Pretrained`` initialisation loads non-strictly, after the parts' own) then sets every other
part to the shared random draw.
"""
import logging
import os
import os.path as osp
from typing import Dict, Optional, Tuple

import torch

from ..engine.export import STUDENT_PREFIX, student_config_from
from .leaves import initial_weights


def initial_student_paths(out: str) -> Tuple[str, str]:
    """(plain, ``architecture.``-prefixed) initial-student checkpoints beside leaf ``out``."""
    stem = out[:-3]
    return f'{stem}_init.pth', f'{stem}_init_architecture.pth'


def pretrained_parts(model_cfg) -> Dict[str, str]:
    """{part of the model: the pretrained weights its config initialises it from}."""
    parts = {}
    if model_cfg.get('pretrained'):
        parts['backbone'] = str(model_cfg.pretrained)
    for name in ('backbone', 'neck', 'decode_head', 'auxiliary_head'):
        configs = model_cfg.get(name)
        for index, part in enumerate(configs if isinstance(configs, (list, tuple))
                                     else [configs]):
            init = part.get('init_cfg') if isinstance(part, dict) else None
            key = f'{name}.{index}' if isinstance(configs, (list, tuple)) else name
            if isinstance(init, dict) and init.get('type') == 'Pretrained':
                parts[key] = str(init.get('checkpoint'))
            elif isinstance(part, dict) and part.get('pretrained'):
                parts[key] = str(part['pretrained'])
    return parts


def write_initial_student(student: str, out: str, num_classes: Optional[int], seed: int
                          ) -> Tuple[str, str, Dict[str, str]]:
    """Build the student as its config initialises it under ``seed``, without its pretrained
    parts (``pretrained_parts``: nothing is downloaded), and save it twice
    (``initial_student_paths``). Returns the two paths and the parts left out."""
    from mmengine.logging import MMLogger
    from mmengine.model import revert_sync_batchnorm
    from mmengine.runner import set_random_seed

    from ..models.model_from_config import ModelFromConfig, load_model_cfg
    left_out = pretrained_parts(load_model_cfg(student, num_classes)[0])
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights logs every parameter
    try:
        set_random_seed(seed)
        model = revert_sync_batchnorm(ModelFromConfig(student, num_classes=num_classes,
                                                      random_init=True))
        model.init_weights()
    finally:
        logger.setLevel(level)
    state = {k: v for k, v in model.state_dict().items()
             if not any(k.startswith(part + '.') for part in left_out)}
    meta = {'seed': seed, 'initial_student_of': student, 'pretrained_parts_left_out': left_out}
    plain, prefixed = initial_student_paths(out)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    torch.save({'state_dict': state, 'meta': meta}, plain)
    torch.save({'state_dict': {STUDENT_PREFIX + k: v for k, v in state.items()}, 'meta': meta},
               prefixed)
    return plain, prefixed, left_out


def baseline_text(leaf: str, out: str, init_checkpoint: Optional[str] = None) -> str:
    """The baseline config of leaf ``leaf`` (to be written at ``out``): the student alone, for
    ``mim train mmseg``."""
    from mmengine.config import Config
    cfg = student_config_from(Config.fromfile(leaf))
    if cfg is None:
        raise ValueError(f'{leaf}: model.architecture names no cfg_path, so the student '
                         'config cannot be derived')
    cfg.load_from = None
    if init_checkpoint:
        cfg.model.init_cfg = initial_weights(init_checkpoint, out)
    header = (f'# Written by tools/inspect_pair.py: the baseline of {osp.basename(leaf)}, the '
              'student trained alone with the same data, crop,\n# schedule, seed and initial '
              'weights (`mim train mmseg` this file); compare the distilled student with it.\n')
    return header + cfg.pretty_text

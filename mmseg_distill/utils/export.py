"""Student-only checkpoints in OpenMMLab model-zoo style from distillation checkpoints, with the
student config they belong to."""
import hashlib
import os
import os.path as osp
import re
import time
from typing import Dict, Optional, Tuple

import torch
from mmengine.runner import CheckpointLoader

from .config import load_config

STUDENT_PREFIX = 'architecture.'


def student_state_dict(state_dict: Dict[str, torch.Tensor],
                       prefix: str = STUDENT_PREFIX) -> Dict[str, torch.Tensor]:
    """The student's weights: keys that *start* with ``prefix``, with exactly that prefix cut.

    Teacher (``teacher.``), connectors and loss modules (``distiller.``) are dropped. Nothing is
    replaced inside a key, so a student module that happens to be called e.g.
    ``architecture`` keeps its name.
    """
    student = {key[len(prefix):]: value for key, value in state_dict.items()
               if key.startswith(prefix)}
    if not student:
        roots = sorted({key.split('.', 1)[0] for key in state_dict})
        raise KeyError(f"no key starts with '{prefix}' (top-level names: {roots}); is this a "
                       'SingleTeacherDistill checkpoint?')
    return student


def config_name(meta: dict, checkpoint: str) -> str:
    """The name of the config a checkpoint was trained with: MMEngine's experiment name minus
    its timestamp (OpenMMLab names model-zoo files after the config); the work directory's
    name where the checkpoint has no meta."""
    name = meta.get('experiment_name')
    if name:
        return re.sub(r'_\d{8}_\d{6}$', '', name)
    return osp.basename(osp.dirname(osp.abspath(checkpoint)))


# what the distillation ran on, which the student's config must test on
RUN_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator',
            'test_evaluator', 'default_scope')


def student_config(meta: dict):
    """The student's own config, as plain MMSeg tests it: the model of the config the
    distillation's ``architecture`` came from, with the class count the distillation set
    (``num_classes``) and its preprocessing, and the data and evaluation the distillation ran
    with (a student distilled on other data than its config names is tested on that data); None
    where the checkpoint does not record its config."""
    from mmengine.config import Config

    from ..models.head_families import set_num_classes
    text = meta.get('cfg')
    if not text:
        return None
    cfg = Config.fromstring(text, '.py')
    architecture = cfg.get('model', {}).get('architecture', {})
    cfg_path = architecture.get('cfg_path') if isinstance(architecture, dict) else None
    if not cfg_path:
        return None
    student = load_config(cfg_path)
    if architecture.get('num_classes'):
        set_num_classes(student.model, architecture['num_classes'])
    for key in RUN_KEYS:
        if key in cfg:
            student[key] = cfg[key]
    preprocessor = cfg.model.get('data_preprocessor')
    if preprocessor:
        student.model.data_preprocessor = preprocessor
        student.pop('data_preprocessor', None)
    imports = list(student.get('custom_imports', {}).get('imports', []))
    imports += [i for i in cfg.get('custom_imports', {}).get('imports', []) if i not in imports]
    if imports:
        student.custom_imports = dict(imports=imports, allow_failed_imports=False)
    return student


def export_student(checkpoint: str, out_dir: str, config_name_: Optional[str] = None,
                   date: Optional[str] = None, write_config: bool = True
                   ) -> Tuple[str, Optional[str]]:
    """Write ``<name>_<date>-<sha256[:8]>.pth`` holding ``{'meta', 'state_dict'}`` and, where
    the distillation recorded it, the student's config ``<name>.py`` beside it (with the class
    count the distillation used, so ``mim test mmseg <name>.py --checkpoint <pth>`` tests it).

    ``config_name_`` defaults to the distillation config's name (OpenMMLab's pattern). As
    OpenMMLab publishes models: no optimizer or message hub, the file's own sha256 prefix in
    its name. Returns (checkpoint path, config path or None).
    """
    loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = loaded.get('state_dict', loaded)
    meta = dict(loaded.get('meta', {}))
    name = config_name_ or config_name(meta, checkpoint)
    keep = {k: meta[k] for k in ('dataset_meta', 'mmengine_version', 'seed') if k in meta}
    keep.update(distilled_from=osp.basename(checkpoint), exported_by='mmseg_distill')
    os.makedirs(out_dir, exist_ok=True)
    date = date or time.strftime('%Y%m%d')
    tmp = osp.join(out_dir, f'.{name}.tmp.pth')
    torch.save({'meta': keep, 'state_dict': student_state_dict(state)}, tmp)
    with open(tmp, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:8]
    final = osp.join(out_dir, f'{name}_{date}-{digest}.pth')
    os.replace(tmp, final)
    config_path = None
    if write_config:
        cfg = student_config(meta)
        if cfg is not None:
            config_path = osp.join(out_dir, f'{name}.py')
            cfg.dump(config_path)
    return final, config_path

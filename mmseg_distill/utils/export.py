"""Student-only checkpoints in OpenMMLab model-zoo style from distillation checkpoints."""
import hashlib
import os
import os.path as osp
import time
from typing import Dict, Optional

import torch
from mmengine.runner import CheckpointLoader

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


def export_student(checkpoint: str, out_dir: str, config_name: str,
                   date: Optional[str] = None) -> str:
    """Write ``<config_name>_<date>-<sha256[:8]>.pth`` holding ``{'meta', 'state_dict'}``.

    As OpenMMLab publishes models: no optimizer or message hub, the file's own sha256 prefix in
    its name. Returns the written path.
    """
    loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = loaded.get('state_dict', loaded)
    meta = dict(loaded.get('meta', {}))
    keep = {k: meta[k] for k in ('dataset_meta', 'mmengine_version', 'seed') if k in meta}
    keep.update(distilled_from=osp.basename(checkpoint), exported_by='mmseg_distill')
    os.makedirs(out_dir, exist_ok=True)
    date = date or time.strftime('%Y%m%d')
    tmp = osp.join(out_dir, f'.{config_name}.tmp.pth')
    torch.save({'meta': keep, 'state_dict': student_state_dict(state)}, tmp)
    with open(tmp, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:8]
    final = osp.join(out_dir, f'{config_name}_{date}-{digest}.pth')
    os.replace(tmp, final)
    return final

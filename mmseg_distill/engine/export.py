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

from ..utils.config import load_config

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


# the distillation's own parts, which a plain MMSeg config of the student must not carry
DISTILLATION_HOOKS = ('ExportStudentHook', 'TermShareHook', 'AdaptiveLossWeightHook',
                      'StopDistillHook', 'DistillationLossDetachHook')
PAIR_BASE_KEYS = ('student_model', 'teacher_model', 'teacher_ckpt')


def _hook_type(hook) -> str:
    return str(hook.get('type', '')).split('.')[-1] if isinstance(hook, dict) else ''


def method_terms_keys(settings: dict) -> tuple:
    """The top-level keys of ``settings`` that hold a method's terms (``<method>_terms``: a
    dict of the distiller's sections) or its hooks (``<method>_hooks``: a list of distillation
    hooks): the distillation's, not the student's. Recognised by what they hold, so the terms
    of a method in a user's own terms file are left out as the shipped methods' are."""
    from ..models.distillers.composition import SECTIONS
    keys = []
    for key, value in settings.items():
        if key.endswith('_terms') and isinstance(value, dict) and value and \
                set(value) <= set(SECTIONS):
            keys.append(key)
        elif key.endswith('_hooks') and key not in ('custom_hooks', 'default_hooks') and \
                isinstance(value, (list, tuple)) and value and \
                all(_hook_type(hook) in DISTILLATION_HOOKS for hook in value):
            keys.append(key)
    return tuple(keys)


def student_config_from(cfg):
    """The student's own config for plain MMSeg, from a distillation config ``cfg``: the model
    of the config the distillation's ``architecture`` came from, with the class count the
    distillation set (``num_classes``) and its preprocessing; everything else (pipelines,
    crop, dataloaders, evaluators, schedule, seed, runtime) as the distillation ran it, less its
    own parts (the distillation validation loop, the export / share / weight-schedule hooks,
    the pair bases' helper keys), plus ``LabelCheckHook`` (a bad mask is the distillation's
    named error when the student is trained alone too). So ``inference_model`` preprocesses as
    the distillation's validation did, and ``mim train mmseg`` trains the student alone on the
    same data and schedule (the baseline). None where ``architecture`` names no config."""
    from mmengine.config import Config

    from ..models.head_families import set_num_classes
    architecture = cfg.get('model', {}).get('architecture', {})
    cfg_path = architecture.get('cfg_path') if isinstance(architecture, dict) else None
    if not cfg_path:
        return None
    student_cfg = load_config(cfg_path)
    model = student_cfg.model
    if architecture.get('num_classes'):
        set_num_classes(model, architecture['num_classes'])
    preprocessor = cfg.model.get('data_preprocessor') or \
        model.get('data_preprocessor') or student_cfg.get('data_preprocessor')
    if preprocessor:
        preprocessor = dict(preprocessor)
        # the distillation builds it in MMRazor's scope with an explicit 'mmseg.' prefix
        preprocessor['type'] = str(preprocessor['type']).split('.')[-1]
        model.data_preprocessor = preprocessor
    dropped = ('model', 'val_cfg', 'load_from', 'resume', 'data_preprocessor') + PAIR_BASE_KEYS
    distillation = cfg.to_dict()
    dropped += method_terms_keys(distillation)
    # the student config's own settings only where the distillation config has none
    settings = {k: v for k, v in student_cfg.to_dict().items() if k not in dropped}
    settings.update({k: v for k, v in distillation.items() if k not in dropped})
    settings['model'] = model.to_dict()
    # inference_model preprocesses with the top-level test_pipeline: the one the
    # distillation's validation (and test) ran, which a data config need not name at top level
    for loader in ('test_dataloader', 'val_dataloader'):
        pipeline = (cfg.get(loader) or {}).get('dataset', {}).get('pipeline')
        if pipeline:
            settings['test_pipeline'] = pipeline
            break
    # the student is built in its own config's scope (the leaf's may be another)
    settings['default_scope'] = student_cfg.get('default_scope', 'mmseg')
    settings['val_cfg'] = student_cfg.get('val_cfg', dict(type='ValLoop'))
    settings['default_hooks'] = {
        name: hook for name, hook in settings.get('default_hooks', {}).items()
        if _hook_type(hook) not in DISTILLATION_HOOKS}
    # trained alone, the student fails on a bad mask with the error the distillation gives
    settings['default_hooks']['check_labels'] = dict(type='mmrazor.LabelCheckHook')
    if 'custom_hooks' in settings:
        settings['custom_hooks'] = [h for h in settings['custom_hooks']
                                    if _hook_type(h) not in DISTILLATION_HOOKS]
    imports = list(student_cfg.get('custom_imports', {}).get('imports', []))
    imports += [i for i in cfg.get('custom_imports', {}).get('imports', []) if i not in imports]
    if imports:
        settings['custom_imports'] = dict(imports=imports, allow_failed_imports=False)
    return Config(settings)


def student_config(meta: dict):
    """``student_config_from`` the distillation config a checkpoint's meta recorded (None
    where it recorded none)."""
    from mmengine.config import Config
    text = meta.get('cfg')
    if not text:
        return None
    return student_config_from(Config.fromstring(text, '.py'))


def export_student(checkpoint: str, out_dir: str, config_name_: Optional[str] = None,
                   date: Optional[str] = None, write_config: bool = True
                   ) -> Tuple[str, Optional[str]]:
    """Write ``<name>_<YYYYMMDD_HHMMSS>-<sha256[:8]>.pth`` (``date``: that stamp), holding
    ``{'meta', 'state_dict'}``, and, where
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
    # OpenMMLab's published names: <config>_<YYYYMMDD_HHMMSS>-<sha256[:8]>.pth
    date = date or time.strftime('%Y%m%d_%H%M%S')
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

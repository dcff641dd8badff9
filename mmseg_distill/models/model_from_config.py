import os.path as osp
from typing import Optional

from mmengine.config import ConfigDict
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import DefaultScope
from mmengine.utils import import_modules_from_strings
from mmrazor.registry import MODELS

from ..utils.config import load_config
from ..utils.quiet import MMSEG_BUILD_NOTES, quiet
from .head_families import head_configs, needs_mmdet, set_num_classes


def drop_pretrained(model_cfg: ConfigDict) -> None:
    """No backbone weights from a URL or file: random initialisation, nothing downloaded."""
    model_cfg['pretrained'] = None
    for part in [model_cfg.get('backbone')] + list(head_configs(model_cfg)):
        if isinstance(part, dict):
            part.pop('pretrained', None)
            init = part.get('init_cfg')
            if isinstance(init, dict) and init.get('type') == 'Pretrained':
                part['init_cfg'] = None


def load_model_cfg(cfg_path: str, num_classes: Optional[int] = None,
                   random_init: bool = False):
    """(model config with the config's top-level data_preprocessor, default scope, config)."""
    if '::' not in cfg_path and not osp.isfile(cfg_path):
        raise FileNotFoundError(f"ModelFromConfig: config file '{cfg_path}' not found "
                                f"(working directory: '{osp.abspath('.')}')")
    cfg = load_config(cfg_path)  # a file, or a model-zoo config of an installed package
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    model_cfg = cfg.model
    mmdet_head = needs_mmdet(model_cfg)
    if mmdet_head:
        import importlib.util
        if importlib.util.find_spec('mmdet') is None:
            raise ImportError(f'{cfg_path}: {mmdet_head} (mask classification) is built on '
                              'MMDetection, which is not installed: pip install "mmdet>=3.0"')
    if 'data_preprocessor' in cfg and 'data_preprocessor' not in model_cfg:
        model_cfg.data_preprocessor = cfg.data_preprocessor
    if num_classes:
        set_num_classes(model_cfg, num_classes)
    if random_init:
        drop_pretrained(model_cfg)
    scope = cfg.get('default_scope', cfg_path.split('::')[0] if '::' in cfg_path else 'mmseg')
    return model_cfg, scope, cfg


@MODELS.register_module()
def ModelFromConfig(cfg_path: str, pretrained: bool = False, num_classes: Optional[int] = None,
                    random_init: bool = False, init_cfg: Optional[dict] = None, **kwargs):
    """Build the ``model`` of another config file: the teacher or student of a distillation.

    MMRazor's ``dict(cfg_path=...)`` only accepts ``package::`` paths of installed OpenMMLab
    packages. This also takes a config file path (absolute, or relative to the working
    directory; in a config, write ``'{{ fileDirname }}/...'`` to make it relative to the config
    itself), builds it in the config's own default scope and honours its ``custom_imports`` and
    top-level ``data_preprocessor`` (as MMSeg configs place it).

    ``num_classes`` sets the class count of every decode and auxiliary head (a pair trained on
    another dataset than the configs name). ``random_init=True`` drops the backbone's
    pretrained weights (no download; the teacher gets its weights from ``teacher_ckpt``
    anyway). ``pretrained=True`` (``package::`` paths only) builds with the model-zoo weights of
    that config, by URL.

    ``init_cfg`` replaces the model's own (e.g. ``dict(type='Pretrained', checkpoint=...)``, the
    initial student the pair tool writes): the runner applies it when it initialises the
    weights, before ``load_from`` or ``--resume`` load theirs, so a resumed run continues from
    its checkpoint (MMEngine resumes *from* ``load_from`` where both are set).
    """
    if pretrained:
        if '::' not in cfg_path:
            raise ValueError(f"pretrained=True needs a 'package::' config, got '{cfg_path}'; "
                             'load local weights with teacher_ckpt or the init_cfg of the model')
        from mmengine.hub import get_model
        return get_model(cfg_path, pretrained=True, **kwargs)
    model_cfg, scope, _ = load_model_cfg(cfg_path, num_classes, random_init)
    if init_cfg is not None:
        model_cfg.init_cfg = init_cfg
    return build_in_scope(model_cfg, scope, **kwargs)


def build_in_scope(model_cfg: ConfigDict, scope: str, **kwargs):
    """Build a model config of ``load_model_cfg`` in its own default scope."""
    with DefaultScope.overwrite_default_scope(scope), quiet(*MMSEG_BUILD_NOTES):
        import_modules_from_strings(f'{scope}.models', allow_failed_imports=True)
        return ROOT_MODELS.build(model_cfg, default_args=kwargs or None)

import os.path as osp

from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.utils import import_modules_from_strings

from mmrazor.registry import MODELS


@MODELS.register_module()
def ModelFromConfig(cfg_path: str, pretrained: bool = False, **kwargs):
    """Build the ``model`` of another config file: the teacher or student of a distillation.

    MMRazor's ``dict(cfg_path=...)`` only accepts ``package::`` paths of installed OpenMMLab
    packages. This also takes a config file path (absolute, or relative to the working
    directory; in a config, write ``'{{ fileDirname }}/...'`` to make it relative to the config
    itself), builds it in the config's own default scope and honours its ``custom_imports`` and
    top-level ``data_preprocessor`` (as MMSeg configs place it). ``package::`` paths are passed
    to MMEngine's ``get_model`` unchanged.

    Weights: use the algorithm's ``teacher_ckpt`` for the teacher; ``pretrained=True`` is only
    meaningful for ``package::`` paths (model-zoo weights by URL).
    """
    if '::' in cfg_path:
        from mmengine.hub import get_model
        return get_model(cfg_path, pretrained=pretrained, **kwargs)
    if pretrained:
        raise ValueError(f"pretrained=True needs a 'package::' config, got '{cfg_path}'; "
                         'load local weights with teacher_ckpt or the init_cfg of the model')
    if not osp.isfile(cfg_path):
        raise FileNotFoundError(f"ModelFromConfig: config file '{cfg_path}' not found "
                                f"(working directory: '{osp.abspath('.')}')")
    cfg = Config.fromfile(cfg_path)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    model_cfg = cfg.model
    if 'data_preprocessor' in cfg and 'data_preprocessor' not in model_cfg:
        model_cfg.data_preprocessor = cfg.data_preprocessor
    scope = cfg.get('default_scope', 'mmseg')
    with DefaultScope.overwrite_default_scope(scope):
        import_modules_from_strings(f'{scope}.models', allow_failed_imports=True)
        return ROOT_MODELS.build(model_cfg, default_args=kwargs or None)

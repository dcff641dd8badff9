"""The tiny CPU pair for the tests (``benchmarks.tiny``), under the names the tests use."""
from mmengine.config import Config

from benchmarks.tiny import REPO, STUDENT_CFG, TEACHER_CFG, TINY_PAIR, fake_batch, tiny_leaf

PAIR = TINY_PAIR
leaf_config = tiny_leaf


def load_model_cfg(method_dir, name):
    """The leaf's model config with its distiller flat (the composed terms and the leaf's
    overrides merged, as the distiller builds them), so a test can change one entry."""
    from mmengine.config import ConfigDict

    from mmseg_distill.models.distillers import flat_distiller
    model = Config.fromfile(leaf_config(method_dir, name)).model
    model.distiller = ConfigDict(flat_distiller(model.distiller))
    return model


def build_algorithm(model_cfg):
    from mmrazor.registry import MODELS
    return MODELS.build(model_cfg)


__all__ = ['REPO', 'PAIR', 'TEACHER_CFG', 'STUDENT_CFG', 'leaf_config', 'load_model_cfg',
           'build_algorithm', 'fake_batch']

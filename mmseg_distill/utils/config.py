"""Loading a config by path or by a package's scope (``mmseg::...``, ``mmseg_distill::...``)."""
from mmengine.config import Config


def load_config(path: str) -> Config:
    """``Config.fromfile`` for a file; MMEngine's hub for ``<package>::<config>`` (which
    ``Config.fromfile`` takes for a file name)."""
    if '::' in path:
        from mmengine.hub import get_config
        return get_config(path)
    return Config.fromfile(path)

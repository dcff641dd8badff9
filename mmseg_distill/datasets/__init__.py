from .synthetic_scenes_dataset import SyntheticScenesDataset

__all__ = ['SyntheticScenesDataset']

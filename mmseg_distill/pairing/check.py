"""Build a written leaf on random weights and inputs, run it, and measure its terms."""
import os.path as osp
import tempfile
import warnings
from typing import Optional, Sequence

import torch

from ..methods import set_stage1_checkpoint
from ..utils.batches import random_seg_batch
from ..utils.shares import measure_terms


def build_leaf_model(leaf: str, stage1_checkpoint: Optional[str] = None,
                     teacher_checkpoint: Optional[str] = None):
    """The leaf's algorithm with a random student (no download), the teacher from
    ``teacher_checkpoint`` (random without one) and KA's encoder from ``stage1_checkpoint``."""
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmrazor.registry import MODELS
    cfg = Config.fromfile(leaf)
    model_cfg = cfg.model
    if model_cfg.architecture.get('type') == 'ModelFromConfig':
        model_cfg.architecture.random_init = True
    model_cfg.teacher_ckpt = teacher_checkpoint
    set_stage1_checkpoint(model_cfg.distiller, stage1_checkpoint)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return revert_sync_batchnorm(MODELS.build(model_cfg))


def random_batches(crop: Sequence[int], num_classes: int, count: int, batch: int = 2):
    """``count`` seeded random batches (PIDNet's edge maps included)."""
    return [random_seg_batch(batch, crop, num_classes, seed=seed, edges=True)
            for seed in range(count)]


def one_iteration(model, crop: Sequence[int], num_classes: int):
    """One SGD step of ``model`` on a random batch; the distillation losses it logged."""
    model.train()
    inputs, samples = random_batches(crop, num_classes, 1)[0]
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=1e-3)
    losses = model.loss(inputs, samples)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    if not torch.isfinite(total):
        raise RuntimeError(f'non-finite loss: { {k: float(v) for k, v in losses.items()} }')
    total.backward()
    optimizer.step()
    return {k: float(v.detach()) for k, v in losses.items() if k.startswith('distill.')}


def data_batches(model, data_cfg, count: int, seed: int = 0):
    """``count`` training batches of a data config, through the model's data preprocessor."""
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    with DefaultScope.overwrite_default_scope(data_cfg.get('default_scope', 'mmseg')):
        loader = Runner.build_dataloader(data_cfg.train_dataloader, seed=seed)
    batches = []
    for batch in loader:
        if len(batches) == count:
            break
        data = model.data_preprocessor(batch, True)
        batches.append((data['inputs'], data['data_samples']))
    return batches


def measure_leaf(model, crop: Sequence[int], num_classes: int, batches: int = 4,
                 data_cfg=None):
    """``measure_terms`` of ``model`` on the data config's training batches, or on random
    batches at ``crop`` without one."""
    inputs = data_batches(model, data_cfg, batches) if data_cfg is not None else \
        random_batches(crop, num_classes, batches)
    return measure_terms(model, inputs)


def save_stage1(model) -> str:
    """A stage-1 model's state as a checkpoint file for stage 2 (a temporary file)."""
    path = osp.join(tempfile.mkdtemp(prefix='stage1-'), 'stage1.pth')
    torch.save({'state_dict': model.state_dict()}, path)
    return path

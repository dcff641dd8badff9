"""Build a written leaf on random weights and inputs, run it, and measure its terms."""
import os.path as osp
import tempfile
import warnings
from typing import Optional, Sequence

import torch
from mmengine.utils import import_modules_from_strings

from ..engine.shares import measure_terms
from ..methods import set_stage1_checkpoint
from ..utils.batches import random_seg_batch
from ..utils.device import batch_to, model_device


def build_leaf_model(leaf: str, stage1_checkpoint: Optional[str] = None,
                     teacher_checkpoint: Optional[str] = None, device='cpu'):
    """The leaf's algorithm with a random student (no download), the teacher from
    ``teacher_checkpoint`` (random without one) and KA's encoder from ``stage1_checkpoint``,
    on ``device``."""
    from mmengine.config import Config
    cfg = Config.fromfile(leaf)
    cfg.model.teacher_ckpt = teacher_checkpoint
    set_stage1_checkpoint(cfg.model.distiller, stage1_checkpoint)
    return build_model_of(cfg).to(device)


def build_model_of(cfg):
    """The model of a loaded config as a run builds it (teacher checkpoint, stage-1 state and
    initial student as the config names them), with a random student where that comes from a
    config (no download), single-process (SyncBN as BatchNorm)."""
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import MODELS as ROOT_MODELS
    from mmengine.registry import DefaultScope
    model_cfg = cfg.model
    distillation = 'architecture' in model_cfg
    if distillation and model_cfg.architecture.get('type') == 'ModelFromConfig':
        model_cfg.architecture.random_init = True
    if not distillation:
        from ..models.model_from_config import drop_pretrained
        drop_pretrained(model_cfg)
    scope = 'mmrazor' if distillation else cfg.get('default_scope', 'mmseg')
    with warnings.catch_warnings(), DefaultScope.overwrite_default_scope(scope):
        warnings.simplefilter('ignore')
        if not distillation:
            import_modules_from_strings(f'{scope}.models', allow_failed_imports=True)
        return revert_sync_batchnorm(ROOT_MODELS.build(model_cfg))


def check_config(cfg, options: Optional[dict] = None, step: bool = True,
                 crop: Optional[Sequence[int]] = None) -> None:
    """What a run of ``cfg`` (with ``--cfg-options`` ``options``) needs before it trains: the
    model builds (teacher checkpoint and first stage loaded, distiller checked), the training
    and validation sets build and are not empty, and (``step``) one training step on a random
    batch at the data config's crop (``crop``) gives finite losses. Raises what fails."""
    from mmengine.registry import DefaultScope
    from mmseg.registry import DATASETS

    from ..utils.data_check import crop_of, label_spec
    if options:
        cfg.merge_from_dict(options)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope') or 'mmseg'):
        for loader in ('train_dataloader', 'val_dataloader'):
            if cfg.get(loader):
                dataset = DATASETS.build(cfg[loader].dataset)
                if len(dataset) == 0:
                    raise ValueError(f'{loader}.dataset is empty: check its data_root and '
                                     'data_prefix')
    model = build_model_of(cfg)
    if step:
        spec = label_spec(model)
        one_iteration(model, crop or crop_of(cfg) or (64, 64), spec[0] if spec else 19)


def random_batches(crop: Sequence[int], num_classes: int, count: int, batch: int = 2):
    """``count`` seeded random batches (PIDNet's edge maps included)."""
    return [random_seg_batch(batch, crop, num_classes, seed=seed, edges=True)
            for seed in range(count)]


def one_iteration(model, crop: Sequence[int], num_classes: int):
    """One SGD step of ``model`` on a random batch; the distillation losses it logged."""
    model.train()
    inputs, samples = batch_to(random_batches(crop, num_classes, 1)[0], model_device(model))
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


def scan_pair_data(data_cfg, num_classes, crop, student_cfg, max_masks):
    """Scan the training masks of ``data_cfg`` for the student of ``student_cfg`` (its last
    decode head's class count and ignore index): the report's lines and whether it failed."""
    from ..utils.data_check import crop_of, scan_training_data
    ignore = 255
    head = student_cfg.model.get('decode_head')
    head = head[-1] if isinstance(head, (list, tuple)) else head  # a cascade: the last stage
    if isinstance(head, dict):
        ignore = head.get('ignore_index', 255)
        num_classes = num_classes or head.get('num_classes')
    if not num_classes:
        return ['[data] not scanned: the class count is unknown (pass --num-classes)'], False
    report = scan_training_data(data_cfg, num_classes, ignore, crop_of(data_cfg) or crop,
                                max_masks=max_masks)
    lines = [f'[data] {report.summary()}: label values 0..{num_classes - 1} and {ignore} '
             '(ignored) expected']
    lines += [f'[data] error: {e}' for e in report.errors]
    lines += [f'[data] warning: {w}' for w in report.warnings]
    return lines, bool(report.errors)

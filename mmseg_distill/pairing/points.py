"""What a model offers to record: its recording points with channels, size and stride."""
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import torch
from torch import nn

from ..models.head_families import head_family, is_point_rend, own_class_heads


@dataclass(frozen=True)
class RecordingPoint:
    """One map a recorder can read: ``name`` (module name or recorder type), ``what`` it is
    ('stage', 'neck', 'auxiliary logits', 'head feature', 'logits' or '<kind>: not
    available'), its channels, spatial size at the inspected crop, and stride."""
    name: str
    what: str
    channels: int
    size: Tuple[int, int]
    stride: int

    @property
    def positions(self) -> int:
        return self.size[0] * self.size[1]


def points_of(points: Sequence[RecordingPoint], what: str) -> List[RecordingPoint]:
    return [p for p in points if p.what == what]


def build_random(cfg_path: str, num_classes=None):
    """(model with random weights in eval mode, its config); nothing is downloaded."""
    from mmengine.model import revert_sync_batchnorm

    from ..models.model_from_config import build_in_scope, load_model_cfg
    model_cfg, scope, cfg = load_model_cfg(cfg_path, num_classes, random_init=True)
    model = revert_sync_batchnorm(build_in_scope(model_cfg, scope))
    model.eval()
    return model, cfg


class CropTooSmall(ValueError):
    """The models cannot run at the requested crop."""


def _forward(model: nn.Module, crop: Sequence[int]) -> None:
    inputs = torch.randn(1, 3, *crop)
    if is_point_rend(model):
        # MMSeg has no tensor mode for PointRend: its dense map is the coarse head's
        model.decode_head[0].forward(model.extract_feat(inputs))
    else:
        model(inputs, None, mode='tensor')


def smallest_working_crop(models: Sequence[nn.Module], limit: int = 1024):
    """The smallest square crop (multiple of 32) at which every model runs, or None."""
    for side in range(32, limit + 1, 32):
        try:
            with torch.no_grad():
                for model in models:
                    _forward(model, (side, side))
            return side
        except (RuntimeError, ValueError, IndexError):
            continue
    return None


def check_crop(models: Sequence[nn.Module], names: Sequence[str], crop: Sequence[int]) -> None:
    """Raise ``CropTooSmall`` naming the crop and the smallest one that works if a model fails
    to run at ``crop`` because of it (other errors pass through)."""
    for model, name in zip(models, names):
        try:
            with torch.no_grad():
                _forward(model, crop)
        except (RuntimeError, ValueError, IndexError) as error:
            smallest = smallest_working_crop(models)
            if smallest is None or smallest <= min(crop):
                raise
            raise CropTooSmall(
                f'the {name} cannot run at --crop {crop[0]} {crop[1]} ({error}); the smallest '
                f'square crop at which both models run is {smallest}x{smallest}: pass '
                f'--crop {smallest} {smallest} or larger.') from error


def inspect_model(model: nn.Module, crop: Sequence[int]) -> List[RecordingPoint]:
    """Every candidate recording point of an MMSeg segmentor, from one forward at ``crop``."""
    from ..models.task_modules.seg_head_recorders import SegHeadFeatureRecorder, SegLogitsRecorder
    found, hooks = [], []

    def shape_hook(name, what):
        def hook(module, inputs, output):
            maps = output if isinstance(output, (list, tuple)) else [output]
            for index, value in enumerate(maps):
                if isinstance(value, torch.Tensor) and value.dim() == 4:
                    label = f'{name}[{index}]' if len(maps) > 1 else name
                    found.append((label, what, value.shape[1], tuple(value.shape[-2:])))
        return hook

    modules = dict(model.named_modules())
    for name, what in (('backbone', 'stage'), ('neck', 'neck')):
        if name in modules:
            hooks.append(modules[name].register_forward_hook(shape_hook(name, what)))
    family = head_family(model).name
    recorders = {}
    for kind, cls in (('head feature', SegHeadFeatureRecorder), ('logits', SegLogitsRecorder)):
        recorder = cls()
        try:
            recorder.initialize(model)
            recorders[kind] = recorder
        except ValueError:
            found.append((f'{cls.__name__[:-8]} ({family})', f'{kind}: not available', 0,
                          (0, 0)))
    for recorder in recorders.values():
        recorder.__enter__()
    try:
        with torch.no_grad():
            _forward(model, crop)
    finally:
        for recorder in recorders.values():
            recorder.__exit__(None, None, None)
        for hook in hooks:
            hook.remove()
    for kind, recorder in recorders.items():
        value = recorder.data_buffer[0]
        source = {'head feature': 'SegHeadFeature', 'logits': 'SegLogits'}[kind]
        found.append((f'{source} ({family})', kind, value.shape[1], tuple(value.shape[-2:])))
    aux = getattr(model, 'auxiliary_head', None)
    if aux is not None:  # auxiliary heads only run in training: run them on the features
        with torch.no_grad():
            features = model.extract_feat(torch.randn(1, 3, *crop))
            heads = list(aux) if isinstance(aux, nn.ModuleList) else [aux]
            own = own_class_heads(model)
            for index, head in enumerate(heads):
                prefix = f'auxiliary_head.{index}' if isinstance(aux, nn.ModuleList) \
                    else 'auxiliary_head'
                out = head.forward(features)
                out = out[0] if isinstance(out, (list, tuple)) else out
                what = 'auxiliary logits'
                if prefix in own:  # e.g. STDC's detail head: not the data set's classes
                    what = f'{own[prefix][0]} logits ({own[prefix][1]} classes of its own)'
                found.append((f'{prefix}.conv_seg', what, out.shape[1], tuple(out.shape[-2:])))
    return [RecordingPoint(name, what, channels, size, crop[0] // size[0] if size[0] else 0)
            for name, what, channels, size in found]


def format_side_by_side(teacher: Sequence[RecordingPoint],
                        student: Sequence[RecordingPoint]) -> str:
    rows = [('model', 'recording point', 'what', 'channels', 'size', 'stride')]
    for side, points in (('teacher', teacher), ('student', student)):
        for p in points:
            rows.append((side, p.name, p.what, str(p.channels), f'{p.size[0]}x{p.size[1]}',
                         str(p.stride)))
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    return '\n'.join('  '.join(cell.ljust(width) for cell, width in zip(row, widths))
                     for row in rows)

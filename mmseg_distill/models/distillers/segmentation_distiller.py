import difflib
from inspect import Parameter, signature
from typing import Any, Dict, List, Optional

import torch
from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.models.task_modules.recorder import ModuleInputsRecorder, ModuleOutputsRecorder
from mmrazor.registry import MODELS
from torch import nn

from ..task_modules.seg_head_recorders import SegHeadRecorder
from ..utils import check_loss_weight, to_float32
from .composition import compose_distiller

_MODULE_RECORDERS = (ModuleOutputsRecorder, ModuleInputsRecorder)


def disable_inplace(model: nn.Module) -> int:
    """Set ``inplace=False`` on every module that has the flag; returns how many changed.

    MMRazor's own version walks ``_modules`` expecting an OrderedDict; since torch 2.5 it is a
    plain dict and the walk silently stops at the root, so in-place ReLUs stay in-place and can
    overwrite a recorded tensor after it was recorded.
    """
    changed = 0
    for module in model.modules():
        if isinstance(getattr(module, 'inplace', None), bool) and module.inplace:
            module.inplace = False
            changed += 1
    return changed


def _versions(value: Any):
    if isinstance(value, torch.Tensor):
        return value._version
    if isinstance(value, (list, tuple)):
        return tuple(_versions(v) for v in value)
    return None


def _shapes(value: Any):
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if isinstance(value, (list, tuple)):
        return [_shapes(v) for v in value]
    return type(value).__name__


@MODELS.register_module()
class SegmentationDistiller(ConfigurableDistiller):
    """``ConfigurableDistiller`` with the checks segmentation distillation needs.

    On top of MMRazor's distiller:

    - ``compose``: the terms of one or more methods, the other keys merged on top
      (``composition.py``: shared recorders, a loss defined twice is an error);
    - a loss argument may map to a *list* of records, passed to the loss as a list (PSD's
      ``feats_S``/``feats_T`` from several recorders); a single record that is a tuple (e.g.
      the backbone's stage outputs) is passed as it is;
    - at build time: every loss name contains ``'loss'`` (otherwise MMEngine logs it but never
      backpropagates it), every required forward argument of a loss is mapped, every recorder
      and connector named in a mapping exists, and every module recorder's source is a module of
      its model (the error lists the closest names);
    - in-place activations are switched off in student and teacher (see ``disable_inplace``),
      and a record that was modified in place after it was recorded (e.g. by ``out +=
      identity``) is an error, never a silently different value;
    - at the first iteration: a recorder that recorded nothing, and a connector that does not
      fit the recorded shape, are errors that name the recorder, its source and the shapes;
    - connectors that only transform teacher records and have nothing to train
      (``frozen_teacher_connectors``, e.g. KA's stage-1 encoder) run on the teacher's side of
      the step (``teacher_side``, given by ``SegmentationDistill``: its precision).
    """

    def __init__(self, loss_forward_mappings: Optional[Dict[str, Dict]] = None,
                 compose: Optional[Dict[str, Dict]] = None, **kwargs):
        if compose is not None:  # the methods' terms, the other keys merged on top
            kwargs = compose_distiller(dict(kwargs, loss_forward_mappings=loss_forward_mappings),
                                       compose)
            loss_forward_mappings = kwargs.pop('loss_forward_mappings', None)
        super().__init__(loss_forward_mappings=None, **kwargs)
        self._check_loss_names()
        if loss_forward_mappings:
            self._check_mappings(loss_forward_mappings)
        self.loss_forward_mappings = loss_forward_mappings or dict()
        self._record_versions: Dict[str, List] = {}
        # side -> (model, recorder manager, {recorder: the module object it hooked})
        self._hooked: Dict[str, tuple] = {}
        self.frozen_teacher_connectors = self._frozen_teacher_connectors()
        self.teacher_side = None  # SegmentationDistill's TeacherSide, when it runs one

    def _frozen_teacher_connectors(self) -> List[str]:
        sides: Dict[str, set] = {}
        for forward_mapping in self.loss_forward_mappings.values():
            for records in forward_mapping.values():
                for record in (records if isinstance(records, (list, tuple)) else [records]):
                    if record.get('connector'):
                        sides.setdefault(record['connector'], set()).add(record['from_student'])
        return [name for name, used_by in sides.items() if used_by == {False} and
                not any(p.requires_grad for p in self.connectors[name].parameters())]

    # -- build-time checks -------------------------------------------------------------
    def _check_loss_names(self) -> None:
        for name, loss in self.distill_losses.items():
            if 'loss' not in name:
                raise ValueError(
                    f"distill loss '{name}' has no 'loss' in its name, so MMEngine would log it "
                    f"but not backpropagate it. Rename it, e.g. 'loss_{name}'.")
            if hasattr(loss, 'loss_weight'):
                check_loss_weight(f"distill loss '{name}' ({type(loss).__name__})",
                                  loss.loss_weight)

    def _check_mappings(self, mappings: Dict[str, Dict]) -> None:
        for loss_name, forward_mapping in mappings.items():
            if loss_name not in self.distill_losses:
                raise KeyError(f"loss_forward_mappings names '{loss_name}', which is not in "
                               f'distill_losses {sorted(self.distill_losses)}')
            loss = self.distill_losses[loss_name]
            params = signature(loss.forward).parameters
            for arg, records in forward_mapping.items():
                if arg not in params:
                    raise KeyError(f"{type(loss).__name__}.forward of '{loss_name}' has no "
                                   f"argument '{arg}'; it takes {list(params)}")
                for record in (records if isinstance(records, (list, tuple)) else [records]):
                    self._check_record(loss_name, arg, record)
            required = [n for n, p in params.items() if p.default is Parameter.empty and
                        p.kind in (Parameter.POSITIONAL_OR_KEYWORD, Parameter.KEYWORD_ONLY)]
            missing = [n for n in required if n not in forward_mapping]
            if missing:
                raise KeyError(f"'{loss_name}' ({type(loss).__name__}) needs the arguments "
                               f'{missing} in loss_forward_mappings')

    def _check_record(self, loss_name: str, arg: str, record: Dict) -> None:
        where = f"loss_forward_mappings['{loss_name}']['{arg}']"
        if not isinstance(record, dict) or 'recorder' not in record or \
                not isinstance(record.get('from_student'), bool):
            raise TypeError(f'{where} must be dict(recorder=..., from_student=True/False) or a '
                            f'list of such dicts, got {record!r}')
        side = 'student' if record['from_student'] else 'teacher'
        manager = self.student_recorders if record['from_student'] else self.teacher_recorders
        if record['recorder'] not in manager.recorders:
            raise KeyError(f"{where}: '{record['recorder']}' is not one of the {side}_recorders "
                           f'{sorted(manager.recorders)}')
        connector = record.get('connector')
        if connector is not None and connector not in self.connectors:
            raise KeyError(f"{where}: connector '{connector}' is not in connectors "
                           f'{sorted(self.connectors)}')

    def _prepare(self, manager, model: nn.Module, side: str) -> None:
        if side == 'student':
            # a record must be what the module returned; the teacher's side is the algorithm's
            # (MMRazor's teacher_module_inplace switch)
            disable_inplace(model)
        modules = dict(model.named_modules())
        for name, recorder in manager.recorders.items():
            if isinstance(recorder, _MODULE_RECORDERS + (SegHeadRecorder, )) and \
                    recorder.source not in modules:
                close = difflib.get_close_matches(recorder.source, list(modules), n=5,
                                                  cutoff=0.4)
                raise ValueError(
                    f"{side} recorder '{name}': source '{recorder.source}' is not a module of "
                    f'the {side} ({type(model).__name__}). Closest module names: {close}')
        manager.initialize(model)
        hooked = {}
        for name, recorder in manager.recorders.items():
            if isinstance(recorder, _MODULE_RECORDERS):
                modules[recorder.source].register_forward_hook(
                    self._version_hook(f'{side}.{name}', recorder))
                hooked[name] = modules[recorder.source]
        self._hooked[side] = (model, manager, hooked)

    def follow_replaced_modules(self) -> List[str]:
        """Hook every module recorder again whose source module object was replaced since it
        was hooked; the names of those recorders.

        A module recorder hooks the module *object* at its source name when the distiller is
        built. MMEngine's runner replaces norm layers after that: one process reverts SyncBN to
        BatchNorm (``Runner.wrap_model``), ``cfg.sync_bn`` converts BatchNorm to SyncBN in
        several, and the fragments' wrapper reverts SyncBN on CPU. A recorder on such a layer
        (AICSD's pair-wise term on ``decode_head.bottleneck.bn``) would then record nothing
        ("recorded 0 value(s)") while the new layer runs unobserved. So before a step records
        anything, each recorder's source is looked up by name again (a few attribute lookups
        per recorder) and, where it is another object now, the recorder and its in-place check
        are hooked on it."""
        moved = []
        for side, (model, manager, hooked) in self._hooked.items():
            for name, module in hooked.items():
                recorder = manager.recorders[name]
                current = model.get_submodule(recorder.source)
                if current is module:
                    continue
                recorder.prepare_from_model(model)  # hooks the module now at its source
                current.register_forward_hook(self._version_hook(f'{side}.{name}', recorder))
                hooked[name] = current
                moved.append(f'{side}.{name}')
        return moved

    def _version_hook(self, key: str, recorder):
        is_inputs = isinstance(recorder, ModuleInputsRecorder)

        def hook(module, inputs, outputs):
            if recorder.recording:
                versions = self._record_versions.setdefault(key, [])
                del versions[max(len(recorder.data_buffer) - 1, 0):]
                versions.append(_versions(inputs if is_inputs else outputs))

        return hook

    def prepare_from_student(self, model: nn.Module) -> None:
        self._prepare(self.student_recorders, model, 'student')

    def prepare_from_teacher(self, model: nn.Module) -> None:
        self._prepare(self.teacher_recorders, model, 'teacher')

    # -- run time ------------------------------------------------------------------------
    def get_record(self, recorder: str, from_student: bool, record_idx: int = 0,
                   data_idx: Optional[int] = None, connector: Optional[str] = None,
                   connector_idx: Optional[int] = None) -> Any:
        side = 'student' if from_student else 'teacher'
        manager = self.student_recorders if from_student else self.teacher_recorders
        recorder_ = manager.get_recorder(recorder)
        buffer = recorder_.data_buffer
        if record_idx >= len(buffer):
            hint = ''
            if recorder_.source.endswith('decode_head') or recorder_.source == 'auxiliary_head':
                hint = (" MMSeg 1.x heads call self.forward directly, so a hook on the head "
                        "itself never fires: record 'decode_head.conv_seg' (logits) or its "
                        'inputs (ModuleInputs, the head feature).')
            raise RuntimeError(
                f"{side} recorder '{recorder}' ({type(recorder_).__name__}, source "
                f"'{recorder_.source}') recorded {len(buffer)} value(s) in this forward pass, "
                f'but record_idx={record_idx} was asked for.{hint}')
        versions = self._record_versions.get(f'{side}.{recorder}')
        if versions is not None and record_idx < len(versions) and \
                _versions(buffer[record_idx]) != versions[record_idx]:
            raise RuntimeError(
                f"{side} recorder '{recorder}' (source '{recorder_.source}'): the recorded value "
                'was modified in place after the module returned it (e.g. by `x += y` in the '
                'parent block), so it no longer equals what the module produced. Record the '
                'enclosing block or the next module instead.')
        data = recorder_.get_record_data(record_idx, data_idx)
        if not from_student:
            # a teacher run in reduced precision (teacher_precision, AMP) hands its connectors
            # and losses float32 values: they are targets, not activations to save memory on
            data = to_float32(data)
        if connector:
            try:
                if connector in self.frozen_teacher_connectors and self.teacher_side:
                    data = self.teacher_side.apply(self.connectors[connector], data)
                else:
                    data = self.connectors[connector](data)
            except (RuntimeError, ValueError) as error:
                raise _with_context(
                    error, f"connector '{connector}' could not take the {side} record "
                    f"'{recorder}' of shape {_shapes(data)}: {error}. Match the connector "
                    'in_channel to the recorded channels.') from error
        if connector_idx is not None:
            data = data[connector_idx]
        # a loss may `.view` what it is given (MMRazor's ChannelWiseDivergence does); records
        # can be strided otherwise (SegFormer's logits are channels-last: its backbone reshapes
        # transposed token maps, and convolutions keep that layout)
        return _contiguous(data)

    def compute_distill_losses(self) -> Dict[str, torch.Tensor]:
        # Identical requests (same record, same connector) are served once per step: KA maps the
        # frozen teacher encoder into two losses, and running it twice would double its cost.
        cache: Dict[tuple, Any] = {}

        def fetch(record: Dict) -> Any:
            key = tuple(sorted(record.items()))
            if key not in cache:
                cache[key] = self.get_record(**record)
            return cache[key]

        losses = dict()
        for loss_name, forward_mapping in self.loss_forward_mappings.items():
            kwargs = {}
            for arg, records in forward_mapping.items():
                if isinstance(records, (list, tuple)):
                    kwargs[arg] = [fetch(r) for r in records]
                else:
                    kwargs[arg] = fetch(records)
            loss = self.distill_losses[loss_name]
            try:
                losses[loss_name] = loss(**kwargs)
            except (RuntimeError, ValueError, TypeError, IndexError) as error:
                raise _with_context(
                    error, f"distill loss '{loss_name}' ({type(loss).__name__}) could not take "
                    f'its inputs: {_describe_inputs(forward_mapping, kwargs)}. {error}') \
                    from error
        return losses


def _contiguous(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.contiguous()
    if isinstance(value, (list, tuple)):
        return type(value)(_contiguous(v) for v in value)
    return value


def _with_context(error: Exception, message: str) -> Exception:
    """The same kind of error with ``message`` (a RuntimeError where that kind cannot be made
    from a message alone)."""
    try:
        return type(error)(message)
    except Exception:  # exception types with other constructor arguments
        return RuntimeError(message)


def _describe_record(record: Dict) -> str:
    side = 'student' if record['from_student'] else 'teacher'
    text = f"{side} recorder '{record['recorder']}'"
    if record.get('data_idx') is not None:
        text += f"[{record['data_idx']}]"
    if record.get('connector'):
        text += f" through connector '{record['connector']}'"
    return text


def _describe_inputs(forward_mapping: Dict, kwargs: Dict) -> str:
    parts = []
    for arg, records in forward_mapping.items():
        records_ = records if isinstance(records, (list, tuple)) else [records]
        sources = ', '.join(_describe_record(r) for r in records_)
        parts.append(f'{arg} = {sources} of shape {_shapes(kwargs[arg])}')
    return '; '.join(parts)

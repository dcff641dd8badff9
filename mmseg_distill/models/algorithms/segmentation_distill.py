import warnings
from typing import Dict, List, Optional

import torch
from mmengine.runner import CheckpointLoader
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS
from torch import nn

from ...utils import state_dict_mismatch
from ...utils.data_check import check_batch_labels, label_spec
from ..distillers.segmentation_distiller import disable_inplace
from .teacher_side import TeacherSide


@MODELS.register_module()
class SegmentationDistill(SingleTeacherDistill):
    """MMRazor's ``SingleTeacherDistill`` for segmentation: the same switches, a safer teacher.

    Every switch of MMRazor's algorithm behaves as there
    (``tests/test_models/test_algorithms/test_algorithm_contract.py`` checks each against
    MMRazor's own algorithm): ``teacher_trainable`` (MMRazor's own step
    runs), ``teacher_norm_eval``, ``student_trainable``, ``calculate_student_loss``,
    ``teacher_module_inplace`` (which MMRazor's own walk no longer applies on torch >= 2.5),
    deliveries, and ``distillation_stopped`` (``StopDistillHook``): once stopped, no
    distillation loss is computed and the teacher is not run at all unless a delivery needs
    it. One difference, for speed: a student that is neither trained nor recorded (KA stage 1)
    is not run, where MMRazor runs it under ``no_grad`` only to update its BatchNorm
    statistics, which nothing reads.

    Differences in defaults, each what a segmentation user expects:

    - ``teacher_ckpt`` is loaded *strictly*: a checkpoint that does not match the teacher config
      (missing/unexpected keys, other shapes) is an error that lists them, instead of a log
      line and a partly random teacher. ``teacher_ckpt_strict=False`` loads the matching part.
    - A frozen teacher runs fully in eval mode (``teacher_eval=True``): MMRazor only freezes
      its BatchNorm statistics, which leaves the heads' dropout active, so the targets the
      student imitates are randomly masked every iteration. ``teacher_eval=False`` restores
      MMRazor's behaviour (then ``teacher_norm_eval`` decides about BatchNorm).
    - No ``teacher_ckpt`` for a frozen teacher is allowed (smoke tests) but warned about.
    - A training mask value that is neither a class index of the student nor its ignore index
      is an error naming the mask file, the value, ``num_classes`` and the ignore index
      (MMSeg's cross-entropy fails with a bare ``IndexError``, on CUDA a device assert).

    The frozen teacher's side of a step is ``self.teacher_side`` (``TeacherSide``):
    ``teacher_fast_path`` (default True) runs the teacher as MMSeg runs it for inference
    (``mode='tensor'``: no losses of its own, auxiliary heads only when a recorder reads one)
    where that records the very same values, else ``mode='loss'`` with the reason logged once;
    ``teacher_precision`` ('fp32' default, 'fp16', 'bf16') runs it in that precision, whatever
    the step runs in: 'fp16'/'bf16' under autocast (its records are promoted to float32 for the
    losses), 'fp32' with autocast switched off, so under ``--amp`` too;
    ``teacher_channels_last`` stores it in channels-last format. Precision and memory format
    also apply to the connectors that only transform teacher records and have nothing
    to train (KA's frozen stage-1 encoder).
    """

    def __init__(self, *args, teacher_ckpt: Optional[str] = None,
                 teacher_ckpt_strict: bool = True, teacher_eval: bool = True,
                 teacher_fast_path: bool = True, teacher_precision: str = 'fp32',
                 teacher_channels_last: bool = False, **kwargs):
        self.teacher_eval = teacher_eval
        super().__init__(*args, teacher_ckpt=None, **kwargs)
        if teacher_ckpt:
            self.load_teacher(teacher_ckpt, teacher_ckpt_strict)
        elif not self.teacher_trainable:
            warnings.warn('SegmentationDistill: no teacher_ckpt is given, so the frozen teacher '
                          'keeps its random initialisation and the student distils noise. Set '
                          'model.teacher_ckpt to the trained teacher.')
        self.teacher_side = None
        if self.teacher_trainable:
            if teacher_precision != 'fp32' or teacher_channels_last:
                raise ValueError('teacher_precision and teacher_channels_last apply to a frozen '
                                 'teacher; a trainable teacher runs as MMRazor runs it')
            return
        deliveries = 'deliveries are configured (they record calls that mode=loss makes)' \
            if self.distiller.deliveries.deliveries else None
        self.teacher_side = TeacherSide(self.teacher, self.distiller.teacher_recorders,
                                        teacher_precision, teacher_channels_last,
                                        teacher_fast_path, [deliveries])
        self.teacher_side.adopt(self.distiller.connectors[name]
                                for name in self.distiller.frozen_teacher_connectors)
        self.distiller.teacher_side = self.teacher_side

    def set_module_inplace_false(self, root: nn.Module, root_name: str) -> None:
        """MMRazor's switch (``teacher_module_inplace=False``) with a walk that works on torch
        >= 2.5 (MMRazor's stops at the root there, since ``_modules`` became a plain dict)."""
        disable_inplace(root)

    def load_teacher(self, filename: str, strict: bool) -> None:
        checkpoint = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
        state = checkpoint.get('state_dict', checkpoint)
        own = self.teacher.state_dict()
        missing, unexpected, mismatched = state_dict_mismatch(own, state)
        if strict and (missing or unexpected or mismatched):
            raise ValueError(
                f'teacher_ckpt {filename} does not match the teacher config: {len(missing)} '
                f'missing keys {missing[:4]}, {len(unexpected)} unexpected {unexpected[:4]}, '
                f'{len(mismatched)} with other shapes (checkpoint vs config) {mismatched[:3]}. '
                'Check that teacher cfg_path is the config this checkpoint was trained with; '
                'teacher_ckpt_strict=False loads the matching part only.')
        self.teacher.load_state_dict(
            {k: v for k, v in state.items() if k in own and v.shape == own[k].shape},
            strict=False)
        # the runner's init_weights must not overwrite the loaded teacher
        self.teacher._is_init = True

    def train(self, mode: bool = True) -> None:
        super().train(mode)
        if mode and self.teacher_eval and not self.teacher_trainable:
            self.teacher.eval()

    def record_teacher(self, inputs: torch.Tensor, data_samples=None) -> None:
        """Run the frozen teacher for this step's records (and deliveries), as a step does."""
        distiller = self.distiller
        distiller.set_deliveries_override(False)
        with distiller.teacher_recorders, distiller.deliveries:
            self.teacher_side.run(inputs, data_samples)
        distiller.set_deliveries_override(True)

    def label_spec(self):
        """(num_classes, ignore_index) of the student's (last) decode head, or None."""
        return label_spec(self.student)

    def loss(self, batch_inputs: torch.Tensor,
             data_samples: Optional[List] = None) -> Dict[str, torch.Tensor]:
        spec = self.label_spec()
        if spec is not None and data_samples:
            check_batch_labels(data_samples, *spec)
        # the runner may have replaced recorded norm layers (SyncBN <-> BatchNorm) since the
        # recorders were hooked
        self.distiller.follow_replaced_modules()
        if self.teacher_trainable:
            return super().loss(batch_inputs, data_samples)
        distiller = self.distiller
        stopped = self.distillation_stopped
        if not stopped or distiller.deliveries.deliveries:
            self.record_teacher(batch_inputs, data_samples)
        # once stopped, nothing reads the student's records
        recorders = distiller.student_recorders if not stopped else _NO_RECORDERS
        losses = dict()
        if self.calculate_student_loss:
            with recorders, distiller.deliveries:
                losses.update(add_prefix(self.student(batch_inputs, data_samples, mode='loss'),
                                         'student'))
        elif (recorders.recorders and not stopped) or self.student_trainable:
            # recorded or trained without its own loss: run it, with gradients only if trained
            grad = torch.enable_grad() if self.student_trainable else torch.no_grad()
            with recorders, distiller.deliveries, grad:
                self.student(batch_inputs, data_samples, mode='loss')
        if not stopped:
            losses.update(add_prefix(distiller.compute_distill_losses(), 'distill'))
        return losses


class _NoRecorders:
    """A recorder manager that records nothing (the student once distillation stopped)."""

    recorders: dict = {}

    def __enter__(self):
        return self

    def __exit__(self, *args):
        return False


_NO_RECORDERS = _NoRecorders()

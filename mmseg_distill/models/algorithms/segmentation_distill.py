import warnings
from typing import Dict, List, Optional

import torch
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader

from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS
from ...utils import state_dict_mismatch
from ..utils import TEACHER_PRECISIONS, teacher_autocast
from .teacher_fast_path import fast_path_blocker, run_teacher_fast


@MODELS.register_module()
class SegmentationDistill(SingleTeacherDistill):
    """``SingleTeacherDistill`` that refuses to distil from the wrong teacher.

    Differences from MMRazor's algorithm, each a default a segmentation user expects:

    - ``teacher_ckpt`` is loaded *strictly*: a checkpoint that does not match the teacher config
      (missing/unexpected keys, other shapes) is an error that lists them, instead of a log
      line and a partly random teacher. ``teacher_ckpt_strict=False`` restores the old
      behaviour.
    - A frozen teacher runs fully in eval mode (``teacher_eval=True``): MMRazor only freezes
      its BatchNorm statistics, which leaves the heads' dropout active, so the targets the
      student imitates are randomly masked every iteration.
    - No ``teacher_ckpt`` for a frozen teacher is allowed (smoke tests) but warned about.
    - Teacher fast path (``teacher_fast_path=True``, default): the frozen teacher runs as MMSeg
      runs it for inference (``mode='tensor'``: backbone, neck, decode head(s)) instead of
      ``mode='loss'``, so it computes no loss of its own, and its auxiliary heads only when a
      teacher recorder reads one. It is used where that records the very same values: an
      ``EncoderDecoder``/``CascadeEncoderDecoder`` teacher whose heads compute their training
      output with ``forward`` (every head but PointRend's and the mask-classification heads)
      and whose recorders are module recorders; otherwise the plain path runs and the reason
      is logged once. ``teacher_precision`` ('fp32' default, 'fp16', 'bf16') runs the teacher
      under autocast in that precision (its records are promoted to float32 for the losses);
      'fp32' adds no autocast (an outer AMP context still applies). ``teacher_channels_last``
      stores the teacher and its input in channels-last memory format (faster convolutions on
      recent GPUs; default off, as it can change float rounding). Both also apply to the
      connectors that only transform teacher records and have nothing to train (KA's frozen
      stage-1 encoder): they are part of the teacher's side of a step. A student that is
      neither trained nor recorded (KA stage 1) is not run at all.
    """

    def __init__(self, *args, teacher_ckpt: Optional[str] = None,
                 teacher_ckpt_strict: bool = True, teacher_eval: bool = True,
                 teacher_fast_path: bool = True, teacher_precision: str = 'fp32',
                 teacher_channels_last: bool = False, **kwargs):
        if teacher_precision not in TEACHER_PRECISIONS:
            raise ValueError(f'teacher_precision must be one of {sorted(TEACHER_PRECISIONS)}, '
                             f'got {teacher_precision!r}')
        self.teacher_eval = teacher_eval
        super().__init__(*args, teacher_ckpt=None, **kwargs)
        if teacher_ckpt:
            self.load_teacher(teacher_ckpt, teacher_ckpt_strict)
        elif not self.teacher_trainable:
            warnings.warn('SegmentationDistill: no teacher_ckpt is given, so the frozen teacher '
                          'keeps its random initialisation and the student distils noise. Set '
                          'model.teacher_ckpt to the trained teacher.')
        self.teacher_precision = teacher_precision
        self.teacher_channels_last = teacher_channels_last
        if not self.teacher_trainable:
            self.distiller.teacher_precision = teacher_precision
        if teacher_channels_last:
            self.teacher.to(memory_format=torch.channels_last)
            for name in self.distiller.frozen_teacher_connectors:
                self.distiller.connectors[name].to(memory_format=torch.channels_last)
        self.teacher_fast_path = teacher_fast_path
        self.fast_path_blocker = fast_path_blocker(self.teacher, self.distiller.teacher_recorders,
                                                   self.teacher_trainable)
        if teacher_fast_path and self.fast_path_blocker:
            print_log(f'SegmentationDistill: teacher fast path off: {self.fast_path_blocker}',
                      logger='current')

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

    @property
    def uses_teacher_fast_path(self) -> bool:
        return self.teacher_fast_path and not self.fast_path_blocker

    def _run_teacher(self, inputs: torch.Tensor, data_samples) -> None:
        if self.teacher_channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        with torch.no_grad(), teacher_autocast(inputs.device.type, self.teacher_precision):
            if self.uses_teacher_fast_path:
                run_teacher_fast(self.teacher, inputs, data_samples,
                                 self.distiller.teacher_recorders)
            else:
                self.teacher(inputs, data_samples, mode='loss')

    def loss(self, batch_inputs: torch.Tensor,
             data_samples: Optional[List] = None) -> Dict[str, torch.Tensor]:
        if self.teacher_trainable:
            return super().loss(batch_inputs, data_samples)
        distiller = self.distiller
        distiller.set_deliveries_override(False)
        with distiller.teacher_recorders, distiller.deliveries:
            self._run_teacher(batch_inputs, data_samples)
        distiller.set_deliveries_override(True)
        losses = dict()
        if self.calculate_student_loss:
            with distiller.student_recorders, distiller.deliveries:
                losses.update(add_prefix(self.student(batch_inputs, data_samples, mode='loss'),
                                         'student'))
        elif distiller.student_recorders.recorders or self.student_trainable:
            # recorded or trained without its own loss: run it, with gradients only if trained
            grad = torch.enable_grad() if self.student_trainable else torch.no_grad()
            with distiller.student_recorders, distiller.deliveries, grad:
                self.student(batch_inputs, data_samples, mode='loss')
        losses.update(add_prefix(distiller.compute_distill_losses(), 'distill'))
        return losses

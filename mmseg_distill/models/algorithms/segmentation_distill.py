import warnings
from typing import Optional

from mmengine.runner import CheckpointLoader

from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.registry import MODELS
from ...utils import state_dict_mismatch


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
    """

    def __init__(self, *args, teacher_ckpt: Optional[str] = None,
                 teacher_ckpt_strict: bool = True, teacher_eval: bool = True, **kwargs):
        self.teacher_eval = teacher_eval
        super().__init__(*args, teacher_ckpt=None, **kwargs)
        if teacher_ckpt:
            self.load_teacher(teacher_ckpt, teacher_ckpt_strict)
        elif not self.teacher_trainable:
            warnings.warn('SegmentationDistill: no teacher_ckpt is given, so the frozen teacher '
                          'keeps its random initialisation and the student distils noise. Set '
                          'model.teacher_ckpt to the trained teacher.')

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

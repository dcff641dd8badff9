from typing import Optional

import torch
from mmrazor.models.task_modules.recorder.base_recorder import BaseRecorder
from mmrazor.registry import TASK_UTILS
from torch import nn


class RecordingFlag:
    """``_recording`` is True inside the recorder's context (hooks record only then)."""

    def __enter__(self):
        super().__enter__()
        self._recording = True

    def __exit__(self, exc_type, exc_value, traceback):
        super().__exit__(exc_type, exc_value, traceback)
        self._recording = False


@TASK_UTILS.register_module()
class GroundTruthSegRecorder(RecordingFlag, BaseRecorder):
    """Records the ground-truth label maps of the batch a segmentor is called with.

    Config type ``'GroundTruthSeg'``. MMRazor's recorders see modules and methods, not the data
    samples; losses that leave out ignored/padded pixels (``gt_seg`` argument) need the labels.
    A forward pre-hook on the model reads ``data_samples`` (second positional argument or
    keyword) and stores ``(N, H, W)`` labels, stacked as the data preprocessor padded them.
    ``source`` is the name of the segmentor sub-module to hook; '' (default) hooks the model.
    """

    def __init__(self, source: str = '') -> None:
        super().__init__(source)
        self._recording = False

    def prepare_from_model(self, model: Optional[nn.Module] = None) -> None:
        if model is None:
            raise ValueError('GroundTruthSegRecorder needs the model to hook')
        target = dict(model.named_modules()).get(self.source)
        if target is None:
            raise ValueError(f"GroundTruthSegRecorder source '{self.source}' is not a module "
                             'of the model; use \'\' for the segmentor itself')
        target.register_forward_pre_hook(self._pre_hook, with_kwargs=True)

    def _pre_hook(self, module, args, kwargs):
        if not self._recording:
            return
        samples = kwargs.get('data_samples', args[1] if len(args) > 1 else None)
        if not samples:
            return
        labels = [s.gt_sem_seg.data for s in samples if 'gt_sem_seg' in s]
        if len(labels) == len(samples):
            self.data_buffer.append(torch.stack(labels).squeeze(1))

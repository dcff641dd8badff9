from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmrazor.registry import HOOKS

from ...utils.data_check import check_batch_labels, label_spec


@HOOKS.register_module()
class LabelCheckHook(Hook):
    """Check every training batch's masks before the model sees them: a value that is neither a
    class index of the model nor its ignore index is a ``LabelError`` naming the mask file, the
    value, ``num_classes`` and the ignore index.

    MMSeg's cross-entropy fails on such a value with a bare ``IndexError: Target 7 is out of
    bounds`` (on CUDA a device-side assert) and no file name. ``SegmentationDistill`` makes the
    same check for a distillation run; this hook gives the student trained alone (the pair
    tool's baseline and the exported student config, both ``student_config_from``) the same
    error. The class count and ignore index are the (last) decode head's
    (``utils.data_check.label_spec``); a model without one is not checked. One device
    synchronisation per batch, on masks still on the CPU.
    """

    priority = 'VERY_HIGH'

    def __init__(self):
        self._spec = None

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self._spec = label_spec(model)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self._spec is None or not isinstance(data_batch, dict):
            return
        samples = data_batch.get('data_samples')
        if samples:
            check_batch_labels(samples, *self._spec)

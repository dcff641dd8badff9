from typing import Dict, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmrazor.registry import HOOKS

from ..shares import BAND


def _value(value) -> float:
    """A logged loss as a float (detached: float() of a tensor that needs grad warns)."""
    return float(value.detach()) if hasattr(value, 'detach') else float(value)


@HOOKS.register_module()
class TermShareHook(Hook):
    """Logs each distillation term's share of the student's task loss while training, and
    warns once per term when its running share leaves the band that ``tools/inspect_pair.py``
    keeps terms in at initialisation ([1e-3, 100] x the task loss): a relation term can wake
    up or take over as the student learns, which no check at initialisation sees.

    The share of ``distill.loss_x`` is its weighted value divided by the sum of the student's
    own losses (``student.*loss*``) in the same iteration, averaged over ``window``
    iterations (exponentially); it is logged as ``share_loss_x``. Terms whose weight is 0 at
    the moment (scheduled by ``AdaptiveLossWeightHook``) and iterations without a task loss are
    left out. Add it to any leaf with
    ``default_hooks = dict(term_shares=dict(type='mmrazor.TermShareHook'))`` (the pair tool's
    leaves have it).
    """

    priority = 'BELOW_NORMAL'

    def __init__(self, window: int = 50):
        if window < 1:
            raise ValueError(f'window must be >= 1, got {window}')
        self.window = window
        self._mean: Dict[str, float] = {}
        self._seen: Dict[str, int] = {}
        self._warned = set()

    @staticmethod
    def _weight(runner, name: str) -> Optional[float]:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        losses = getattr(getattr(model, 'distiller', None), 'distill_losses', {})
        loss = losses[name] if name in losses else None
        return None if loss is None else float(getattr(loss, 'loss_weight', 1.0))

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        if not outputs:
            return
        task = sum(_value(v) for k, v in outputs.items()
                   if k.startswith('student.') and 'loss' in k.split('.')[-1])
        if task <= 0:
            return
        decay = 1.0 / self.window
        for key, value in outputs.items():
            if not key.startswith('distill.') or 'loss' not in key:
                continue
            name = key[len('distill.'):]
            if self._weight(runner, name) == 0:
                continue
            share = _value(value) / task
            mean = self._mean.get(name, share)
            self._mean[name] = mean = mean + decay * (share - mean)
            self._seen[name] = self._seen.get(name, 0) + 1
            runner.message_hub.update_scalar(f'train/share_{name}', share)
            if self._seen[name] >= self.window and name not in self._warned and \
                    not BAND[0] <= mean <= BAND[1]:
                self._warned.add(name)
                state = 'dead' if mean < BAND[0] else 'dominant'
                runner.logger.warning(
                    f'TermShareHook: {key} is {state}: its mean share of the student\'s task '
                    f'loss over the last ~{self.window} iterations is {mean:.3g}, outside '
                    f'[{BAND[0]:g}, {BAND[1]:g}]. Its weight ({self._weight(runner, name):g}) '
                    'was set for another scale; tools/inspect_pair.py (--teacher-ckpt) and '
                    'tools/calibrate_weights.py measure one that fits.')

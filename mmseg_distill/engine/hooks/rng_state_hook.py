import torch
from mmengine.hooks import Hook
from mmrazor.registry import HOOKS


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the torch RNG state in checkpoints so a resumed run continues exactly.

    MMEngine re-seeds at start-up and then skips the batches already trained, which replays the
    data pipeline's random stream (numpy/python in the main process, or the workers' own
    streams). The torch stream, however, was also consumed by the model (dropout) in the
    original run, so after ``--resume`` dropout masks differ and so do the losses. This hook
    stores the torch (and CUDA) RNG state with each checkpoint and restores it just before the
    first resumed iteration, after the skip. numpy/python states are deliberately not restored:
    the skip already brings them to where the original run was.

    With DDP only rank 0 writes checkpoints, so every rank restores rank 0's state: the resumed
    run is then deterministic but its dropout masks on ranks > 0 differ from the original's.
    """

    priority = 'VERY_HIGH'

    def __init__(self):
        self._pending = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = {'torch': torch.get_rng_state()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state()
        checkpoint['rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get('rng_state')

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self._pending is None:
            return
        torch.set_rng_state(self._pending['torch'])
        if 'cuda' in self._pending and torch.cuda.is_available():
            torch.cuda.set_rng_state(self._pending['cuda'])
        self._pending = None

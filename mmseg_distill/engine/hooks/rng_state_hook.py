import random

import numpy as np
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

    Validation must not move the training streams either: creating the validation
    dataloader's iterator draws from the torch stream, and a validation that ran at the
    checkpoint's iteration (after the checkpoint was written) then shifted the uninterrupted
    run's later dropout masks away from the resumed run's. So every random state (torch, CUDA,
    numpy, python) is saved before each validation inside training and put back after it:
    training continues from the state it had, as it does after ``--resume``.

    With DDP only rank 0 writes checkpoints, so every rank restores rank 0's state: the resumed
    run is then deterministic but its dropout masks on ranks > 0 differ from the original's.
    """

    priority = 'VERY_HIGH'

    def __init__(self):
        self._pending = None
        self._before_val = None

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

    def before_val(self, runner) -> None:
        state = {'torch': torch.get_rng_state(), 'numpy': np.random.get_state(),
                 'python': random.getstate()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        self._before_val = state

    def after_val(self, runner) -> None:
        state, self._before_val = self._before_val, None
        if state is None:
            return
        torch.set_rng_state(state['torch'])
        np.random.set_state(state['numpy'])
        random.setstate(state['python'])
        if 'cuda' in state:
            torch.cuda.set_rng_state_all(state['cuda'])

import random

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import CheckpointHook, Hook
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

    With several processes only rank 0 writes checkpoints, but with
    ``randomness.diff_rank_seed=True`` (MMEngine then seeds rank r with seed + r) each rank
    draws its own dropout masks. So at an iteration whose end a ``CheckpointHook`` saves (its
    own rule: interval, ``save_begin``, ``save_last``; every iteration where the runner has no
    such hook) every rank's state is gathered to all ranks, and the checkpoint holds one per
    rank; after ``--resume`` each rank restores its own, and the resumed run equals the
    uninterrupted one.
    A checkpoint of another number of processes (or of one that held rank 0's state only)
    gives every rank rank 0's state.
    """

    priority = 'VERY_HIGH'

    def __init__(self):
        self._pending = None
        self._before_val = None
        self._ranks = None

    @staticmethod
    def _state() -> dict:
        state = {'torch': torch.get_rng_state()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state()
        return state

    @staticmethod
    def _saves_after(runner) -> bool:
        """Whether a checkpoint hook of the runner saves at the end of this iteration."""
        hooks = [h for h in runner.hooks if isinstance(h, CheckpointHook)]
        if not hooks:
            return True
        return any(not h.by_epoch and (
            h.every_n_train_iters(runner, h.interval, h.save_begin) or
            (h.save_last and h.is_last_train_iter(runner))) for h in hooks)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        # before the checkpoint hook (lower priority) of the same iteration saves; a collective,
        # so every rank decides alike (the same iteration, the same hooks)
        if get_world_size() > 1 and self._saves_after(runner):
            self._ranks = all_gather_object(self._state())

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = self._state()
        ranks = self._ranks
        if get_world_size() > 1 and ranks and len(ranks) == get_world_size():
            state['ranks'] = ranks
        checkpoint['rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('rng_state')
        ranks = (state or {}).get('ranks')
        if ranks and len(ranks) == get_world_size():
            state = ranks[get_rank()]
        self._pending = state

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

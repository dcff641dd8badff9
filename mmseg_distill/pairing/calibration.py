"""Loss weights from measurement: each distillation term's weighted value against the
student's task loss at the student's initialisation (``mmseg_distill.engine.shares``), and the
weights derived from it.

Two rules, both re-runnable, are what the recipes cite where no source publishes a weight:

- the pair tool's band (``in_band_weights``): a term whose source weight puts it outside
  ``BAND`` x the task loss gets the weight that brings it inside, with the measurement in the
  leaf's comment (``tools/inspect_pair.py``);
- matching (``reference_weights``, ``balance_weight``): a term gets the weight that gives it a
  reference config's weighted magnitude, or another term's (``tools/calibrate_weights.py``).
"""
import logging
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from ..engine.shares import (BAND, TermStats, apply_start_factors, measure_terms,
                             schedule_start_factors)
from .check import build_leaf_model, measure_leaf


def measure_leaf_shares(leaf: str, pair, stage1_checkpoint: Optional[str], batches: int,
                        data_cfg, device='cpu'
                        ) -> Tuple[Dict[str, TermStats], float, Optional[float]]:
    """(each term of ``leaf``, the task loss, the task loss's schedule factor) as the pair tool
    reports them: the first iteration's factors of a weight schedule applied, the same random
    student and batches every call (so ``--check`` reproduces the table's figures)."""
    from mmengine.config import Config
    from mmengine.runner import set_random_seed
    set_random_seed(0)
    model = build_leaf_model(leaf, stage1_checkpoint, pair.teacher_ckpt, device)
    terms, task = measure_leaf(model, pair.crop, pair.num_classes or 19, batches, data_cfg)
    factors, task_factor = schedule_start_factors(Config.fromfile(leaf))
    apply_start_factors(terms, factors)
    return terms, task, task_factor


def in_band_weights(terms: Dict[str, TermStats], calibrate: bool, what: str
                    ) -> Tuple[Dict[str, Tuple[float, str]], List[str]]:
    """({loss: (weight, comment)} for the out-of-band terms when ``calibrate``, notes naming
    each out-of-band term with the weight that would bring it in otherwise). ``what`` says
    what the measurement ran on (teacher, data, batches); it goes into the comment."""
    weights, notes = {}, []
    for name, term in terms.items():
        target = term.weight_in_band()
        if target is None:
            continue
        found = (f'tools/inspect_pair.py measured {name} at {term.share:.3g} x the '
                 f"student's task loss with the fragment's (source) weight {term.weight:g} "
                 f'({what}); outside [{BAND[0]:g}, {BAND[1]:g}]')
        if calibrate:
            weight = float(f'{target:.4g}')
            weights[name] = (weight, f'calibration: {found}, so this project sets the weight '
                             f'that puts it at {weight / term.weight * term.share:.2g} x')
        else:
            notes.append(f'{found}; loss_weight={target:.4g} would bring it inside')
    return weights, notes


def build_with_data(config: str, options: Optional[dict], seed: int, device='cpu'):
    """(the distillation model of ``config`` initialised under ``seed`` on ``device``, its
    training loader): the same student and the same flips on every call with the same seed."""
    from mmengine.logging import MMLogger
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner, set_random_seed
    from mmrazor.registry import MODELS

    from ..utils.config import load_config

    # the build logs every initialised parameter: keep the table readable
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    cfg = load_config(config)
    if options:
        cfg.merge_from_dict(options)
    set_random_seed(seed)  # torch, numpy and random
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(device)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmseg')):
        loader = Runner.build_dataloader(cfg.train_dataloader, seed=seed)
    return model, loader


def measure_config(config: str, options: Optional[dict], batches: int, seed: int,
                   device='cpu') -> Tuple[Dict[str, TermStats], float]:
    """Every distillation term of ``config`` and the student's mean task loss over its first
    ``batches`` training batches, on ``device``."""
    model, loader = build_with_data(config, options, seed, device)

    def inputs() -> Iterator:
        for index, batch in enumerate(loader):
            if index == batches:
                return
            data = model.data_preprocessor(batch, True)
            yield data['inputs'], data['data_samples']

    return measure_terms(model, inputs())


def reference_weights(terms: Dict[str, TermStats], reference: Dict[str, TermStats]
                      ) -> Dict[str, float]:
    """w = w_ref * L_ref / L for every term the reference has under the same name: the
    weight that gives the term the reference's weighted magnitude."""
    return {name: reference[name].weighted / term.unweighted
            for name, term in terms.items() if name in reference}


def balance_weight(terms: Dict[str, TermStats], rule: str) -> Tuple[str, float]:
    """``'loss_a=loss_b'``: (loss_a, w_a = w_b * L_b / L_a), the weight that equals loss_a's
    weighted magnitude with loss_b's."""
    target, _, anchor = rule.partition('=')
    missing = [name for name in (target, anchor) if name not in terms]
    if not target or not anchor or missing:
        raise KeyError(f'--balance {rule!r}: expected LOSS_A=LOSS_B of the config\'s terms '
                       f'{sorted(terms)}' + (f'; {missing} not among them' if missing else ''))
    return target, terms[anchor].weighted / terms[target].unweighted


__all__: Sequence[str] = ('measure_leaf_shares', 'in_band_weights', 'build_with_data',
                          'measure_config', 'reference_weights', 'balance_weight')

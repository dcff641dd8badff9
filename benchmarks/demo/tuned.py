"""The demo's second table: every row at the weights the weight search chose for it on the tune
split (``mmseg_distill.pairing.search``), read from the search's own log (``search_<leaf>.json``).

A log counts only where it was made at the demo's regime (the same iterations, learning rate,
batch and data): weights chosen for one schedule need not suit another, so a log of another
regime is reported, with what differs, and not used. A row without a usable log is listed as
such; it is never filled with the shipped weights under the tuned heading.
"""
import json
import os.path as osp
import shlex
from dataclasses import dataclass, field
from typing import Dict, List, Optional

# the search command's options that fix the regime, and the demo preset's name for each
REGIME_OPTIONS = {
    'optim_wrapper.optimizer.lr': 'student_lr',
    'param_scheduler.0.end': 'student_iters',
    'train_dataloader.batch_size': 'batch',
    'train_dataloader.dataset.generator.num_train': 'num_train',
    'train_dataloader.dataset.generator.num_val': 'num_val',
    'train_dataloader.dataset.generator.size': 'size',
}

CHOSEN, MISSING, OTHER_REGIME = 'chosen', 'no search log', 'searched at another regime'


@dataclass
class Choice:
    """What the search chose for one row (``status`` CHOSEN), or why there is nothing."""
    label: str
    status: str
    log: str
    candidate: str = ''
    values: Dict[str, float] = field(default_factory=dict)
    shipped: Dict[str, float] = field(default_factory=dict)
    tied: List[str] = field(default_factory=list)
    reason: str = ''

    @property
    def changes_weights(self) -> bool:
        """Whether the chosen values differ from the shipped leaf's (else the shipped run is
        the tuned run: same config, same seed, same numbers)."""
        return self.status == CHOSEN and any(
            not _close(value, self.shipped.get(key)) for key, value in self.values.items())

    def options(self) -> List[str]:
        return [f'{key}={value!r}' for key, value in self.values.items()]


def _close(a: float, b: Optional[float]) -> bool:
    return b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def search_log(directory: str, leaf: str) -> str:
    return osp.join(directory, f'search_{osp.splitext(osp.basename(leaf))[0]}.json')


def regime_of(command: str) -> Dict[str, float]:
    """The regime a search command ran at: ``--iters`` and the REGIME_OPTIONS it set."""
    tokens = shlex.split(command)
    regime = {}
    if '--iters' in tokens:
        regime['student_iters'] = float(tokens[tokens.index('--iters') + 1])
    for token in tokens:
        key, _, value = token.partition('=')
        if key in REGIME_OPTIONS:
            regime[REGIME_OPTIONS[key]] = float(value)
    return regime


def regime_differences(command: str, preset: Dict) -> List[str]:
    """'name: search value != demo value' for every regime setting the two do not share (a
    setting the search command left at the leaf's default counts as different)."""
    found = regime_of(command)
    differences = []
    for name in sorted(set(REGIME_OPTIONS.values())):
        ours = preset.get(name)
        theirs = found.get(name)
        if ours is None:
            continue
        if theirs is None or not _close(float(ours), theirs):
            differences.append(f"{name}: {'not set' if theirs is None else f'{theirs:g}'} in "
                               f'the search, {ours:g} in the demo')
    return differences


def choose(directory: str, leaf: str, label: str, preset: Dict) -> Choice:
    """The row's choice from the search log of ``leaf`` in ``directory``."""
    path = search_log(directory, leaf)
    if not osp.exists(path):
        return Choice(label, MISSING, path, reason=f'{path} does not exist')
    with open(path) as f:
        log = json.load(f)
    differences = regime_differences(log['command'], preset)
    if differences:
        return Choice(label, OTHER_REGIME, path, reason='; '.join(differences))
    return Choice(label, CHOSEN, path, candidate=log['best'],
                  values=dict(log['candidates'][log['best']]), shipped=dict(log['shipped']),
                  tied=list(log.get('tied', [])))

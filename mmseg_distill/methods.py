"""The one list of methods and their forms: the pair tool, the demo, the benchmark and the
tests read it from here.

A method (``Method``) is what a user picks (``tools/inspect_pair.py --method``); its forms
(``Form``) are the recipes the project ships for it, one fragment each, and each is a row of
the demo's table (``configs/<directory>/<prefix>_<pair>.py`` is its leaf on a pair).
"""
from dataclasses import dataclass
from typing import Dict, Optional, Tuple


@dataclass(frozen=True)
class Form:
    label: str  # row label, e.g. 'DSD (CIRKD form)'
    fragment: str  # configs/_base_/distill/<fragment>
    prefix: str  # leaf file prefix, e.g. 'dsd-paper'
    stage1: Optional[str] = None  # a first stage's leaf prefix (KA)

    def leaf(self, directory: str, pair: str) -> str:
        return f'{directory}/{self.prefix}_{pair}.py'

    def stage1_leaf(self, directory: str, pair: str) -> Optional[str]:
        return f'{directory}/{self.stage1}_{pair}.py' if self.stage1 else None


@dataclass(frozen=True)
class Method:
    key: str  # --method value and configs/<directory>
    title: str
    fragment: str  # the default form's fragment: what the pair tool writes
    compares_logits: bool  # needs teacher and student to predict the same classes
    forms: Tuple[Form, ...]
    directory: str = ''

    def __post_init__(self):
        if not self.directory:
            object.__setattr__(self, 'directory', self.key)


METHODS: Dict[str, Method] = {m.key: m for m in (
    Method('pixel_kd', 'pixel KD', 'pixel_kd.py', True,
           (Form('pixel KD', 'pixel_kd.py', 'pixel-kd'), )),
    Method('dsd', 'DSD', 'dsd_cirkd.py', True,
           (Form('DSD (CIRKD form)', 'dsd_cirkd.py', 'dsd'),
            Form('DSD (paper form)', 'dsd_paper.py', 'dsd-paper'))),
    Method('ka', 'KA', 'ka_stage2.py', False,
           (Form('KA (torchdistill form)', 'ka_stage2.py', 'ka-stage2', stage1='ka-stage1'),
            Form('KA (paper form)', 'ka_stage2_paper.py', 'ka-stage2-paper',
                 stage1='ka-stage1'))),
    Method('pfs', 'PFS', 'pfs.py', True, (Form('PFS', 'pfs.py', 'pfs'), )),
    Method('aicsd', 'AICSD', 'aicsd_paper.py', True,
           (Form('AICSD (paper)', 'aicsd_paper.py', 'aicsd'),
            Form('AICSD (official ICSD)', 'aicsd_official_icsd.py', 'aicsd-official-icsd'),
            Form('AICSD (official command)', 'aicsd_official.py', 'aicsd-official'))),
)}


def all_forms():
    """(method, form) for every shipped recipe, in table order."""
    return [(method, form) for method in METHODS.values() for form in method.forms]

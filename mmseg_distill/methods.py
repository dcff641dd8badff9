"""The one registry of methods and their forms: the pair tool, the demo, the ablation tool, the
benchmark, the GPU check, the transfer measurement and the tests read everything they need to
know of a method from here.

A method (``Method``) is what a user picks (``tools/inspect_pair.py --method``); its forms
(``Form``) are the recipes the project ships for it, one fragment each, and each is a row of
the demo's table (``configs/<directory>/<prefix>_<pair>.py`` is its leaf on a pair). A form's
terms live in ``configs/_base_/distill/terms/<fragment>`` under the method's name
(``<key>_terms``, and ``<key>_hooks`` where it schedules weights); its fragment composes them
(``model.distiller.compose``), so methods combine in one leaf (``methods_of('dsd+pixel_kd')``).
A form states its fragment, leaf prefix, the distillation losses the fragment defines, the relations
``mmseg_distill.evidence`` measures for it, and its first stage where it has one (KA's
auto-encoder: the stage-1 leaf prefix and the connector that loads the stage-1 checkpoint). How the
pair tool plans a method's leaf for a pair nobody shipped is ``mmseg_distill.pairing.plans``'
table (``PLANNERS``), beside the planners: this module is data, and imports nothing of the
package but the composition rules it reads a distiller config with.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from .models.distillers.composition import flat_distiller


@dataclass(frozen=True)
class Stage1:
    """A first training stage that a form's leaf needs the checkpoint of (KA)."""
    prefix: str  # the stage-1 leaf's file prefix, e.g. 'ka-stage1'
    fragment: str  # configs/_base_/distill/<fragment>
    connector: str  # the connector of model.distiller.connectors that loads the checkpoint

    @property
    def checkpoint_key(self) -> str:
        """The config key (``--cfg-options``) that points stage 2 at a stage-1 checkpoint."""
        return f'model.distiller.connectors.{self.connector}.checkpoint'

    @property
    def checkpoint_prefix(self) -> str:
        """The key prefix of the connector's weights in a stage-1 checkpoint."""
        return f'distiller.connectors.{self.connector}.'


@dataclass(frozen=True)
class Form:
    label: str  # row label, e.g. 'DSD (CIRKD form)'
    fragment: str  # configs/_base_/distill/<fragment>
    prefix: str  # leaf file prefix, e.g. 'dsd-paper'
    losses: Tuple[str, ...]  # the distillation losses (model.distiller.distill_losses keys)
    relations: Tuple[str, ...]  # what mmseg_distill.evidence measures of what it distils
    stage1: Optional[Stage1] = None
    # its fragment schedules loss weights during training (AdaptiveLossWeightHook)
    weight_schedule: bool = False

    @property
    def terms(self) -> str:
        """configs/_base_/distill/<terms>: the file that defines the form's terms (the
        method's ``<key>_terms``, and ``<key>_hooks`` where it schedules weights)."""
        return f'terms/{self.fragment}'

    def leaf(self, directory: str, pair: str) -> str:
        return f'{directory}/{self.prefix}_{pair}.py'

    def stage1_leaf(self, directory: str, pair: str) -> Optional[str]:
        return f'{directory}/{self.stage1.prefix}_{pair}.py' if self.stage1 else None


@dataclass(frozen=True)
class Method:
    key: str  # --method value and configs/<directory>
    title: str
    compares_logits: bool  # needs teacher and student to predict the same classes
    forms: Tuple[Form, ...]
    directory: str = ''
    # a published baseline the seed methods are compared with (pixel KD, CWD, DIST)
    baseline: bool = False

    def __post_init__(self):
        if not self.directory:
            object.__setattr__(self, 'directory', self.key)

    @property
    def terms_variable(self) -> str:
        """The name its terms file gives the terms (``compose=dict(<key>=_base_.<this>)``)."""
        return f'{self.key}_terms'

    @property
    def hooks_variable(self) -> str:
        """The name its terms file gives its hooks, where a form schedules weights."""
        return f'{self.key}_hooks'

    @property
    def default(self) -> Form:
        """The form the pair tool writes (the first)."""
        return self.forms[0]

    @property
    def fragment(self) -> str:
        return self.default.fragment

    @property
    def stage1(self) -> Optional[Stage1]:
        return self.default.stage1


KA_STAGE1 = Stage1('ka-stage1', 'ka_stage1.py', 'teacher_autoencoder')

METHODS: Dict[str, Method] = {m.key: m for m in (
    Method('pixel_kd', 'pixel KD', True,
           (Form('pixel KD', 'pixel_kd.py', 'pixel-kd', ('loss_kd', ), ('logit_kl', )), ),
           baseline=True),
    Method('dsd', 'DSD', True,
           (Form('DSD (CIRKD form)', 'dsd_cirkd.py', 'dsd', ('loss_psd', 'loss_csd'),
                 ('psd', 'csd')),
            Form('DSD (paper form)', 'dsd_paper.py', 'dsd-paper', ('loss_psd', 'loss_csd'),
                 ('psd', 'csd')))),
    Method('ka', 'KA', False,
           (Form('KA (torchdistill form)', 'ka_stage2.py', 'ka-stage2',
                 ('loss_ka', 'loss_affinity'), ('ka_affinity', 'ka_cka'), KA_STAGE1),
            Form('KA (paper form)', 'ka_stage2_paper.py', 'ka-stage2-paper',
                 ('loss_ka', 'loss_affinity'), ('ka_affinity', 'ka_cka'), KA_STAGE1))),
    Method('pfs', 'PFS', True,
           (Form('PFS', 'pfs.py', 'pfs', ('loss_pfs', 'loss_wsi'), ('pfs', 'logit_kl')), )),
    Method('aicsd', 'AICSD', True,
           (Form('AICSD (paper)', 'aicsd_paper.py', 'aicsd', ('loss_icsd', 'loss_kd'),
                 ('icsd', 'logit_kl'), weight_schedule=True),
            Form('AICSD (official ICSD)', 'aicsd_official_icsd.py', 'aicsd-official-icsd',
                 ('loss_icsd', 'loss_kd'), ('icsd_official', 'logit_kl'), weight_schedule=True),
            Form('AICSD (official command)', 'aicsd_official.py', 'aicsd-official',
                 ('loss_pa', 'loss_kd'), ('pairwise', 'logit_kl')))),
    # MMRazor's own losses, the public baselines users compare the seed methods with
    Method('cwd', 'CWD (MMRazor)', True,
           (Form('CWD (MMRazor)', 'cwd.py', 'cwd', ('loss_cwd', ), ('cwd', )), ),
           baseline=True),
    Method('dist', 'DIST (MMRazor)', True,
           (Form('DIST (MMRazor)', 'dist.py', 'dist', ('loss_dist', ), ('dist', )), ),
           baseline=True),
)}


def all_forms() -> List[Tuple[Method, Form]]:
    """(method, form) for every shipped recipe, in table order."""
    return [(method, form) for method in METHODS.values() for form in method.forms]


def default_forms() -> List[Tuple[Method, Form]]:
    """(method, its default form) for every method, in table order: the demo's main table."""
    return [(method, method.default) for method in METHODS.values()]


def form_of(label: str) -> Tuple[Method, Form]:
    """The (method, form) of a row label."""
    for method, form in all_forms():
        if form.label == label:
            return method, form
    raise KeyError(f"no method form is labelled {label!r}; the forms: "
                   f"{[f.label for _, f in all_forms()]}")


def stage1_forms() -> List[Tuple[Method, Form]]:
    """The forms that train a first stage."""
    return [(method, form) for method, form in all_forms() if form.stage1]


def stage1_connector(distiller_cfg) -> Optional[Tuple[Stage1, dict]]:
    """(first stage, its connector's config) where a distiller config holds the connector that
    loads a first stage's checkpoint; None where it holds none."""
    connectors = flat_distiller(distiller_cfg).get('connectors', {}) or {}
    for _, form in stage1_forms():
        if form.stage1.connector in connectors:
            return form.stage1, connectors[form.stage1.connector]
    return None


def set_stage1_checkpoint(distiller_cfg, checkpoint) -> Optional[Tuple[Stage1, dict]]:
    """Point the connector that encodes with a first stage's weights at ``checkpoint`` (an
    override entry ``connectors.<connector>.checkpoint`` of ``distiller_cfg``, composed or
    flat); (first stage, the connector's config) where there is one, else None."""
    found = stage1_connector(distiller_cfg)
    if found is None or found[1].get('mode') != 'encode':
        return None
    stage, connector = found
    connectors = distiller_cfg.get('connectors')
    if connectors is None:
        distiller_cfg['connectors'] = connectors = {}
    if connectors.get(stage.connector) is None:
        connectors[stage.connector] = {}
    connectors[stage.connector]['checkpoint'] = checkpoint
    connector['checkpoint'] = checkpoint
    return stage, connector


def methods_of(spec: str) -> List[Method]:
    """The methods of ``--method`` (``dsd`` or a composition ``dsd+pixel_kd``), in order."""
    keys = [key.strip() for key in spec.split('+')]
    unknown = [key for key in keys if key not in METHODS]
    if unknown or not all(keys):
        raise KeyError(f"--method {spec!r}: {unknown or 'an empty name'} is not a method; the "
                       f"methods: {sorted(METHODS)}, composed with '+' (e.g. dsd+pixel_kd)")
    twice = sorted({key for key in keys if keys.count(key) > 1})
    if twice:
        raise KeyError(f'--method {spec!r} composes {twice} twice; each method once')
    return [METHODS[key] for key in keys]

"""Methods composed in one distiller: ``model.distiller.compose``.

Every method fragment fills ``compose`` with its terms, one entry per method
(``compose=dict(dsd=_base_.dsd_terms)``, the terms from ``_base_/distill/terms/<form>.py``), so
a leaf combines methods by adding entries (``compose=dict(dsd=..., pixel_kd=...)``), as
CIRKD's scripts add ``--lambda-kd`` beside another method and MMRazor sums several losses in
one distiller. The distiller's own keys (``distill_losses``, ``student_recorders``, ...) are the
leaf's overrides: they are merged onto the composed terms as MMEngine merges a child config
into its base (``_delete_`` included), so ``model.distiller.distill_losses.loss_kd.loss_weight``
sets a weight whichever method brought ``loss_kd``.

Rules, checked when the distiller is built:

- a recorder, delivery or connector that two methods define identically is shared (DSD and
  pixel KD read the same ``logits`` recorder once); defined differently it is an error. The
  ``_scope_='mmseg_distill'`` that MMEngine stamps on every entry of a file reached through
  ``mmseg_distill::`` says how the file was reached, not what the entry is (that scope's
  registries find what the distiller's scope finds, ``mmseg_distill/registry.py``), so it is
  left out of the comparison;
- a loss belongs to one method: two methods defining the same loss name is an error (two forms
  of one method, or two methods that both distil with it), whose message names both;
- an override (a distiller key outside ``compose``) of an entry no method defines and that
  has no ``type`` of its own is an error (a misspelt name would otherwise build nothing).
"""
import copy
from typing import Dict, Optional

# ConfigurableDistiller's arguments that hold named entries
SECTIONS = ('student_recorders', 'teacher_recorders', 'distill_deliveries', 'connectors',
            'distill_losses', 'loss_forward_mappings')
# the sections whose entries are built from a config (they carry a type)
_BUILT = ('student_recorders', 'teacher_recorders', 'distill_deliveries', 'connectors',
          'distill_losses')
_SHAREABLE = ('student_recorders', 'teacher_recorders', 'distill_deliveries', 'connectors')
_DELETE = '_delete_'
# the scope MMEngine stamps on entries loaded through ``mmseg_distill::`` (registry.SCOPE; not
# imported from there, which imports the whole package)
_PACKAGE_SCOPE = 'mmseg_distill'


class CompositionError(ValueError):
    """Methods that cannot be composed as written; the message says which and why."""


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _definition(value):
    """What an entry defines, for deciding whether two methods' entries are the same one."""
    if isinstance(value, dict):
        return {k: _definition(v) for k, v in value.items()
                if not (k == '_scope_' and v == _PACKAGE_SCOPE)}
    if isinstance(value, (list, tuple)):
        return type(value)(_definition(v) for v in value)
    return value


def _strip_delete(value):
    if isinstance(value, dict):
        return {k: _strip_delete(v) for k, v in value.items() if k != _DELETE}
    if isinstance(value, (list, tuple)):
        return type(value)(_strip_delete(v) for v in value)
    return value


def compose_terms(compose: Dict[str, dict]) -> Dict[str, dict]:
    """The union of the methods' terms, section by section (the rules in the module doc)."""
    merged: Dict[str, dict] = {section: {} for section in SECTIONS}
    owner: Dict[tuple, str] = {}
    for method, terms in compose.items():
        if terms is None:  # a leaf removes a method with compose=dict(name=None)
            continue
        if not isinstance(terms, dict):
            raise CompositionError(
                f"model.distiller.compose['{method}'] must be a method's terms (a dict of "
                f'{list(SECTIONS)}), e.g. _base_.{method}_terms from '
                f"_base_/distill/terms/<form>.py; got {type(terms).__name__}")
        unknown = sorted(set(terms) - set(SECTIONS))
        if unknown:
            raise CompositionError(
                f"model.distiller.compose['{method}'] has {unknown}, which a distiller does "
                f'not take; a method\'s terms hold {list(SECTIONS)}')
        for section, entries in terms.items():
            for name, entry in (entries or {}).items():
                key = (section, name)
                if key not in owner:
                    merged[section][name] = _plain(entry)
                    owner[key] = method
                    continue
                first = owner[key]
                if section in _SHAREABLE and \
                        _definition(entry) == _definition(merged[section][name]):
                    continue  # the same record or module: shared
                if section == 'distill_losses':
                    raise CompositionError(
                        f"model.distiller.compose: '{first}' and '{method}' both define the "
                        f"loss '{name}'. A leaf distils each "
                        'term once: compose a method once and in one form (two forms of one '
                        'method, or two methods that both carry this term, cannot be '
                        'combined); keep one of them, or rename the loss (and its '
                        'loss_forward_mappings entry) in one of the terms')
                if section == 'loss_forward_mappings':
                    continue  # follows its loss, whose clash is reported above
                raise CompositionError(
                    f"model.distiller.compose: '{first}' and '{method}' both define "
                    f"{section}['{name}'], differently ({merged[section][name]} vs "
                    f'{_plain(entry)}). Entries of one name are shared only when they are the '
                    'same; rename one of them (and the mappings that read it)')
    return {section: entries for section, entries in merged.items() if entries}


def compose_distiller(distiller: dict, compose: Optional[Dict[str, dict]] = None) -> dict:
    """The flat distiller config (``ConfigurableDistiller``'s arguments) of a distiller config
    with ``compose``: the composed terms with the distiller's own keys merged on top.

    ``compose`` given: ``distiller`` holds the other keys; else it is read from
    ``distiller['compose']``. A config without ``compose`` is returned as it is (flat)."""
    from mmengine.config import Config
    distiller = copy.deepcopy(_plain(distiller))
    if compose is None:
        compose = distiller.pop('compose', None)
    if compose is None:
        return distiller
    composed = compose_terms(copy.deepcopy(_plain(compose)))
    overrides = {k: v for k, v in distiller.items() if k in SECTIONS and v is not None}
    flat = _plain(Config._merge_a_into_b(copy.deepcopy(overrides), composed))
    for section in _BUILT:
        for name, entry in flat.get(section, {}).items():
            if isinstance(entry, dict) and 'type' not in entry:
                defined = sorted(composed.get(section, {}))
                raise CompositionError(
                    f"model.distiller.{section}.{name} changes an entry that none of the "
                    f'composed methods {sorted(compose)} defines (they define {defined}); '
                    'fix the name, or give the entry a type to add it')
    result = {k: v for k, v in distiller.items() if k not in SECTIONS}
    result.update(_strip_delete(flat))
    return result


def flat_distiller(distiller_cfg) -> dict:
    """What the distiller is built from, for code that reads a config before building it."""
    return compose_distiller(distiller_cfg or {})

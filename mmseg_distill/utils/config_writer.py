"""Writing a config's assignments as MMEngine reads them, with comments.

MMEngine's own dump (``Config.pretty_text``) writes values alone: it inlines what a leaf takes
from its ``_base_`` and drops comments, while a written leaf must keep both (a leaf refers to
``_base_.student_model``; each calibrated weight carries the measurement that set it). This is
the one writer the pair tool's leaves go through: plain values, ``BaseRef`` for a ``_base_``
variable, and comment lines attached to keys by their path.
"""
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

# a comment is attached to a key by its path from the assignment's value, e.g.
# ('distiller', 'distill_losses', 'loss_kd'); its lines go above that key
Comments = Mapping[Tuple[str, ...], Sequence[str]]
WIDTH = 100
INDENT = '    '


class BaseRef(str):
    """A variable of the config's ``_base_`` files, written unquoted: ``_base_.<name>``."""

    def __repr__(self) -> str:
        return f'_base_.{str(self)}'


def _has_comments(comments: Comments, path: Tuple[str, ...]) -> bool:
    return any(key[:len(path)] == path and len(key) > len(path) for key in comments)


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return 'dict(' + ', '.join(f'{k}={_inline(v)}' for k, v in value.items()) + ')'
    if isinstance(value, list):
        return '[' + ', '.join(_inline(v) for v in value) + ']'
    if isinstance(value, tuple):
        return '(' + ', '.join(_inline(v) for v in value) + (',)' if len(value) == 1 else ')')
    return repr(value)


def _check_keys(value: Any) -> None:
    if isinstance(value, dict):
        bad = [k for k in value if not (isinstance(k, str) and k.isidentifier())]
        if bad:
            raise ValueError(f'config keys must be identifiers to be written as dict(...): {bad}')
        for item in value.values():
            _check_keys(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_keys(item)


def value_text(value: Any, indent: str = '', comments: Optional[Comments] = None,
               path: Tuple[str, ...] = ()) -> str:
    """``value`` as config source at ``indent``: on one line where it fits in ``WIDTH`` and
    carries no comment inside, else a ``dict(`` with one key per line (a list: one item per
    line)."""
    comments = comments or {}
    _check_keys(value)
    inline = _inline(value)
    if not isinstance(value, (dict, list)) or not value or (
            len(indent) + len(inline) <= WIDTH and not _has_comments(comments, path)):
        return inline
    inner = indent + INDENT
    if isinstance(value, list):
        return '[\n' + ',\n'.join(f'{inner}{value_text(item, inner)}' for item in value) + ']'
    entries = []
    for key, item in value.items():
        notes = ''.join(f'{inner}# {line}\n' for line in comments.get(path + (key,), ()))
        entries.append(f'{notes}{inner}{key}={value_text(item, inner, comments, path + (key,))}')
    return 'dict(\n' + ',\n'.join(entries) + ')'


def assignment_text(name: str, value: Any, comments: Optional[Comments] = None) -> str:
    """``name = <value>`` and a newline, comments above the keys they are attached to."""
    return f'{name} = {value_text(value, "", comments)}\n'


def merge_entries(first: Dict[str, Any], second: Dict[str, Any],
                  path: Tuple[str, ...] = ()) -> Dict[str, Any]:
    """``first`` and ``second`` merged key by key; a key both set to different non-dict values
    is a ``ValueError`` naming it (the union of two sets of settings, not an override)."""
    merged = dict(first)
    for key, value in second.items():
        if key in merged and isinstance(merged[key], dict) and isinstance(value, dict):
            merged[key] = merge_entries(merged[key], value, path + (key,))
        elif key in merged and merged[key] != value:
            raise ValueError('.'.join(path + (key,)))
        else:
            merged[key] = value
    return merged

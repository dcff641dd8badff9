"""Every recipe number in a distillation fragment or leaf config says where it comes from.

A number (loss weight, temperature, pooling, AE sparsity, ALW floor) must carry a comment tagged
``source:`` (a file or paper and what it says), ``calibration:`` (the measurement that set it)
or ``uncalibrated:`` (plainly unmeasured), on its own line or in the comment block directly
above it or above the ``name=dict(`` that holds it.
"""
import ast
import glob
import os.path as osp
import re

import pytest

from tiny_pair import REPO

RECIPE_KEYS = {'loss_weight', 'tau', 'alpha', 'floor', 'pool_size', 'p'}
TAG = re.compile(r'#.*\b(source|calibration|uncalibrated):')
FRAGMENTS = sorted(glob.glob(osp.join(REPO, 'configs', '_base_', 'distill', '*.py')))
LEAVES = sorted(p for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
                if '/_base_/' not in p)


def comment_block_above(lines, lineno):
    """Comment lines directly above 1-based ``lineno`` (and its own trailing comment)."""
    block = [lines[lineno - 1]]
    index = lineno - 2
    while index >= 0 and lines[index].strip().startswith('#'):
        block.append(lines[index])
        index -= 1
    return block


def unsourced_numbers(path):
    """(line, key) of every recipe number in ``path`` without a tagged comment."""
    with open(path) as f:
        text = f.read()
    lines = text.splitlines()
    missing = []
    for node in ast.walk(ast.parse(text)):
        if not (isinstance(node, ast.Call) and getattr(node.func, 'id', None) == 'dict'):
            continue
        for keyword in node.keywords:
            if keyword.arg not in RECIPE_KEYS or isinstance(keyword.value, ast.Dict):
                continue
            value_line = keyword.value.lineno
            candidates = comment_block_above(lines, value_line) + \
                comment_block_above(lines, node.lineno) + \
                [lines[i - 1] for i in range(node.lineno, value_line + 1)]
            if not any(TAG.search(line) for line in candidates):
                missing.append((value_line, keyword.arg))
    return missing


def test_the_checker_catches_an_unsourced_weight(tmp_path):
    bad = tmp_path / 'bad.py'
    bad.write_text("# a comment that names no source\n"
                   "model = dict(loss=dict(type='X', tau=2.0,\n"
                   "                       loss_weight=3.0))\n")
    assert unsourced_numbers(str(bad)) == [(2, 'tau'), (3, 'loss_weight')]
    good = tmp_path / 'good.py'
    good.write_text("model = dict(\n"
                    "    # source: some paper, Table 2 uses tau 2\n"
                    "    loss=dict(type='X', tau=2.0,\n"
                    "              loss_weight=3.0))  # calibration: tools/x.py, matched 0.1\n")
    assert unsourced_numbers(str(good)) == []


def test_there_are_fragments_with_recipe_numbers():
    assert len(FRAGMENTS) >= 8
    assert any('loss_weight=' in open(p).read() for p in FRAGMENTS)


@pytest.mark.parametrize('path', FRAGMENTS + LEAVES,
                         ids=lambda p: osp.relpath(p, osp.join(REPO, 'configs')))
def test_every_recipe_number_names_its_source_or_calibration(path):
    missing = unsourced_numbers(path)
    assert not missing, (f'{osp.relpath(path, REPO)}: numbers without a "source:", '
                         f'"calibration:" or "uncalibrated:" comment at {missing}')


def test_no_recipe_cites_the_pa_lambda_command_as_an_icsd_weight():
    """9500 is --pa_lambda (another term of the official code), not an ICSD weight."""
    for path in FRAGMENTS + LEAVES + glob.glob(osp.join(REPO, 'configs', '*', 'README.md')):
        with open(path) as f:
            for number, line in enumerate(f, 1):
                if '9500' in line:
                    assert 'pa_lambda' in line or 'not' in line, f'{path}:{number}: {line}'

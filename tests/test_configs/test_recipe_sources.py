"""Every recipe number in a distillation fragment or leaf config says where it comes from.

A number (loss weight, temperature, pooling, AE sparsity, ALW floor) must carry a comment tagged
``source:`` (a file or paper and what it says), ``calibration:`` (the measurement that set it)
or ``uncalibrated:`` (plainly unmeasured), on its own line or in the comment block directly
above it or above the ``name=dict(`` that holds it.
"""
import ast
import functools
import glob
import os.path as osp
import re

import pytest
from tiny_pair import REPO

RECIPE_KEYS = {'loss_weight', 'tau', 'alpha', 'floor', 'pool_size', 'p'}
TAG = re.compile(r'#.*\b(source|calibration|uncalibrated):')
# the method fragments and the terms files they compose (where the numbers are)
FRAGMENTS = sorted(glob.glob(osp.join(REPO, 'configs', '_base_', 'distill', '*.py')) +
                   glob.glob(osp.join(REPO, 'configs', '_base_', 'distill', 'terms', '*.py')))
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
    """9500 is --pa_lambda (the pair-wise term of the official code), not an ICSD weight."""
    for path in FRAGMENTS + LEAVES + glob.glob(osp.join(REPO, 'configs', '*', 'README.md')):
        with open(path) as f:
            for number, line in enumerate(f, 1):
                if re.search(r'\b9500\b', line):
                    assert re.search(r'pa_lambda|[Pp]air-?wise|not', line), \
                        f'{path}:{number}: {line}'
        if path.endswith('.py'):
            for name, loss in resolved_losses(path).items():
                if loss['type'] == 'InterClassSimilarityLoss':
                    assert float(loss.get('loss_weight', 1.0)) != 9500.0, (path, name)


def rescaled_numbers_labelled_as_sources(path):
    """(line, key) of recipe numbers written as an expression (a source's number rescaled)
    whose comment says only ``source:``: a rescaled number is not the source's number."""
    with open(path) as f:
        text = f.read()
    lines = text.splitlines()
    wrong = []
    for node in ast.walk(ast.parse(text)):
        if not (isinstance(node, ast.Call) and getattr(node.func, 'id', None) == 'dict'):
            continue
        for keyword in node.keywords:
            if keyword.arg not in RECIPE_KEYS or isinstance(keyword.value, ast.Constant):
                continue
            if isinstance(keyword.value, (ast.Dict, ast.Name, ast.Call)):
                continue
            block = comment_block_above(lines, keyword.value.lineno) + \
                comment_block_above(lines, node.lineno)
            tags = {m.group(1) for line in block for m in [TAG.search(line)] if m}
            if tags and tags <= {'source'}:
                wrong.append((keyword.value.lineno, keyword.arg))
    return wrong


def test_the_rescaling_checker_catches_a_rescaled_source(tmp_path):
    bad = tmp_path / 'bad.py'
    bad.write_text("# source: CIRKD's 1000 rescaled by 1/P\n"
                   "model = dict(loss=dict(loss_weight=1000.0 * 64 / 8192))\n")
    assert rescaled_numbers_labelled_as_sources(str(bad)) == [(2, 'loss_weight')]
    good = tmp_path / 'good.py'
    good.write_text("# calibration: CIRKD's 1000 rescaled by 1/P (this project's choice)\n"
                    "model = dict(loss=dict(loss_weight=1000.0 * 64 / 8192))\n")
    assert rescaled_numbers_labelled_as_sources(str(good)) == []


@pytest.mark.parametrize('path', FRAGMENTS + LEAVES,
                         ids=lambda p: osp.relpath(p, osp.join(REPO, 'configs')))
def test_a_rescaled_number_is_not_labelled_as_its_source(path):
    wrong = rescaled_numbers_labelled_as_sources(path)
    assert not wrong, (f'{osp.relpath(path, REPO)}: numbers computed from a source number but '
                       f'tagged only "source:" at {wrong}; tag them "calibration:" (with the '
                       'measurement) or "uncalibrated:"')


# Published weights and the exact formulation each was set for: (loss type, form) -> weight.
# The form is the loss option that changes the scale of the term.
FORM_OPTION = {'KnowledgeAdaptationLoss': ('formulation', 'torchdistill'),
               'AffinityLoss': ('formulation', 'torchdistill'),
               'PixelSimilarityLoss': ('pairs', 'adjacent'),
               'CategorySimilarityLoss': ('normalize_rows', True),
               'InterClassSimilarityLoss': ('formulation', 'paper'),
               'PixelwiseKDLoss': ('class_reduction', 'sum'),
               'PairwiseSimilarityLoss': (None, None),
               'ChannelWiseDivergence': (None, None),
               'DISTLoss': (None, None)}
PUBLISHED = {
    ('KnowledgeAdaptationLoss', 'torchdistill'): 50.0,  # torchdistill KTAAD config
    ('AffinityLoss', 'torchdistill'): 1.0,  # torchdistill KTAAD config
    ('PixelSimilarityLoss', 'all'): 1000.0,  # CIRKD train_dsd.sh
    ('CategorySimilarityLoss', False): 10.0,  # CIRKD train_dsd.sh
    ('PixelwiseKDLoss', 'mean'): 10.0,  # official AICSD README --pi_lambda
    ('PixelwiseKDLoss', 'sum'): 1.0,  # CIRKD --lambda-kd
    ('PairwiseSimilarityLoss', None): 9500.0,  # official AICSD README --pa_lambda
    ('ChannelWiseDivergence', None): 5.0,  # MMRazor's cwd_logits_pspnet config
    ('DISTLoss', None): 1.0,  # DIST_KD segmentation train_kd.py (--lambda-kd default)
}


def resolved_losses(path):
    return {name: dict(loss) for name, loss in _resolved_losses(path).items()}


@functools.lru_cache(maxsize=None)
def _resolved_losses(path):
    from mmengine.config import Config

    from mmseg_distill.models.distillers import flat_distiller
    cfg = Config.fromfile(path)
    distillers = [cfg.get('model', {}).get('distiller', {})]
    # a terms file: the terms it defines
    distillers += [dict(compose={key: cfg[key]}) for key in cfg.keys() if key.endswith('_terms')]
    losses = {}
    for distiller in distillers:
        losses.update(flat_distiller(distiller).get('distill_losses', {}))
    return {name: dict(loss) for name, loss in losses.items() if 'type' in loss}


def test_the_losses_of_fragments_and_terms_files_are_read():
    """The formulation checks below read every fragment's losses, composed or not."""
    distill = osp.join(REPO, 'configs', '_base_', 'distill')
    assert set(resolved_losses(osp.join(distill, 'dsd_cirkd.py'))) == {'loss_psd', 'loss_csd'}
    assert set(resolved_losses(osp.join(distill, 'terms', 'cwd.py'))) == {'loss_cwd'}
    assert resolved_losses(osp.join(distill, 'ka_stage1.py'))


def test_the_form_checker_knows_every_loss_with_a_published_weight():
    assert {key[0] for key in PUBLISHED} <= set(FORM_OPTION)


@pytest.mark.parametrize('path', FRAGMENTS + LEAVES,
                         ids=lambda p: osp.relpath(p, osp.join(REPO, 'configs')))
def test_a_published_weight_stays_with_its_formulation(path):
    """A weight published for one form of a loss, put on another form of it, is a new and
    uncalibrated number (KA's 50 on the per-position form was ~2e4 times too strong)."""
    for name, loss in resolved_losses(path).items():
        option, default = FORM_OPTION.get(loss['type'], (None, None))
        form = loss.get(option, default) if option else None
        weight = float(loss.get('loss_weight', 1.0))
        own = PUBLISHED.get((loss['type'], form))
        others = {f: w for (t, f), w in PUBLISHED.items() if t == loss['type'] and f != form}
        if weight != own and weight in others.values():
            pytest.fail(f'{osp.relpath(path, REPO)}: {name} ({loss["type"]}, {option}={form!r}) '
                        f'has weight {weight}, published for {option}='
                        f'{[f for f, w in others.items() if w == weight]}, not for this form')

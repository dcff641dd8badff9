"""The tables the README and docs/demo.md print from a committed record say what the record
holds: every mean, per-seed value and interval, digit for digit."""
import json
import os.path as osp
import re
import statistics

import pytest
from tiny_pair import REPO

from benchmarks.demo.report import half_width
from mmseg_distill.utils.stats import interval_text

RECORD = 'docs/demo_tuned_rows_2026-12-04.json'
HEADER = '| student (2026-12-04 machine) |'
REPORT = 'docs/demo_results.json'  # the committed report of `python tools/demo.py`
MAIN_HEADER = '| student (0.145 M params) |'
TUNED_HEADER = '| student | chosen on tune |'


def _table_rows(path, header=HEADER):
    with open(osp.join(REPO, path)) as f:
        text = f.read()
    start = text.index(header)
    table = text[start:text.index('\n\n', start)]
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        rows[cells[0]] = cells
    return rows


@pytest.mark.parametrize('path', ['docs/results.md', 'docs/demo.md'])
def test_the_2026_12_04_table_is_its_record(path):
    with open(osp.join(REPO, RECORD)) as f:
        record = json.load(f)
    rows = _table_rows(path)
    assert set(rows) == set(record['miou']), 'a row of the record is missing from the table'
    for label, by_seed in record['miou'].items():
        values = [by_seed[str(seed)] for seed in range(len(by_seed))]
        mean = f'{sum(values) / len(values):.2f}'
        seeds = ', '.join(f'{v:.2f}' for v in values)
        cells = rows[label]
        assert re.match(rf'{re.escape(mean)}\b.*\({re.escape(seeds)}\)$', cells[2]), (
            f'{path}: {label} reads {cells[2]!r}, the record {mean} ({seeds})')
        if label == 'baseline':
            continue
        stats = record['rows'][label]
        assert cells[3] == interval_text(stats['to_baseline'])
        assert cells[4] == half_width(stats['to_baseline'])
        if 'to_pixel_kd' in stats:
            assert cells[5] == interval_text(stats['to_pixel_kd'])


def _mean_and_seeds(values):
    return f'{sum(values) / len(values):.2f}', ', '.join(f'{v:.2f}' for v in values)


def test_the_readme_demo_tables_are_the_committed_report():
    """The README's demo table and the second table of docs/results.md: every number is the
    committed report's."""
    with open(osp.join(REPO, REPORT)) as f:
        report = json.load(f)
    rows = _table_rows('README.md', MAIN_HEADER)
    assert set(rows) == set(report['rows']), 'the first table and the report name other rows'
    for label, entry in report['rows'].items():
        mean, seeds = _mean_and_seeds(entry['miou'])
        cells = rows[label]
        assert re.match(rf'{re.escape(mean)}\b.*\({re.escape(seeds)}\)$', cells[1]), (
            f'README: {label} reads {cells[1]!r}, the report {mean} ({seeds})')
        if label != 'baseline':
            assert cells[2:5] == [interval_text(entry['paired']), half_width(entry['paired']),
                                  entry['paired']['verdict']], label
    rows = _table_rows('docs/results.md', TUNED_HEADER)
    tuned = {label: entry for label, entry in report['tuned'].items() if 'miou' in entry}
    assert tuned and set(rows) == set(tuned), 'the second table and the report name other rows'
    for label, entry in tuned.items():
        mean, seeds = _mean_and_seeds(entry['miou'])
        cells = rows[label]
        assert cells[1].startswith(entry['candidate']), (label, cells[1])
        assert cells[2] == f'{mean} ({seeds})', (label, cells[2])
        assert cells[3:5] == [interval_text(entry['paired']), half_width(entry['paired'])]
        to_kd = entry.get('to_pixel_kd')
        assert cells[5] == (interval_text(to_kd) if to_kd else ''), label
        to_shipped = entry.get('to_shipped')
        assert cells[6] == (interval_text(to_shipped) if to_shipped else ''), label


def test_every_relative_link_of_the_docs_names_a_committed_file():
    """A renamed report or figure must not leave a link to nothing in the README, docs/ or a
    method's README (links resolve from the file that holds them, as GitHub renders them)."""
    import glob
    pages = ['README.md'] + sorted(glob.glob(osp.join(REPO, 'docs', '*.md'))) + sorted(
        glob.glob(osp.join(REPO, 'configs', '*', 'README.md')))
    broken = []
    for page in pages:
        page = osp.join(REPO, page)
        with open(page) as f:
            text = f.read()
        for target in re.findall(r'\]\(([^)#\s]+)(?:#[^)]*)?\)', text):
            if '://' in target or target.startswith('mailto:'):
                continue
            if not osp.exists(osp.join(osp.dirname(page), target)):
                broken.append(f'{osp.relpath(page, REPO)} -> {target}')
    assert len(pages) > 5 and not broken, broken


REGIME_HEADER = '| students: batch, iterations, lr (2026-12-06) |'


def test_the_60_minute_regime_table_is_its_records():
    """docs/demo.md's 2026-12-06 regime table: every per-seed value, standard deviation,
    interval and half-width is the linked search record's."""
    rows = _table_rows('docs/demo.md', REGIME_HEADER)
    assert len(rows) >= 4
    for label, cells in rows.items():
        link = re.search(r'\]\((demo_regime/[^)]+)\.md\)', label)
        assert link, f'{label}: the row names no record'
        with open(osp.join(REPO, 'docs', link.group(1) + '.json')) as f:
            record = json.load(f)
        kd = record['rows']['x1']
        baseline_mean, baseline_seeds = _mean_and_seeds(record['baseline'])
        kd_mean, kd_seeds = _mean_and_seeds(kd['values'])
        assert cells[2] == f'{baseline_mean} ({baseline_seeds})', (label, cells[2])
        assert cells[3] == f"{statistics.stdev(record['baseline']):.2f}", (label, cells[3])
        assert cells[4] == f'{kd_mean} ({kd_seeds})', (label, cells[4])
        assert cells[5] == f"{statistics.stdev(kd['values']):.2f}", (label, cells[5])
        assert cells[6] == interval_text(kd['to_baseline']), (label, cells[6])
        assert cells[7].strip('*') == half_width(kd['to_baseline']), (label, cells[7])
        # the log is committed: its command runs from any clone
        command = record['command']
        assert command.startswith('python tools/search_weights.py'), command
        assert not re.search(r'(^|[\s=])/', command), f'an absolute path: {command}'

"""The tables the README and docs/demo.md print from a committed record say what the record
holds: every mean, per-seed value and interval, digit for digit."""
import json
import os.path as osp
import re

import pytest
from tiny_pair import REPO

from mmseg_distill.experiments.demo import half_width
from mmseg_distill.experiments.stats import interval_text

RECORD = 'docs/demo_tuned_rows_2026-12-04.json'
HEADER = '| student (2026-12-04 machine) |'


def _table_rows(path):
    with open(osp.join(REPO, path)) as f:
        text = f.read()
    start = text.index(HEADER)
    table = text[start:text.index('\n\n', start)]
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        rows[cells[0]] = cells
    return rows


@pytest.mark.parametrize('path', ['README.md', 'docs/demo.md'])
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

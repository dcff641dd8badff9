"""Each method README's results table is the committed demo report's, digit for digit
(``benchmarks.demo.readme_tables``)."""
import copy
import json
import os.path as osp

import pytest
from tiny_pair import REPO

from benchmarks.demo.readme_tables import REPORT, stale_readmes, with_table


@pytest.fixture(scope='module')
def report():
    with open(osp.join(REPO, REPORT)) as f:
        return json.load(f)


def test_every_method_readme_table_is_the_reports(report):
    assert stale_readmes(report) == []


def test_a_number_changed_in_the_report_makes_its_readme_stale(report):
    changed = copy.deepcopy(report)
    changed['rows']['PFS']['miou'][0] += 0.01
    assert stale_readmes(changed) == ['configs/pfs/README.md']
    changed = copy.deepcopy(report)
    changed['rows']['baseline']['miou'][2] -= 0.01  # every README has the baseline row
    assert len(stale_readmes(changed)) == 7


def test_a_readme_without_its_block_is_an_error():
    with pytest.raises(ValueError, match='no generated results block'):
        with_table('# A method\n\nno table here\n', '| table |', 'configs/x/README.md')

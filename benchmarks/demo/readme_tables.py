"""The results table of each method's README (``configs/<method>/README.md``), generated from the
committed demo report (``docs/demo_results.json``) so that a number has one source.

    python -m benchmarks.demo.readme_tables          # rewrite the tables in the READMEs
    python -m benchmarks.demo.readme_tables --check  # exit 1 where a README's table differs

The table sits between ``BEGIN`` and ``END`` in each README, in MMSeg's model-zoo form (one row
per model, its config and download columns): the student alone and, for the method, its default
form at the shipped weights and at the weights the search chose on the tune split, each with
its paired difference to the baseline. ``tests/test_benchmarks/test_readme_tables.py`` fails
when a README and the report disagree.
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, List

from benchmarks import tiny
from mmseg_distill.methods import METHODS
from mmseg_distill.utils.stats import interval_text

REPORT = 'docs/demo_results.json'
BEGIN = ('<!-- results: generated from docs/demo_results.json by '
         '`python -m benchmarks.demo.readme_tables`; edit the report, not this table -->')
END = '<!-- /results -->'
DOWNLOAD = 'not published: trained by `python tools/demo.py`'


def _seeds(values: List[float]) -> str:
    return f"{sum(values) / len(values):.2f} ({', '.join(f'{v:.2f}' for v in values)})"


def method_table(report: Dict, key: str) -> str:
    """The Markdown table of method ``key`` from a demo report (``results.json``)."""
    method = METHODS[key]
    form = method.default
    p = report['preset_cfg']
    leaf = osp.basename(form.leaf(method.directory, tiny.TINY_PAIR))
    student = osp.relpath(tiny.STUDENT_CFG, osp.join(tiny.REPO, 'configs', method.directory))
    regime = (f"{p['size']}x{p['size']} | {p['student_iters']} | "
              f"{p['batch']}")
    lines = [
        f"Demo report at commit {report['commit']} (`{report['command'].strip()}`; preset "
        f"{report['preset']}, {len(report['seeds'])} paired seeds, test split; teacher "
        f"DeepLabV3 R18-tiny at {report['teacher']['miou']:.2f} mIoU). Full-scale numbers: "
        'none measured here (no GPU, no datasets).', '',
        '| student | distillation | crop | iters | batch | test mIoU, mean (per seed) | '
        'to the baseline, 95% CI | config | download |',
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
        f"| FCN MobileNetV2-tiny | none (baseline) | {regime} | "
        f"{_seeds(report['rows']['baseline']['miou'])} | | [config]({student}) | {DOWNLOAD} |"]
    row = report['rows'].get(form.label)
    if row:
        lines.append(f'| FCN MobileNetV2-tiny | {form.label}, shipped weights | {regime} | '
                     f"{_seeds(row['miou'])} | {interval_text(row['paired'])} | "
                     f'[config]({leaf}) | {DOWNLOAD} |')
    tuned = report.get('tuned', {}).get(form.label, {})
    if 'miou' in tuned and not tuned.get('shipped_run'):
        lines.append(f"| FCN MobileNetV2-tiny | {form.label}, searched {tuned['candidate']} "
                     f'(chosen on the tune split) | {regime} | {_seeds(tuned["miou"])} | '
                     f"{interval_text(tuned['paired'])} | [config]({leaf}) with the search's "
                     f'weights | {DOWNLOAD} |')
    return '\n'.join(lines)


def readme_path(key: str) -> str:
    return osp.join(tiny.REPO, 'configs', METHODS[key].directory, 'README.md')


def with_table(text: str, table: str, path: str) -> str:
    """``text`` with its generated block replaced by ``table``."""
    if BEGIN not in text or END not in text:
        raise ValueError(f'{path}: no generated results block ({BEGIN} ... {END})')
    start, stop = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + '\n' + table + '\n' + text[stop:]


def stale_readmes(report: Dict) -> List[str]:
    """The method READMEs whose table is not the one ``report`` gives."""
    stale = []
    for key in METHODS:
        with open(readme_path(key)) as f:
            text = f.read()
        if with_table(text, method_table(report, key), readme_path(key)) != text:
            stale.append(osp.relpath(readme_path(key), tiny.REPO))
    return stale


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0].replace('\n', ' '))
    parser.add_argument('--check', action='store_true',
                        help='write nothing; exit 1 where a README disagrees with the report')
    args = parser.parse_args(argv)
    with open(osp.join(tiny.REPO, REPORT)) as f:
        report = json.load(f)
    if args.check:
        stale = stale_readmes(report)
        print('\n'.join(f'{path}: its table is not the report\'s' for path in stale) or 'ok')
        return 1 if stale else 0
    for key in METHODS:
        path = readme_path(key)
        with open(path) as f:
            text = f.read()
        with open(path, 'w') as f:
            f.write(with_table(text, method_table(report, key), path))
    return 0


if __name__ == '__main__':
    sys.exit(main())

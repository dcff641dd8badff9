"""The demo's report: the markdown of ``results.md`` from the summary ``results.json`` holds
(the first table, the second table at searched weights, what each student took from the
teacher), and the commit and wall-time lines that say how it was made."""
import subprocess

from benchmarks import tiny
from mmseg_distill.pairing.runs import machine_text
from mmseg_distill.utils.stats import interval_text
from .tuned import MISSING


def source_commit():
    """The repository's commit, marked when the working tree differs from it."""
    def git(*args):
        return subprocess.run(['git', '-C', tiny.REPO] + list(args), capture_output=True,
                              text=True).stdout.strip()
    commit = git('rev-parse', '--short', 'HEAD')
    if not commit:
        return None
    changed = git('status', '--porcelain', '--untracked-files=no')
    return commit + (' (with uncommitted changes)' if changed else '')


def half_width(d):
    return 'n/a' if d['low'] is None else f"{(d['high'] - d['low']) / 2:.2f}"


def runs(count):
    return f"{count} run{'' if count == 1 else 's'}"


def tuned_markdown(tuned):
    """The second table and the answer to 'does each seed method beat pixel KD at its searched
    weight?'."""
    if not tuned:
        return []
    lines = ['Every row at the weights the weight search chose for it on the tune split '
             '(`tools/search_weights.py`, factors of the shipped weights scaled together; '
             "'shipped run': the search kept the shipped weights, so the row is the first "
             "table's run):", '',
             '| student | chosen | test mIoU mean (per seed) | to the baseline, 95% CI | '
             'half-width | to pixel KD at its searched weight, 95% CI | '
             'to its shipped weights, 95% CI |',
             '| --- | --- | --- | --- | --- | --- | --- |']
    for label, entry in tuned.items():
        if 'miou' not in entry:
            why = entry['log'] if entry['status'] == MISSING else entry['reason']
            lines.append(f"| {label} | {entry['status']}: {why} | | | | | |")
            continue
        chosen = ', '.join(f"{k.split('.')[-2]}={v:.4g}" for k, v in entry['values'].items())
        chosen = f"{entry['candidate']} ({chosen}){'; shipped run' if entry['shipped_run'] else ''}"
        to_kd = interval_text(entry['to_pixel_kd']) if 'to_pixel_kd' in entry else ''
        to_shipped = interval_text(entry['to_shipped']) if 'to_shipped' in entry else ''
        lines.append(f"| {label} | {chosen} | {entry['mean']:.2f} "
                     f"({', '.join(f'{v:.2f}' for v in entry['miou'])}) | "
                     f"{interval_text(entry['paired'])} | {half_width(entry['paired'])} | "
                     f"{to_kd} | {to_shipped} |")
    answers = []
    for label, entry in tuned.items():
        if entry['baseline_method'] or 'to_pixel_kd' not in entry:
            continue
        d = entry['to_pixel_kd']
        if d['low'] is None:
            answers.append(f"{label}: {d['mean']:+.2f} mIoU against pixel KD at its searched "
                           'weight (one seed, no interval)')
            continue
        word = {'gain': 'beats', 'loss': 'loses to'}.get(d['verdict'], 'is not told apart from')
        answers.append(f'{label} {word} pixel KD at its searched weight ({interval_text(d)} mIoU)')
    missing = [label for label, entry in tuned.items()
               if not entry['baseline_method'] and 'to_pixel_kd' not in entry]
    if answers:
        lines += ['', 'Does each seed method beat tuned pixel KD? ' + '; '.join(answers) + '.']
    if missing:
        lines += ['', f"Not answered (no usable search log, or pixel KD's is missing): "
                  f"{', '.join(missing)}."]
    return lines


def wall_text(ledger, untracked=()):
    total = sum(entry['minutes'] for entry in ledger)
    outside = (f'; {runs(len(untracked))} reused that none of these invocations trained '
               '(made in this folder by another command; their time is in no total here)'
               if untracked else '')
    if len(ledger) == 1:
        return f'{total:.1f} min wall time on this machine{outside}'
    training = [e for e in ledger if e['trained_runs']]
    rest = [e for e in ledger if not e['trained_runs']]
    parts = [f"{e['minutes']:.1f} min training {runs(e['trained_runs'])}" for e in training]
    if rest:
        parts.append(f"{sum(e['minutes'] for e in rest):.1f} min in {len(rest)} "
                     'invocation(s) that trained nothing (evaluation, transfer, report)')
    return f"{total:.1f} min wall time on this machine ({'; '.join(parts)}){outside}"


def markdown(s) -> str:
    """The report (``results.md``) of a summary (``results.json``)."""
    p, seeds = s['preset_cfg'], s['seeds']
    base = s['rows']['baseline']
    quick = s['preset'] == 'quick'
    lines = [
        f"Commit {s.get('commit') or 'unknown'}; command `{s.get('command') or 'n/a'}`; "
        f"{machine_text(s.get('machine'))} (other CPUs give other digits: "
        'docs/reproducibility.md).',
        '',
        f"Procedural scenes, 7 classes, {p['size']}x{p['size']}; preset {s['preset']}"
        + (' (a smoke run, not evidence)' if quick else '') +
        f"; seeds {seeds}; test split of {p['num_test']} images; "
        f"{wall_text(s['wall'], s.get('untracked_runs', ()))}.", '',
        f"Teacher (DeepLabV3 R18-tiny, {s['cost']['teacher']['params_m']:.3f} M params): "
        f"{s['teacher']['miou']:.2f} mIoU on the test split; per class: " +
        ', '.join(f'{k} {v:.1f}' for k, v in s['teacher']['per_class'].items()) + '.', '',
        '| student (FCN MobileNetV2-tiny, '
        f"{s['cost']['student']['params_m']:.3f} M params) | test mIoU mean (per seed) | "
        'paired difference to the baseline, 95% CI | half-width | verdict |',
        '| --- | --- | --- | --- | --- |',
        f"| baseline | {base['mean']:.2f}" +
        (f" +- {base['std']:.2f} sd" if base['std'] is not None else '') +
        f" ({', '.join(f'{v:.2f}' for v in base['miou'])}) | | | |"]
    for row, entry in s['rows'].items():
        if row == 'baseline':
            continue
        d = entry['paired']
        lines.append(f"| {row} | {entry['mean']:.2f} "
                     f"({', '.join(f'{v:.2f}' for v in entry['miou'])}) | "
                     f"{interval_text(d)} | "
                     f"{half_width(d)} | {d['verdict']} |")
    lines += [''] + tuned_markdown(s.get('tuned') or {})
    lines += ['', 'What each student took from the teacher (distance to the teacher on the '
              'test split, mean over seeds; baseline -> distilled, paired 95% CI of the '
              "change; 'closer' only when the interval excludes no change; agreement: share "
              "of pixels with the teacher's class, higher is closer; * = a relation the "
              'method distils):', '',
              '| student | relation | baseline | distilled | change, 95% CI | closer |',
              '| --- | --- | --- | --- | --- | --- |']
    for row, entry in s['rows'].items():
        for relation, r in entry.get('relations', {}).items():
            interval = 'n/a' if r['low'] is None else \
                f"{r['mean']:+.3g} [{r['low']:+.3g}, {r['high']:+.3g}]"
            lines.append(f"| {row} | {relation}{' *' if r['distilled'] else ''} | "
                         f"{r['baseline']:.4g} | {r['student']:.4g} | {interval} | "
                         f"{ {True: 'yes', False: 'no', None: 'n/a'}[r['closer']]} |")
    return '\n'.join(lines)

"""Markdown tables and the scaling plot of a benchmark run."""
from .timing import fmt_stat, fmt_value


def loss_table(results: dict) -> str:
    out = [f"Device: {results['device']}; preset {results['preset']}; {results['date']}; torch "
           f"{results['torch']}; threads {results['threads']}. Times: median (middle half) "
           'of the repeats, ms; ratios per round of ours and naive timed interleaved.', '',
           '| loss | case | ours ms | ours MiB | naive ms | naive MiB | naive/ours time | '
           'naive/ours memory | value rel. diff |', '|' + ' --- |' * 9]
    for r in results['losses']:
        ours, naive = r['ours'], r['naive']
        name = r['loss'] + (f" {r['options']}" if r['options'] else '')
        if ours.get('algorithm'):
            name += f" -> {ours['algorithm']}"
        if naive is None:
            naive_cells = ['n/a', 'n/a']
        elif naive['status'] == 'timeout':
            naive_cells = [f"stopped after {naive['seconds']:.0f} s", '-']
        elif naive['status'] != 'ok':
            naive_cells = [f"cannot run: > {results['naive_budget_gib']} GiB", '-']
        else:
            naive_cells = [fmt_stat(naive['time']), fmt_value(naive['peak_extra_mib'])]
        rel_diff = f"{r['value_rel_diff']:.1e}" if 'value_rel_diff' in r else '-'
        time_ratio = fmt_stat(r.get('time_ratio'), 'x') if 'time_ratio_at_least' not in r \
            else f"> {fmt_value(r['time_ratio_at_least'], 'x')}"
        out.append(f"| {name} | {r['case']} | {fmt_stat(ours.get('time'))} | "
                   f"{fmt_value(ours.get('peak_extra_mib'))} | {naive_cells[0]} | "
                   f"{naive_cells[1]} | {time_ratio} | "
                   f"{fmt_value(r.get('memory_ratio'), 'x')} | {rel_diff} |")
    return '\n'.join(out)


def step_table(steps: dict) -> str:
    out = [f"Training step: {steps['pair']}, input {steps['input']}; every part of a row timed "
           'interleaved in one process, median (middle half) over the rounds, ms. '
           "'distill' = all distillation losses with their connectors, forward+backward; "
           "'teacher-side' = connectors applied to teacher records only (KA's frozen encoder); "
           "'student side' = distill - teacher-side, per round ('< noise' where its spread "
           'reaches zero).', '',
           '| method | fast path, precision | full step | teacher fwd | student step | '
           'full / (student + teacher) | distill | teacher-side | student side | '
           'distill / student step | student side / student step | peak extra MiB |',
           '|' + ' --- |' * 12]
    for r in steps['rows']:
        out.append(
            f"| {r['method']} | {'on' if r['fast_path'] else 'off'}, {r['teacher_precision']} | "
            f"{fmt_stat(r['step'])} | {fmt_stat(r['teacher'])} | {fmt_stat(r['student'])} | "
            f"{fmt_stat(r['step_ratio'])} | {fmt_stat(r['distill'])} | "
            f"{fmt_stat(r['teacher_side'])} | {fmt_stat(r['student_side_ms'])} | "
            f"{percent(r['distill_overhead'])} | {percent(r['student_side_overhead'])} | "
            f"{fmt_value(r.get('peak_extra_mib'))} |")
    split = [f"{r['method']} ({r['teacher_precision']}): " +
             ', '.join(f'{name} {fmt_stat(stats)}' for name, stats in r['per_loss'].items())
             for r in steps['rows'] if len(r.get('per_loss', {})) > 1 and r['fast_path']]
    if split:
        out += ['', 'Student side per loss, ms (each loss with its student-side connectors, '
                'forward+backward): ' + '; '.join(split) + '.']
    return '\n'.join(out)


def percent(stats: dict) -> str:
    if not stats:
        return '-'
    if stats.get('resolved') is False:
        return f"< noise (spread to {100 * stats['high']:.1f}%)"
    return (f"{100 * stats['median']:.1f}% ({100 * stats['low']:.1f}-"
            f"{100 * stats['high']:.1f})")


def zoo_table(rows) -> str:
    out = ['| pair | crop x batch | method | full step | teacher fwd | student step | '
           'full / (student + teacher) | distill / student step | peak MiB |',
           '|' + ' --- |' * 9]
    for r in rows:
        out.append(f"| {r['pair']} | {r['crop'][0]}x{r['crop'][1]} x {r['batch']} | "
                   f"{r['method']} | {fmt_stat(r['step'])} | {fmt_stat(r['teacher'])} | "
                   f"{fmt_stat(r['student'])} | {fmt_stat(r['step_ratio'])} | "
                   f"{percent(r['distill_overhead'])} | {fmt_value(r.get('peak_extra_mib'))} |")
    return '\n'.join(out)


def gpu_targets(results: dict) -> str:
    """The GPU issue's targets, each with the figure that meets it or not."""
    lines = []
    for r in results.get('zoo_steps', []):
        ok = r['step_ratio']['median'] <= 1.10
        lines.append(f"- {r['pair']} {r['method']}: full step "
                     f"{fmt_stat(r['step_ratio'])}x (student step + teacher forward) "
                     f"(target <= 1.10x): {'met' if ok else 'NOT met'}")
    for r in results['losses']:
        if r['loss'] in ('PixelFeatureSimilarityLoss', 'AffinityLoss') and \
                r['case'].startswith('N=8') and r['options'] in ({}, {'formulation': 'paper'}):
            memory, speed = r.get('memory_ratio'), r.get('time_ratio')
            if memory is None:
                naive = r['naive']['status'] if r['naive'] else 'n/a'
                lines.append(f"- {r['loss']} {r['case']}: naive {naive} (not measurable)")
                continue
            ok = memory >= 10 and speed['median'] >= 1
            lines.append(f"- {r['loss']} {r['case']}: {memory:.1f}x less peak memory, "
                         f"{fmt_stat(speed)}x naive's speed (target >= 10x, >= 1x): "
                         f"{'met' if ok else 'NOT met'}")
    oom = [f"{r['loss']} {r['case']}" for r in results['losses']
           if r['case'].startswith('N=8') and r['ours'].get('status') != 'ok']
    lines.append(f"- out of memory at batch 8: {', '.join(oom) if oom else 'none'}")
    return '\n'.join(lines)


def plot_scaling(rows, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for loss, marker in (('PixelFeatureSimilarityLoss', 'o'), ('AffinityLoss', 's')):
        sub = [r for r in rows if r['loss'] == loss]
        for impl, style in (('ours', '-'), ('naive', '--')):
            pts = [(r['positions'], r[impl]) for r in sub
                   if r[impl] and r[impl]['status'] == 'ok']
            label = f"{loss.replace('Loss', '')} {impl}"
            axes[0].plot([p for p, _ in pts], [m['time']['median'] for _, m in pts], style,
                         marker=marker, label=label)
            axes[1].plot([p for p, _ in pts], [max(m['peak_extra_mib'], 0.1) for _, m in pts],
                         style, marker=marker, label=label)
            stopped = [r['positions'] for r in sub if r[impl] and r[impl]['status'] != 'ok']
            for positions in stopped:  # where the naive form could not run at all
                axes[1].axvline(positions, color='grey', linestyle=':', linewidth=0.8)
    for ax, title in zip(axes, ('forward+backward time (ms)', 'peak extra memory (MiB)')):
        ax.set_xscale('log')
        ax.set_yscale('log')
        ax.set_xlabel('positions P (batch 2, C_S=128, C_T=512)')
        ax.set_title(title)
        ax.grid(True, which='both', alpha=0.3)
    axes[0].legend(fontsize=8)
    axes[1].text(0.02, 0.02, 'dotted: the naive form ran out of its memory budget or time',
                 transform=axes[1].transAxes, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)

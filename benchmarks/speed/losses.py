"""Each distillation loss against its naive form: time, peak memory and value.

A case is (loss, options, shape); shapes: ('feat', N, H, W, C_S, C_T), ('logits', N, H, W, K),
('stages', N, H, W, [C_S...], [C_T...]). The project's implementation ("ours") is measured alone
(memory, value, the algorithm the cost model picks); where a naive form exists, a second worker
times both interleaved (the ratio is per round) and measures the naive form's memory under a
budget and a time limit.
"""
from typing import List

from .timing import interleaved, limit_cpu_memory, memory_probe, ratio, summary, timer

GRAM64 = {'algorithm': 'gram'}
GRAM32 = {'algorithm': 'gram', 'gram_precision': 'float32'}
TILED = {'algorithm': 'tiled'}
PAPER = {'formulation': 'paper'}
FULL_CASES = [
    ('PixelFeatureSimilarityLoss', {}, ('feat', 2, 32, 64, 128, 512)),
    ('PixelFeatureSimilarityLoss', TILED, ('feat', 2, 32, 64, 128, 512)),
    ('PixelFeatureSimilarityLoss', {}, ('feat', 2, 64, 128, 256, 512)),
    ('PixelFeatureSimilarityLoss', GRAM32, ('feat', 2, 64, 128, 256, 512)),
    ('PixelFeatureSimilarityLoss', TILED, ('feat', 2, 64, 128, 256, 512)),
    ('PixelFeatureSimilarityLoss', {}, ('feat', 8, 64, 128, 128, 512)),
    ('PixelFeatureSimilarityLoss', GRAM32, ('feat', 8, 64, 128, 128, 512)),
    ('PixelFeatureSimilarityLoss', {}, ('feat', 8, 64, 128, 512, 2048)),
    ('AffinityLoss', PAPER, ('feat', 2, 64, 128, 256, 512)),
    ('AffinityLoss', dict(PAPER, **TILED), ('feat', 2, 64, 128, 256, 512)),
    ('AffinityLoss', PAPER, ('feat', 8, 64, 128, 128, 512)),
    ('AffinityLoss', PAPER, ('feat', 2, 16, 32, 256, 256)),
    ('AffinityLoss', dict(PAPER, **GRAM64), ('feat', 2, 16, 32, 256, 256)),
    ('AffinityLoss', {}, ('feat', 2, 16, 32, 256, 256)),
    ('AffinityLoss', {}, ('feat', 8, 64, 128, 256, 256)),
    ('PixelFeatureSimilarityLoss', {'mode': 'softmax_kl', 'chunk_size': 1024},
     ('feat', 2, 32, 64, 128, 512)),
    ('PixelFeatureSimilarityLoss', {'mode': 'softmax_kl', 'chunk_size': 1024},
     ('feat', 2, 64, 128, 128, 512)),
    ('InterClassSimilarityLoss', {}, ('logits', 8, 64, 128, 19)),
    ('InterClassSimilarityLoss', {'formulation': 'official'}, ('logits', 8, 64, 64, 21)),
    ('InterClassSimilarityLoss', {}, ('logits', 8, 64, 64, 21)),
    ('InterClassSimilarityLoss', {}, ('logits', 8, 64, 64, 150)),
    ('CategorySimilarityLoss', {}, ('logits', 8, 64, 128, 19)),
    ('CategorySimilarityLoss', {}, ('logits', 8, 64, 64, 150)),
    ('PixelwiseKDLoss', {}, ('logits', 8, 64, 128, 19)),
    ('WeightedSoftImitationLoss', {}, ('logits', 8, 64, 128, 19)),
    ('PixelSimilarityLoss', {}, ('stages', 8, 64, 128, [19, 128, 19], [19, 512, 19])),
    ('KnowledgeAdaptationLoss', {}, ('feat', 8, 64, 128, 256, 256)),
    ('KnowledgeAdaptationLoss', PAPER, ('feat', 8, 64, 128, 256, 256)),
    ('PairwiseSimilarityLoss', {}, ('feat', 8, 64, 64, 256, 256)),
]
QUICK_CASES = [
    ('PixelFeatureSimilarityLoss', {}, ('feat', 2, 16, 32, 32, 64)),
    ('PixelFeatureSimilarityLoss', GRAM64, ('feat', 2, 16, 32, 32, 64)),
    ('PixelFeatureSimilarityLoss', GRAM32, ('feat', 2, 16, 32, 32, 64)),
    ('PixelFeatureSimilarityLoss', TILED, ('feat', 2, 16, 32, 32, 64)),
    ('AffinityLoss', PAPER, ('feat', 2, 16, 32, 256, 256)),
    ('AffinityLoss', dict(PAPER, **GRAM64), ('feat', 2, 16, 32, 256, 256)),
    ('AffinityLoss', dict(PAPER, **TILED), ('feat', 2, 16, 32, 256, 256)),
    ('AffinityLoss', {}, ('feat', 2, 16, 32, 64, 64)),
    ('PixelFeatureSimilarityLoss', {'mode': 'softmax_kl', 'chunk_size': 128},
     ('feat', 2, 16, 32, 32, 64)),
    ('InterClassSimilarityLoss', {}, ('logits', 2, 16, 32, 19)),
    ('InterClassSimilarityLoss', {'formulation': 'official'}, ('logits', 2, 16, 32, 19)),
    ('CategorySimilarityLoss', {}, ('logits', 2, 16, 32, 19)),
    ('PixelwiseKDLoss', {}, ('logits', 2, 16, 32, 19)),
    ('PixelSimilarityLoss', {}, ('stages', 2, 16, 32, [8, 16, 19], [16, 32, 19])),
]
SCALING_SIDES = {'full': [(16, 32), (32, 64), (64, 128), (128, 128), (128, 256)],
                 'quick': [(8, 8), (16, 16), (32, 32)]}


def gpu_cases(shrink: int = 1) -> list:
    """Cityscapes scale (64x128 positions at stride 8), batch 2 and 8, the channel counts of
    the model-zoo pairs' head features, every exact algorithm and Gram precision."""
    h, w = 64 // shrink, 128 // shrink
    cases = []
    for batch in (2, 8):
        for c_s, c_t in ((128, 512), (256, 256)):  # R18/R101 heads; SegFormer B0/B2 heads
            for loss, base in (('PixelFeatureSimilarityLoss', {}), ('AffinityLoss', PAPER)):
                for options in ({}, GRAM64, GRAM32, TILED):
                    cases.append((loss, dict(base, **options), ('feat', batch, h, w, c_s, c_t)))
        cases += [('InterClassSimilarityLoss', {}, ('logits', batch, h, w, 19)),
                  ('InterClassSimilarityLoss', {'formulation': 'official'},
                   ('logits', batch, h, w, 19)),
                  ('CategorySimilarityLoss', {}, ('logits', batch, h, w, 19)),
                  ('PixelwiseKDLoss', {}, ('logits', batch, h, w, 19)),
                  ('KnowledgeAdaptationLoss', {}, ('feat', batch, h, w, 256, 256)),
                  ('AffinityLoss', {}, ('feat', batch, h, w, 256, 256))]
    return cases


def naive_key(loss: str, options: dict) -> str:
    """The naive form a case is compared with (``benchmarks.naive_reference``'s
    ``NAIVE``)."""
    if options.get('mode') == 'softmax_kl':
        return loss + '/softmax_kl'
    if options.get('formulation') == 'official':
        return loss + '/official'
    if loss == 'AffinityLoss':
        return loss + ('/paper' if options.get('formulation') == 'paper' else '/torchdistill')
    return loss


def describe(shape) -> str:
    if shape[0] == 'logits':
        _, n, h, w, k = shape
        return f'N={n} P={h}x{w} K={k}'
    _, n, h, w, cs, ct = shape
    return f'N={n} P={h}x{w} C_S={cs} C_T={ct}'


def make_inputs(shape, device):
    import torch
    g = torch.Generator().manual_seed(0)
    kind = shape[0]
    if kind == 'feat':
        _, n, h, w, cs, ct = shape
        return (torch.randn(n, cs, h, w, generator=g).to(device),
                torch.randn(n, ct, h, w, generator=g).relu_().to(device))
    if kind == 'logits':
        _, n, h, w, k = shape
        return (3 * torch.randn(n, k, h, w, generator=g).to(device),
                3 * torch.randn(n, k, h, w, generator=g).to(device))
    _, n, h, w, cs, ct = shape
    return ([torch.randn(n, c, h, w, generator=g).to(device) for c in cs],
            [torch.randn(n, c, h, w, generator=g).to(device) for c in ct])


def _ours(spec):
    from mmrazor.registry import MODELS

    import mmseg_distill  # noqa: F401
    return MODELS.build(dict(type=spec['loss'], **spec['options'])).to(spec['device'])


def _step(fn, student, teacher, values):
    leaves = student if isinstance(student, list) else [student]

    def step():
        for leaf in leaves:
            leaf.grad = None
        loss = fn(student, teacher)
        loss.backward()
        values.append(float(loss))
    return step


def _pairwise_choice(fn, spec, student, teacher):
    """The algorithm the loss will run for these inputs ('gram'/'tiled'), or None."""
    if getattr(fn, 'algorithm', None) is None or getattr(fn, 'mode', 'cosine_mse') != \
            'cosine_mse' or getattr(fn, 'formulation', 'paper') != 'paper':
        return None
    from mmseg_distill.models.utils.similarity_dispatch import resolve_algorithm

    def rows(x):
        return x.flatten(2).transpose(1, 2)
    return resolve_algorithm(fn.algorithm, rows(student), rows(teacher), fn.gram_dtype)


def _is_oom(error: Exception) -> bool:
    text = str(error).lower()
    return isinstance(error, MemoryError) or 'memory' in text or 'alloc' in text


def worker_ours(spec) -> dict:
    """The project's loss alone: peak memory of one step, value, its repeated step time and
    the algorithm it runs."""
    import torch
    torch.set_num_threads(spec['threads'])
    fn = _ours(spec)
    student, teacher = make_inputs(spec['shape'], spec['device'])
    chosen = _pairwise_choice(fn, spec, student, teacher)
    for leaf in (student if isinstance(student, list) else [student]):
        leaf.requires_grad_(True)
    values = []
    step = _step(fn, student, teacher, values)
    peak = memory_probe(spec['device'])
    step()
    memory = peak()
    samples = interleaved({'ours': step}, spec['repeats'], timer(spec['device']),
                          spec['max_seconds'])
    return {'status': 'ok', 'time': summary(samples['ours']), 'peak_extra_mib': memory,
            'value': values[-1], 'algorithm': chosen}


def worker_pair(spec) -> dict:
    """The naive form's memory (under a budget) and value, then ours and naive timed
    interleaved: the naive/ours ratio per round."""
    import torch

    from benchmarks.naive_reference import NAIVE
    torch.set_num_threads(spec['threads'])
    ours, naive = _ours(spec), NAIVE[naive_key(spec['loss'], spec['options'])]
    student, teacher = make_inputs(spec['shape'], spec['device'])
    for leaf in (student if isinstance(student, list) else [student]):
        leaf.requires_grad_(True)
    ours_values, naive_values = [], []
    ours_step = _step(ours, student, teacher, ours_values)
    naive_step = _step(naive, student, teacher, naive_values)
    if spec['device'] == 'cpu':
        limit_cpu_memory(spec['budget_gib'])
    peak = memory_probe(spec['device'])
    try:
        naive_step()
    except (RuntimeError, MemoryError) as error:
        if not _is_oom(error):
            raise
        return {'status': 'oom', 'error': str(error).splitlines()[0][:160]}
    memory = peak()
    samples = interleaved({'ours': ours_step, 'naive': naive_step}, spec['repeats'],
                          timer(spec['device']), spec['max_seconds'])
    return {'status': 'ok', 'peak_extra_mib': memory, 'value': naive_values[-1],
            'time': summary(samples['naive']), 'ours_time': summary(samples['ours']),
            'time_ratio': ratio(samples['naive'], samples['ours'])}


def bench_losses(run_worker, cases, base: dict) -> List[dict]:
    """One row per case (``run_worker(kind, spec, timeout)`` runs a worker process)."""
    from benchmarks.naive_reference import NAIVE
    rows = []
    for loss, options, shape in cases:
        spec = dict(base, loss=loss, options=options, shape=shape)
        ours = run_worker('ours', spec)
        naive = None
        if naive_key(loss, options) in NAIVE and ours['status'] == 'ok':
            naive = run_worker('pair', spec, timeout=base['naive_timeout'])
        row = dict(loss=loss, options=options, case=describe(shape), ours=ours, naive=naive)
        if naive and naive['status'] == 'ok':
            row['time_ratio'] = naive['time_ratio']
            row['memory_ratio'] = naive['peak_extra_mib'] / max(ours['peak_extra_mib'], 1e-3)
            row['value_rel_diff'] = abs(naive['value'] - ours['value']) / max(
                abs(naive['value']), 1e-30)
        elif naive and naive['status'] == 'timeout':
            row['time_ratio_at_least'] = naive['seconds'] * 1e3 / ours['time']['median']
        rows.append(row)
        print(f"  {loss} {options or ''} {row['case']}: ours "
              f"{ours.get('time', {}).get('median', float('nan')):.1f} ms", flush=True)
    return rows


def bench_scaling(run_worker, preset: str, base: dict) -> List[dict]:
    """Time and memory against the number of positions, PFS and the paper-form affinity."""
    rows = []
    for loss, options in (('PixelFeatureSimilarityLoss', {}), ('AffinityLoss', PAPER)):
        for h, w in SCALING_SIDES[preset]:
            spec = dict(base, loss=loss, options=options, shape=('feat', 2, h, w, 128, 512),
                        repeats=3)
            ours = run_worker('ours', spec)
            naive = run_worker('pair', spec, timeout=base['naive_timeout'])
            rows.append(dict(loss=loss, positions=h * w, ours=ours, naive=naive))
    return rows

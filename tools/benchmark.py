"""Cost of each distillation loss, and of a distillation step, against naive baselines.

    python tools/benchmark.py [--preset full|quick] [--device cpu|cuda] [--out DIR]

Prints Markdown tables and writes ``benchmark.json`` (and ``scaling.png``) to ``--out``.

* Per loss: forward+backward time (median over repeats after a warm-up) and peak extra memory
  of this project's implementation and of the naive form (explicit P x P matrices; Python loops
  over class pairs as in the official AICSD code), with the ratios naive/ours from the same run
  and the relative difference of their values. The naive form runs under a memory budget
  (``--naive-budget-gib``) and a time limit (``--naive-timeout``); where it needs more, the
  table says so (and the time ratio becomes a lower bound).
* Per training step (``--skip-step`` to leave out): MMSeg's DeepLabV3 R101-D8 -> R18-D8 at
  reduced resolution, student-only vs each method, split into teacher forward, student
  forward/backward and the distillation losses (forward+backward, connectors included).
* Scaling: time and memory against the number of positions for PFS/affinity, ours vs naive.

Every measurement runs in a fresh subprocess. CPU memory is how far the peak resident set
(VmHWM, reset once the inputs exist) rises above the memory in use before the call, with
glibc's mmap threshold pinned so freed buffers are returned; on CUDA, max_memory_allocated.
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(HERE)

# (loss, options, shapes); shapes: ('feat', N, H, W, C_S, C_T) | ('logits', N, H, W, K)
# | ('stages', N, H, W, [C_S...], [C_T...])
GRAM64 = {'algorithm': 'gram'}
GRAM32 = {'algorithm': 'gram', 'gram_precision': 'float32'}
TILED = {'algorithm': 'tiled'}
FULL_CASES = [
    ('PixelFeatureSimilarityLoss', {}, ('feat', 2, 32, 64, 128, 512)),
    ('PixelFeatureSimilarityLoss', TILED, ('feat', 2, 32, 64, 128, 512)),
    ('PixelFeatureSimilarityLoss', {}, ('feat', 2, 64, 128, 256, 512)),
    ('PixelFeatureSimilarityLoss', GRAM32, ('feat', 2, 64, 128, 256, 512)),
    ('PixelFeatureSimilarityLoss', TILED, ('feat', 2, 64, 128, 256, 512)),
    ('PixelFeatureSimilarityLoss', {}, ('feat', 8, 64, 128, 128, 512)),
    ('PixelFeatureSimilarityLoss', GRAM32, ('feat', 8, 64, 128, 128, 512)),
    ('PixelFeatureSimilarityLoss', {}, ('feat', 8, 64, 128, 512, 2048)),
    ('AffinityLoss', {}, ('feat', 2, 64, 128, 256, 512)),
    ('AffinityLoss', TILED, ('feat', 2, 64, 128, 256, 512)),
    ('AffinityLoss', {}, ('feat', 8, 64, 128, 128, 512)),
    ('AffinityLoss', {}, ('feat', 2, 16, 32, 256, 256)),
    ('AffinityLoss', GRAM64, ('feat', 2, 16, 32, 256, 256)),
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
]
QUICK_CASES = [
    ('PixelFeatureSimilarityLoss', {}, ('feat', 2, 16, 32, 32, 64)),
    ('PixelFeatureSimilarityLoss', GRAM64, ('feat', 2, 16, 32, 32, 64)),
    ('PixelFeatureSimilarityLoss', GRAM32, ('feat', 2, 16, 32, 32, 64)),
    ('PixelFeatureSimilarityLoss', TILED, ('feat', 2, 16, 32, 32, 64)),
    ('AffinityLoss', {}, ('feat', 2, 16, 32, 256, 256)),
    ('AffinityLoss', GRAM64, ('feat', 2, 16, 32, 256, 256)),
    ('AffinityLoss', TILED, ('feat', 2, 16, 32, 256, 256)),
    ('PixelFeatureSimilarityLoss', {'mode': 'softmax_kl', 'chunk_size': 128},
     ('feat', 2, 16, 32, 32, 64)),
    ('InterClassSimilarityLoss', {}, ('logits', 2, 16, 32, 19)),
    ('InterClassSimilarityLoss', {'formulation': 'official'}, ('logits', 2, 16, 32, 19)),
    ('CategorySimilarityLoss', {}, ('logits', 2, 16, 32, 19)),
    ('PixelwiseKDLoss', {}, ('logits', 2, 16, 32, 19)),
    ('PixelSimilarityLoss', {}, ('stages', 2, 16, 32, [8, 16, 19], [16, 32, 19])),
]


def gpu_cases(shrink=1):
    """Cityscapes scale (64x128 positions at stride 8), batch 2 and 8, the channel counts of
    the model-zoo pairs' head features, every exact algorithm and Gram precision."""
    h, w = 64 // shrink, 128 // shrink
    cases = []
    for batch in (2, 8):
        for c_s, c_t in ((128, 512), (256, 256)):  # R18/R101 heads; SegFormer B0/B2 heads
            for loss in ('PixelFeatureSimilarityLoss', 'AffinityLoss'):
                for options in ({}, GRAM64, GRAM32, TILED):
                    cases.append((loss, options, ('feat', batch, h, w, c_s, c_t)))
        cases += [('InterClassSimilarityLoss', {}, ('logits', batch, h, w, 19)),
                  ('InterClassSimilarityLoss', {'formulation': 'official'},
                   ('logits', batch, h, w, 19)),
                  ('CategorySimilarityLoss', {}, ('logits', batch, h, w, 19)),
                  ('PixelwiseKDLoss', {}, ('logits', batch, h, w, 19)),
                  ('KnowledgeAdaptationLoss', {}, ('feat', batch, h, w, 256, 256))]
    return cases


def gpu_targets(results):
    """The GPU issue's targets, each with the figure that meets it or not."""
    lines = []
    for r in results.get('zoo_steps', []):
        ok = r['step_ratio'] <= 1.10
        lines.append(f"- {r['pair']} {r['method']}: full step {r['step_ratio']:.2f}x student "
                     f"step + teacher forward (target <= 1.10x): {'met' if ok else 'NOT met'}")
    for r in results['losses']:
        if r['loss'] in ('PixelFeatureSimilarityLoss', 'AffinityLoss') and \
                r['case'].startswith('N=8') and not r['options']:
            memory, speed = r.get('memory_ratio'), r.get('time_ratio')
            if memory is None:
                lines.append(f"- {r['loss']} {r['case']}: naive {r['naive'] and r['naive']['status']}"
                             ' (ratio not measurable)')
                continue
            ok = memory >= 10 and speed >= 1
            lines.append(f"- {r['loss']} {r['case']}: {memory:.1f}x less peak memory, "
                         f"{speed:.2f}x naive's speed (target >= 10x, >= 1x): "
                         f"{'met' if ok else 'NOT met'}")
    oom = [f"{r['loss']} {r['case']}" for r in results['losses']
           if r['case'].startswith('N=8') and r['ours'].get('status') != 'ok']
    lines.append(f"- out of memory at batch 8: {', '.join(oom) if oom else 'none'}")
    return '\n'.join(lines)


SCALING_SIDES = {'full': [(16, 32), (32, 32), (32, 64), (64, 64), (64, 128)],
                 'quick': [(8, 8), (8, 16), (16, 16)]}
STEP_METHODS = ['pixel_kd', 'dsd', 'pfs', 'ka_stage2', 'aicsd']
# teacher_precision of the extra reduced-precision step row: bf16 autocast on CPUs, fp16 on GPUs
REDUCED_PRECISION = {'cpu': 'bf16', 'cuda': 'fp16'}


# ----------------------------------------------------------------------------- worker side
def _memory_probe(device):
    import torch
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        return lambda: (torch.cuda.max_memory_allocated() - base) / 2**20
    # reset the peak resident set (VmHWM) so earlier transients (building the inputs) are not
    # counted, then report how far the peak rose above the memory in use now
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')
    base = _status_kib('VmRSS')
    return lambda: (_status_kib('VmHWM') - base) / 1024


def _status_kib(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise KeyError(field)


def _timer(device):
    import torch
    if device == 'cuda':
        def measure(fn):
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(
                enable_timing=True)
            start.record()
            fn()
            stop.record()
            torch.cuda.synchronize()
            return start.elapsed_time(stop)
        return measure

    def measure(fn):
        begin = time.perf_counter()
        fn()
        return (time.perf_counter() - begin) * 1e3
    return measure


def _limit_cpu_memory(gib):
    import resource
    with open('/proc/self/statm') as f:
        vm_pages = int(f.read().split()[0])
    limit = vm_pages * os.sysconf('SC_PAGE_SIZE') + int(gib * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _inputs(shape, device):
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


def worker_loss(spec):
    import torch
    torch.set_num_threads(spec['threads'])
    device = spec['device']
    if spec['impl'] == 'naive':
        sys.path.insert(0, HERE)
        from benchmark_naive import NAIVE
        fn = NAIVE[naive_key(spec['loss'], spec['options'])]
    else:
        import mmseg_distill  # noqa: F401
        from mmrazor.registry import MODELS
        fn = MODELS.build(dict(type=spec['loss'], **spec['options'])).to(device)
    student, teacher = _inputs(spec['shape'], device)
    chosen = _pairwise_choice(fn, spec, student, teacher)
    leaves = student if isinstance(student, list) else [student]
    for leaf in leaves:
        leaf.requires_grad_(True)
    if device == 'cpu' and spec['impl'] == 'naive':
        _limit_cpu_memory(spec['budget_gib'])
    peak = _memory_probe(device)
    measure = _timer(device)
    value = []

    def step():
        for leaf in leaves:
            leaf.grad = None
        loss = fn(student, teacher)
        loss.backward()
        value.append(float(loss))

    times = []
    try:
        first = measure(step)
        if first < 2000:  # cheap enough: the first run was the warm-up
            deadline = time.time() + spec['max_seconds']
            while len(times) < spec['repeats'] and time.time() < deadline:
                times.append(measure(step))
        else:
            times.append(first)
    except (RuntimeError, MemoryError) as error:
        if 'memory' not in str(error).lower() and 'alloc' not in str(error).lower():
            raise
        return {'status': 'oom', 'error': str(error).splitlines()[0][:160]}
    return {'status': 'ok', 'time_ms': statistics.median(times), 'repeats': len(times),
            'peak_extra_mib': peak(), 'value': value[-1], 'algorithm': chosen}


def _pairwise_choice(fn, spec, student, teacher):
    """The algorithm the loss will run for these inputs ('gram'/'tiled'), or None."""
    if spec['impl'] != 'ours' or getattr(fn, 'algorithm', None) is None or \
            getattr(fn, 'mode', 'cosine_mse') != 'cosine_mse':
        return None
    from mmseg_distill.models.utils.tiled_similarity import resolve_algorithm
    rows = lambda x: x.flatten(2).transpose(1, 2)  # noqa: E731
    return resolve_algorithm(fn.algorithm, rows(student), rows(teacher), fn.gram_dtype)


def naive_key(loss, options):
    suffix = {'softmax_kl': '/softmax_kl'}.get(options.get('mode'), '') or \
        {'official': '/official'}.get(options.get('formulation'), '')
    return loss + suffix


def worker_step(spec):
    """One method on one pair: component times and peak memory.

    Default pair DeepLabV3 R101-D8 -> R18-D8 with the method fragment; with ``spec['leaf']``
    the leaf config written by tools/inspect_pair.py for any pair (``spec['student']`` then
    names the student config for the student-only step)."""
    import torch
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm

    import mmseg_distill  # noqa: F401
    from mmrazor.registry import MODELS
    torch.set_num_threads(spec['threads'])
    device, method = spec['device'], spec['method']
    size, batch = spec['size'], spec['batch']
    teacher_cfg = 'mmseg::deeplabv3/deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.py'
    student_cfg = spec.get('student',
                           'mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py')
    inputs, samples = random_seg_batch(batch, size, spec.get('num_classes', 19))
    inputs = inputs.to(device)
    samples = [s.to(device) for s in samples]
    if method == 'student_only':
        from mmseg_distill.models import ModelFromConfig
        model = revert_sync_batchnorm(ModelFromConfig(student_cfg, random_init=True))
        run = lambda: model.loss(inputs, samples)  # noqa: E731
        params = list(model.parameters())
    elif spec.get('leaf'):
        cfg = Config.fromfile(spec['leaf']).model
        cfg.architecture.random_init = True
        encoder = cfg.distiller.get('connectors', {}).get('teacher_autoencoder')
        if encoder is not None and encoder.get('mode') == 'encode':  # a random stage 1
            from mmseg_distill.models.connectors import KAAutoEncoderConnector
            path = osp.join(spec['tmp'], f"ka_stage1_{encoder.in_channels}.pth")
            state = KAAutoEncoderConnector(in_channels=encoder.in_channels).state_dict()
            torch.save({'state_dict': {encoder.checkpoint_prefix + k: v
                                       for k, v in state.items()}}, path)
            encoder.checkpoint = path
        cfg.teacher_fast_path = spec['fast_path']
        cfg.teacher_precision = spec.get('teacher_precision', 'fp32')
        model = revert_sync_batchnorm(MODELS.build(cfg))
        run = lambda: model.loss(inputs, samples)  # noqa: E731
        params = [p for p in model.parameters() if p.requires_grad]
    else:
        fragment = {'ka_stage2': 'ka_stage2'}.get(method, method)
        cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/distill', f'{fragment}.py')).model
        cfg.architecture = dict(cfg_path=student_cfg, pretrained=False)
        cfg.teacher = dict(cfg_path=teacher_cfg, pretrained=False)
        if method == 'ka_stage2':
            from mmseg_distill.models.connectors import KAAutoEncoderConnector
            path = osp.join(spec['tmp'], 'ka_stage1.pth')
            ae = KAAutoEncoderConnector(in_channels=512)
            prefix = 'distiller.connectors.teacher_autoencoder.'
            torch.save({'state_dict': {prefix + k: v for k, v in ae.state_dict().items()}}, path)
            cfg.distiller.connectors.teacher_autoencoder.update(in_channels=512, checkpoint=path)
            for name in ('student_adapter', 'student_affinity_adapter'):
                cfg.distiller.connectors[name].update(in_channel=128, out_channel=256)
        cfg.teacher_fast_path = spec['fast_path']
        cfg.teacher_precision = spec.get('teacher_precision', 'fp32')
        model = revert_sync_batchnorm(MODELS.build(cfg))
        run = lambda: model.loss(inputs, samples)  # noqa: E731
        params = [p for p in model.parameters() if p.requires_grad]
    model.to(device)
    model.train()
    measure = _timer(device)
    peak = _memory_probe(device)

    def full_step():
        for p in params:
            p.grad = None
        losses = run()
        sum(v for k, v in losses.items() if 'loss' in k).backward()

    measure(full_step)  # warm-up
    if spec.get('memory_only'):
        return {'peak_extra_mib': peak()}
    result = {'step_ms': statistics.median(measure(full_step) for _ in range(spec['repeats']))}
    if method != 'student_only':
        def teacher_forward():  # as the step runs it: fast path or mode='loss'
            with model.distiller.teacher_recorders:
                model._run_teacher(inputs, samples)
        result['teacher_forward_ms'] = statistics.median(
            measure(teacher_forward) for _ in range(spec['repeats']))
        # distillation losses alone: the student records replaced by leaf copies
        run()
        for recorder in model.distiller.student_recorders.recorders.values():
            recorder._data_buffer = [_detached_leaf(r) for r in recorder.data_buffer]
        leaves = [p for p in model.distiller.parameters() if p.requires_grad]

        def distill_only():
            for p in leaves:
                p.grad = None
            losses = model.distiller.compute_distill_losses()
            sum(losses.values()).backward()
        student_params = [p for p in model.student.parameters() if p.requires_grad]

        def student_step():  # the student's own loss and backward: the overheads' denominator
            for p in student_params:
                p.grad = None
            losses = model.student.loss(inputs, samples)
            sum(v for k, v in losses.items() if 'loss' in k).backward()
        # interleaved, so that a slower or faster spell of the machine hits both alike
        measure(distill_only)
        measure(student_step)
        distill_ms, student_ms = [], []
        for _ in range(spec['repeats']):
            distill_ms.append(measure(distill_only))
            student_ms.append(measure(student_step))
        result['distill_losses_ms'] = statistics.median(distill_ms)
        result['student_step_same_run_ms'] = statistics.median(student_ms)
        # teacher-side connectors (KA's frozen encoder) are part of the distill time above;
        # timed alone too, since they process only the teacher's feature without gradients
        def teacher_side_of(mappings):  # (recorder, data_idx, connector) on teacher records
            return {(r['recorder'], r.get('data_idx'), r['connector'])
                    for mapping in mappings for r in mapping.values()
                    if isinstance(r, dict) and not r['from_student'] and r.get('connector')}
        teacher_side = teacher_side_of(model.distiller.loss_forward_mappings.values())

        def teacher_connector(recorder, data_idx, connector):
            with torch.no_grad():
                model.distiller.get_record(recorder, False, data_idx=data_idx,
                                           connector=connector)
        connector_ms = {key: statistics.median(measure(lambda: teacher_connector(*key))
                                               for _ in range(spec['repeats']))
                        for key in teacher_side}
        result['teacher_connectors_ms'] = sum(connector_ms.values())
        # each loss alone with its student-side connectors: where the student-side time goes
        mappings = model.distiller.loss_forward_mappings
        result['per_loss_ms'] = {}
        for name, mapping in list(mappings.items()):
            model.distiller.loss_forward_mappings = {name: mapping}
            used = sum(connector_ms[key] for key in teacher_side_of([mapping]))
            measure(distill_only)
            result['per_loss_ms'][name] = statistics.median(
                measure(distill_only) for _ in range(spec['repeats'])) - used
        model.distiller.loss_forward_mappings = mappings
    result['peak_extra_mib'] = peak()
    return result


def random_seg_batch(batch, size, num_classes):
    import torch
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    g = torch.Generator().manual_seed(0)
    samples = []
    for _ in range(batch):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=torch.randint(0, num_classes, (1, *size),
                                                         generator=g))
        sample.set_metainfo(dict(img_shape=tuple(size), pad_shape=tuple(size),
                                 ori_shape=tuple(size)))
        samples.append(sample)
    return torch.randn(batch, 3, *size, generator=g), samples


def _detached_leaf(value):
    if isinstance(value, (list, tuple)):
        return type(value)(_detached_leaf(v) for v in value)
    if hasattr(value, 'detach') and value.is_floating_point():
        return value.detach().clone().requires_grad_(True)
    return value


# ----------------------------------------------------------------------------- driver side
def run_worker(kind, spec, timeout=None):
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    if spec.get('pin_malloc', True):
        # RSS then follows live memory (freed buffers go back to the system), at the price of
        # a page-fault per large allocation: right for memory, wrong for allocation-heavy timing
        env['MALLOC_MMAP_THRESHOLD_'] = '131072'
    try:
        out = subprocess.run([sys.executable, __file__, '--worker', kind, json.dumps(spec)],
                             capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {'status': 'timeout', 'seconds': timeout}
    lines = [l for l in out.stdout.splitlines() if l.startswith('{')]
    if out.returncode != 0 or not lines:
        tail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ['killed']
        if out.returncode < 0 or 'MemoryError' in out.stderr or 'memory' in tail[0].lower():
            return {'status': 'oom', 'error': tail[0][:160]}
        raise RuntimeError(f'worker failed: {out.stderr[-2000:]}')
    return json.loads(lines[-1])


def describe(shape):
    if shape[0] == 'feat':
        _, n, h, w, cs, ct = shape
        return f'N={n} P={h}x{w} C_S={cs} C_T={ct}'
    if shape[0] == 'logits':
        _, n, h, w, k = shape
        return f'N={n} P={h}x{w} K={k}'
    _, n, h, w, cs, ct = shape
    return f'N={n} P={h}x{w} C_S={cs} C_T={ct}'


def fmt(value, unit=''):
    return '-' if value is None else (f'{value:,.1f}{unit}' if value >= 10 else
                                      f'{value:.2f}{unit}')


def bench_losses(args, cases):
    sys.path.insert(0, HERE)
    from benchmark_naive import NAIVE
    rows, naive_runs = [], {}
    for loss, options, shape in cases:
        base = dict(loss=loss, options=options, shape=shape, device=args.device,
                    threads=args.threads, repeats=args.repeats, max_seconds=args.max_seconds,
                    budget_gib=args.naive_budget_gib)
        ours = run_worker('loss', dict(base, impl='ours'))
        key = naive_key(loss, options)
        naive = None
        if key in NAIVE:  # one naive run per form and shape, shared by the variants
            if (key, str(shape)) not in naive_runs:
                naive_runs[key, str(shape)] = run_worker('loss', dict(base, impl='naive'),
                                                         timeout=args.naive_timeout)
            naive = naive_runs[key, str(shape)]
        row = dict(loss=loss, options=options, case=describe(shape), ours=ours, naive=naive)
        if naive and naive['status'] == 'ok' and ours['status'] == 'ok':
            row['time_ratio'] = naive['time_ms'] / ours['time_ms']
            row['memory_ratio'] = naive['peak_extra_mib'] / max(ours['peak_extra_mib'], 1e-3)
            row['value_rel_diff'] = abs(naive['value'] - ours['value']) / max(
                abs(naive['value']), 1e-30)
        elif naive and naive['status'] == 'timeout' and ours['status'] == 'ok':
            row['time_ratio_at_least'] = naive['seconds'] * 1e3 / ours['time_ms']
        rows.append(row)
        print(f"  {loss} {options or ''} {row['case']}: ours {fmt(ours.get('time_ms'))} ms",
              flush=True)
    return rows


def bench_scaling(args):
    rows = []
    for loss in ('PixelFeatureSimilarityLoss', 'AffinityLoss'):
        for h, w in SCALING_SIDES[args.preset]:
            shape = ('feat', 2, h, w, 128, 512)
            base = dict(loss=loss, options={}, shape=shape, device=args.device,
                        threads=args.threads, repeats=3, max_seconds=args.max_seconds,
                        budget_gib=args.naive_budget_gib)
            rows.append(dict(loss=loss, positions=h * w, ours=run_worker('loss',
                                                                         dict(base, impl='ours')),
                             naive=run_worker('loss', dict(base, impl='naive'),
                                              timeout=args.naive_timeout)))
    return rows


def plot_scaling(rows, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for loss, marker in (('PixelFeatureSimilarityLoss', 'o'), ('AffinityLoss', 's')):
        sub = [r for r in rows if r['loss'] == loss]
        for impl, style in (('ours', '-'), ('naive', '--')):
            pts = [(r['positions'], r[impl]) for r in sub if r[impl]['status'] == 'ok']
            label = f"{loss.replace('Loss', '')} {impl}"
            axes[0].plot([p for p, _ in pts], [m['time_ms'] for _, m in pts], style,
                         marker=marker, label=label)
            axes[1].plot([p for p, _ in pts], [max(m['peak_extra_mib'], 0.1) for _, m in pts],
                         style, marker=marker, label=label)
    for ax, title in zip(axes, ('forward+backward time (ms)', 'peak extra memory (MiB)')):
        ax.set_xscale('log')
        ax.set_yscale('log')
        ax.set_xlabel('positions P (batch 2, C_S=128, C_T=512)')
        ax.set_title(title)
        ax.grid(True, which='both', alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def bench_steps(args):
    import tempfile
    rows = []
    size = (128, 256) if args.preset == 'quick' else (256, 512)
    runs = [('student_only', False, 'fp32')] + \
        [(m, fast, 'fp32') for m in STEP_METHODS for fast in (True, False)] + \
        [('ka_stage2', True, REDUCED_PRECISION[args.device])]  # KA's frozen encoder included
    with tempfile.TemporaryDirectory() as tmp:
        for method, fast, precision in runs:
            spec = dict(method=method, device=args.device, threads=args.threads, size=size,
                        batch=2, repeats=2 if args.preset == 'quick' else 5, tmp=tmp,
                        fast_path=fast, teacher_precision=precision)
            # times from a run with glibc's default allocator settings, the peak memory from a
            # second run with the mmap threshold pinned (see run_worker)
            row = dict(method=method, teacher_fast_path=fast, teacher_precision=precision,
                       **run_worker('step', dict(spec, pin_malloc=False)))
            row.update(run_worker('step', dict(spec, memory_only=True)))
            rows.append(row)
            print(f'  step {method} fast path {fast} teacher {precision}: '
                  f'{fmt(rows[-1].get("step_ms"))} ms', flush=True)
    for row in rows[1:]:
        # the student step timed in the same worker, interleaved with the distillation losses
        student = row['student_step_ms'] = row['student_step_same_run_ms']
        row['distill_overhead'] = row['distill_losses_ms'] / student
        row['distill_overhead_student_side'] = (row['distill_losses_ms'] -
                                                row['teacher_connectors_ms']) / student
        # 1.0 would be a step that costs exactly a student step plus the teacher's forward
        row['step_ratio'] = row['step_ms'] / (student + row['teacher_forward_ms'])
    return dict(pair='DeepLabV3 R101-D8 -> DeepLabV3 R18-D8 (random weights)',
                input=f'2x3x{size[0]}x{size[1]}', rows=rows)


# The model-zoo pairs at their real crop and per-GPU batch (the GPU preset's step table).
ZOO_PAIRS = [
    ('PSPNet R101-D8 -> R18-D8', 'mmseg::pspnet/pspnet_r101-d8_4xb2-80k_cityscapes-512x1024.py',
     'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py', (512, 1024), 2, 19),
    ('DeepLabV3 R101-D8 -> R18-D8',
     'mmseg::deeplabv3/deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.py',
     'mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py', (512, 1024), 2, 19),
    ('DeepLabV3+ R101-D8 -> MobileNetV2',
     'mmseg::deeplabv3plus/deeplabv3plus_r101-d8_4xb4-40k_voc12aug-512x512.py',
     osp.join(REPO, 'configs/students/deeplabv3plus_mobilenet-v2-d8_4xb4-40k_voc12aug-'
              '512x512.py'), (512, 512), 4, 21),
    ('SegFormer MiT-B2 -> MiT-B0', 'mmseg::segformer/segformer_mit-b2_8xb2-160k_ade20k-512x512.py',
     'mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py', (512, 512), 4, 150),
]
ZOO_METHODS = ['pixel_kd', 'dsd', 'pfs', 'ka', 'aicsd']


def bench_zoo_steps(args, shrink=1):
    """Every method on the four model-zoo pairs; the leaves come from tools/inspect_pair.py.

    ``shrink`` divides crops (CPU test runs of the GPU preset)."""
    import tempfile
    from argparse import Namespace
    sys.path.insert(0, HERE)
    import inspect_pair
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, teacher, student, crop, batch, classes in ZOO_PAIRS:
            crop = [crop[0] // shrink, crop[1] // shrink]
            base = dict(device=args.device, threads=args.threads, size=crop, batch=batch,
                        repeats=args.repeats, tmp=tmp, student=student, num_classes=classes,
                        fast_path=True)
            student_only = run_worker('step', dict(base, method='student_only',
                                                   pin_malloc=False))
            student_only.update(run_worker('step', dict(base, method='student_only',
                                                        memory_only=True)))
            t_model, _ = inspect_pair.build(teacher, classes, crop)
            s_model, s_cfg = inspect_pair.build(student, classes, crop)
            t_points = inspect_pair.candidates(t_model, crop)
            s_points = inspect_pair.candidates(s_model, crop)
            del t_model, s_model
            for method in ZOO_METHODS:
                out = osp.join(tmp, f'{len(rows)}_{method}.py')
                leaves = inspect_pair.write_leaves(
                    Namespace(teacher=teacher, student=student, method=method,
                              num_classes=classes, crop=crop, out=out), t_points, s_points,
                    s_cfg)
                for path, text in leaves:
                    with open(path, 'w') as f:
                        f.write(text)
                row = dict(pair=name, method=method, crop=crop, batch=batch,
                           student_step_ms=student_only['step_ms'],
                           student_peak_mib=student_only['peak_extra_mib'],
                           **run_worker('step', dict(base, method=method, leaf=out,
                                                     pin_malloc=False)))
                row.update(run_worker('step', dict(base, method=method, leaf=out,
                                                   memory_only=True)))
                row['step_ratio'] = row['step_ms'] / (row['student_step_ms'] +
                                                      row['teacher_forward_ms'])
                rows.append(row)
                print(f"  {name} {method}: {fmt(row['step_ms'])} ms, ratio "
                      f"{row['step_ratio']:.2f}", flush=True)
    return rows


def zoo_markdown(rows):
    out = ['| pair | crop x batch | method | student step ms | teacher fwd ms | distill ms | '
           'full step ms | full / (student + teacher fwd) | peak MiB (student alone) |',
           '|' + ' --- |' * 9]
    for r in rows:
        out.append(f"| {r['pair']} | {r['crop'][0]}x{r['crop'][1]} x {r['batch']} | "
                   f"{r['method']} | {fmt(r['student_step_ms'])} | "
                   f"{fmt(r['teacher_forward_ms'])} | {fmt(r['distill_losses_ms'])} | "
                   f"{fmt(r['step_ms'])} | {r['step_ratio']:.2f} | "
                   f"{fmt(r['peak_extra_mib'])} ({fmt(r['student_peak_mib'])}) |")
    return '\n'.join(out)


def markdown(results):
    out = [f"Device: {results['device']}; preset {results['preset']}; "
           f"{results['date']}; torch {results['torch']}; threads {results['threads']}.", '',
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
            naive_cells = [fmt(naive['time_ms']), fmt(naive['peak_extra_mib'])]
        rel_diff = f"{r['value_rel_diff']:.1e}" if 'value_rel_diff' in r else '-'
        time_ratio = fmt(r.get('time_ratio'), 'x') if 'time_ratio_at_least' not in r else \
            f"> {fmt(r['time_ratio_at_least'], 'x')}"
        out.append(f"| {name} | {r['case']} | {fmt(ours.get('time_ms'))} | "
                   f"{fmt(ours.get('peak_extra_mib'))} | {naive_cells[0]} | {naive_cells[1]} | "
                   f"{time_ratio} | {fmt(r.get('memory_ratio'), 'x')} | "
                   f"{rel_diff} |")
    if results.get('steps'):
        steps = results['steps']
        out += ['', f"Training step: {steps['pair']}, input {steps['input']}.", '',
                f"Student-only step (a run of its own): {fmt(steps['rows'][0]['step_ms'])} ms. "
                "'student step' = the student's own loss and backward timed in each row's run, "
                "interleaved with 'distill' (the ratios divide by it); 'distill' = all "
                'distillation losses with their connectors, forward+backward; of it, '
                "'teacher-side' = connectors applied to the teacher's feature only (KA's frozen "
                'encoder).', '',
                '| method | teacher fast path, precision | full step ms | teacher fwd ms | '
                'student step ms | full / (student + teacher fwd) | distill ms | '
                'of it teacher-side ms | distill / student step | without teacher-side | '
                'peak extra MiB |',
                '|' + ' --- |' * 11]
        for r in steps['rows']:
            if r['method'] == 'student_only':
                continue
            out.append(f"| {r['method']} | {'on' if r['teacher_fast_path'] else 'off'}, "
                       f"{r.get('teacher_precision', 'fp32')} | "
                       f"{fmt(r['step_ms'])} | {fmt(r['teacher_forward_ms'])} | "
                       f"{fmt(r['student_step_ms'])} | "
                       f"{r['step_ratio']:.2f} | {fmt(r['distill_losses_ms'])} | "
                       f"{fmt(r['teacher_connectors_ms'])} | "
                       f"{100 * r['distill_overhead']:.1f}% | "
                       f"{100 * r['distill_overhead_student_side']:.1f}% | "
                       f"{fmt(r['peak_extra_mib'])} |")
        split = [f"{r['method']} ({r.get('teacher_precision', 'fp32')}): " +
                 ', '.join(f'{name} {fmt(ms)}' for name, ms in r['per_loss_ms'].items())
                 for r in steps['rows']
                 if len(r.get('per_loss_ms', {})) > 1 and r['teacher_fast_path']]
        if split:
            out += ['', 'Student side per loss, ms (each loss with its student-side connectors, '
                    'forward+backward, timed alone): ' + '; '.join(split) + '.']
    return '\n'.join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--preset', choices=['full', 'quick', 'gpu'], default='full',
                        help="gpu: Cityscapes-scale losses and the four model-zoo pairs at "
                             "their real crop and batch (docs/benchmark_gpu.md)")
    parser.add_argument('--shrink', type=int, default=1,
                        help='divide the gpu preset\'s sizes (a CPU test run of it)')
    parser.add_argument('--report', help='also write the Markdown tables to this file')
    parser.add_argument('--device', default=None)
    parser.add_argument('--out', default='work_dirs/benchmark')
    parser.add_argument('--threads', type=int, default=os.cpu_count())
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--max-seconds', type=float, default=30.0,
                        help='time budget for the repeats of one measurement')
    parser.add_argument('--naive-budget-gib', type=float, default=12.0)
    parser.add_argument('--naive-timeout', type=float, default=300.0,
                        help='seconds after which a naive measurement is stopped')
    parser.add_argument('--skip-step', action='store_true')
    parser.add_argument('--steps-only', action='store_true',
                        help="re-measure only the step table; keep --out's other results, if any")
    parser.add_argument('--worker', nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, spec = args.worker
        print(json.dumps((worker_loss if kind == 'loss' else worker_step)(json.loads(spec))))
        return
    import torch
    args.device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    os.makedirs(args.out, exist_ok=True)
    device_name = torch.cuda.get_device_name() if args.device == 'cuda' else \
        f'CPU ({os.cpu_count()} cores)'
    results = dict(device=device_name, preset=args.preset, torch=torch.__version__,
                   date=time.strftime('%Y-%m-%d'), threads=args.threads,
                   naive_budget_gib=args.naive_budget_gib)
    results['cuda'] = torch.version.cuda
    if args.steps_only:
        previous = osp.join(args.out, 'benchmark.json')
        kept = {'losses': []}  # no earlier run in --out: the step table alone
        if osp.exists(previous):
            with open(previous) as f:
                kept = json.load(f)
        results.update(losses=kept['losses'], scaling=kept.get('scaling'))
        results['steps'] = bench_steps(args)
        return write_results(args, results)
    print('[benchmark] losses', flush=True)
    cases = {'full': FULL_CASES, 'quick': QUICK_CASES}.get(args.preset) or \
        gpu_cases(args.shrink)
    results['losses'] = bench_losses(args, cases)
    if args.preset == 'gpu':
        if not args.skip_step:
            print('[benchmark] model-zoo training steps', flush=True)
            results['zoo_steps'] = bench_zoo_steps(args, args.shrink)
        return write_results(args, results)
    print('[benchmark] scaling', flush=True)
    results['scaling'] = bench_scaling(args)
    plot_scaling(results['scaling'], osp.join(args.out, 'scaling.png'))
    if not args.skip_step:
        print('[benchmark] training step', flush=True)
        results['steps'] = bench_steps(args)
    write_results(args, results)


def write_results(args, results):
    with open(osp.join(args.out, 'benchmark.json'), 'w') as f:
        json.dump(results, f, indent=1)
    table = markdown(results)
    if results.get('zoo_steps'):
        table += ('\n\nTraining steps of the model-zoo pairs (random weights, teacher fast path '
                  'on):\n\n' + zoo_markdown(results['zoo_steps']))
    if args.preset == 'gpu':
        table += '\n\nTargets:\n\n' + gpu_targets(results)
    with open(osp.join(args.out, 'benchmark.md'), 'w') as f:
        f.write(table + '\n')
    if args.report:
        with open(args.report, 'w') as f:
            f.write(f"# Benchmark: `python tools/benchmark.py {' '.join(sys.argv[1:])}`\n\n"
                    f"CUDA {results.get('cuda')}\n\n" + table + '\n')
    print(table)
    print(f'[benchmark] wrote {args.out}/benchmark.json, benchmark.md')


if __name__ == '__main__':
    main()

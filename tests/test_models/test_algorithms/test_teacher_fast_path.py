"""The teacher fast path records what the plain path records, and skips what nobody reads."""
import warnings

import pytest
import torch
from tiny_pair import build_algorithm, fake_batch, load_model_cfg

import mmseg_distill  # noqa: F401


def _algorithm(method_dir, name, prepare=None, **options):
    cfg = load_model_cfg(method_dir, name)
    if prepare:
        prepare(cfg)
    cfg.update(options)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        algorithm = build_algorithm(cfg)
    algorithm.train()
    return algorithm


def _teacher_records(algorithm, batch):
    torch.manual_seed(0)  # the student's dropout draws the same masks in both runs
    losses = algorithm.loss(*batch)
    manager = algorithm.distiller.teacher_recorders
    records = {name: [r.detach().clone() if isinstance(r, torch.Tensor) else
                      [x.detach().clone() for x in r] for r in recorder.data_buffer]
               for name, recorder in manager.recorders.items()}
    return records, {k: v.detach() for k, v in losses.items()}


def _calls(module):
    calls = []
    module.register_forward_hook(lambda *_: calls.append(1))
    return calls


def test_fast_path_records_exactly_what_the_loss_mode_records_aux_head_included():
    algorithm = _algorithm('dsd', 'dsd')  # records the teacher's auxiliary-head logits
    assert algorithm.teacher_side.uses_fast_path
    batch = fake_batch()
    fast, fast_losses = _teacher_records(algorithm, batch)
    algorithm.teacher_side.fast_path = False
    plain, plain_losses = _teacher_records(algorithm, batch)
    assert set(fast) == {'aux_logits', 'head_feat', 'logits'}
    for name in plain:
        assert len(fast[name]) == len(plain[name]) == 1, name
        for a, b in zip(fast[name], plain[name]):
            for x, y in zip(a if isinstance(a, list) else [a], b if isinstance(b, list) else [b]):
                assert torch.equal(x, y), name
    assert fast_losses.keys() == plain_losses.keys()
    for key in plain_losses:
        assert torch.equal(fast_losses[key], plain_losses[key]), key


def test_fast_path_skips_the_teacher_loss_and_unread_auxiliary_heads():
    algorithm = _algorithm('pixel_kd', 'pixel-kd')
    teacher = algorithm.teacher
    aux_calls = _calls(teacher.auxiliary_head.conv_seg)  # heads call forward() directly
    ce_calls = []
    teacher.decode_head.loss_by_feat = lambda *a, **k: ce_calls.append(1) or {}
    algorithm.loss(*fake_batch())
    assert aux_calls == [] and ce_calls == []
    algorithm.teacher_side.fast_path = False
    algorithm.loss(*fake_batch())
    assert aux_calls == [1] and ce_calls == [1]


@pytest.mark.parametrize('precision, dtype', [('bf16', torch.bfloat16), ('fp16', torch.float16)])
def test_reduced_precision_teacher_stays_within_tolerance(precision, dtype):
    batch = fake_batch()
    reference = _algorithm('pfs', 'pfs')
    reference_logits = (reference.loss(*batch), reference.distiller.get_record('logits', False))
    reduced = _algorithm('pfs', 'pfs', teacher_precision=precision)
    reduced.load_state_dict(reference.state_dict())
    losses = reduced.loss(*batch)
    raw = reduced.distiller.teacher_recorders.get_recorder('logits').data_buffer[0]
    assert raw.dtype == dtype  # the teacher really ran in reduced precision
    logits = reduced.distiller.get_record('logits', False)
    assert logits.dtype == torch.float32  # and hands the losses float32 targets
    scale = reference_logits[1].abs().max()
    # bf16 keeps 8 bits of mantissa: ~0.4% of the logit range through a few layers
    assert (logits - reference_logits[1]).abs().max() < 0.03 * scale
    for key, value in losses.items():
        assert torch.isfinite(value), key
        torch.testing.assert_close(value, reference_logits[0][key], rtol=0.1, atol=1e-3)


def test_an_fp32_teacher_stays_fp32_under_the_runs_autocast():
    """`--amp` runs the whole step under autocast; teacher_precision='fp32' keeps the teacher
    out of it (its records bit-equal to a step without autocast), 'bf16' puts it in."""
    batch = fake_batch()
    plain = _algorithm('pfs', 'pfs')
    plain.loss(*batch)
    expected = plain.distiller.teacher_recorders.get_recorder('logits').data_buffer[0]
    for precision, dtype in (('fp32', torch.float32), ('bf16', torch.bfloat16)):
        algorithm = _algorithm('pfs', 'pfs', teacher_precision=precision)
        algorithm.load_state_dict(plain.state_dict())
        with torch.autocast('cpu', dtype=torch.bfloat16):  # what AmpOptimWrapper does
            algorithm.loss(*batch)
        raw = algorithm.distiller.teacher_recorders.get_recorder('logits').data_buffer[0]
        assert raw.dtype == dtype, precision
        if precision == 'fp32':
            assert torch.equal(raw, expected)


def test_channels_last_teacher_records_the_same_values():
    batch = fake_batch()
    plain = _algorithm('pixel_kd', 'pixel-kd')
    plain.loss(*batch)
    expected = plain.distiller.get_record('logits', False)
    channels_last = _algorithm('pixel_kd', 'pixel-kd', teacher_channels_last=True)
    channels_last.load_state_dict(plain.state_dict())
    assert channels_last.teacher.backbone.stem[0].weight.is_contiguous(
        memory_format=torch.channels_last)
    channels_last.loss(*batch)
    torch.testing.assert_close(channels_last.distiller.get_record('logits', False), expected,
                               rtol=1e-5, atol=1e-5)


def test_heads_with_their_own_training_output_keep_the_plain_path():
    from mmseg_distill.models.algorithms.teacher_fast_path import fast_path_blocker
    algorithm = _algorithm('pixel_kd', 'pixel-kd')
    head = algorithm.teacher.decode_head
    head.__class__ = type('SampledPointsHead', (type(head), ),
                          {'loss': lambda self, *args, **kwargs: {}})
    reason = fast_path_blocker(algorithm.teacher, algorithm.distiller.teacher_recorders, False)
    assert 'SampledPointsHead' in reason and 'loss()' in reason
    assert 'not an EncoderDecoder' in fast_path_blocker(
        torch.nn.Module(), algorithm.distiller.teacher_recorders, False)
    assert 'trainable' in fast_path_blocker(algorithm.teacher, None, True)
    with pytest.raises(ValueError, match='teacher_precision'):
        _algorithm('pixel_kd', 'pixel-kd', teacher_precision='int8')


def test_ka_stage1_does_not_run_the_unused_student():
    algorithm = _algorithm('ka', 'ka-stage1')
    calls = _calls(algorithm.student.backbone)
    losses = algorithm.loss(*fake_batch())
    assert calls == [] and set(losses) == {'distill.loss_ae'}
    assert torch.isfinite(losses['distill.loss_ae'])


def _ka_stage2(tmp_path, **options):
    """KA stage 2 on the tiny pair with a (random) stage-1 auto-encoder saved under tmp_path."""
    from benchmarks.tiny import write_ka_stage1_checkpoint

    def with_stage1(cfg):
        encoder_cfg = cfg.distiller.connectors.teacher_autoencoder
        path = tmp_path / 'stage1.pth'
        if not path.exists():
            torch.manual_seed(0)
            write_ka_stage1_checkpoint(str(path), encoder_cfg.in_channels,
                                       encoder_cfg.checkpoint_prefix)
        encoder_cfg.checkpoint = str(path)
    return _algorithm('ka', 'ka-stage2', prepare=with_stage1, **options)


def _encoded_teacher(algorithm, batch):
    codes = []
    encoder = algorithm.distiller.connectors['teacher_autoencoder']
    handle = encoder.encoder.register_forward_hook(lambda m, args, out: codes.append(out))
    losses = algorithm.loss(*batch)
    handle.remove()
    return codes, algorithm.distiller.get_record('head_feat', False,
                                                 connector='teacher_autoencoder'), losses


def test_frozen_teacher_encoder_follows_the_teacher_precision_and_memory_format(tmp_path):
    """KA's stage-1 encoder only transforms the teacher's feature and trains nothing: it is
    the teacher's side of the step, so teacher_precision / teacher_channels_last cover it; the
    trainable student adapters are not touched."""
    batch = fake_batch()
    reference = _ka_stage2(tmp_path)
    assert reference.distiller.frozen_teacher_connectors == ['teacher_autoencoder']
    codes, expected, reference_losses = _encoded_teacher(reference, batch)
    assert [c.dtype for c in codes] == [torch.float32]

    reduced = _ka_stage2(tmp_path, teacher_precision='bf16')
    reduced.load_state_dict(reference.state_dict())
    codes, encoded, losses = _encoded_teacher(reduced, batch)
    assert [c.dtype for c in codes] == [torch.bfloat16]  # one encoder run, in bf16
    assert encoded.dtype == torch.float32  # the losses get float32 targets
    scale = expected.abs().max()
    assert 0 < (encoded - expected).abs().max() < 0.03 * scale
    for key, value in losses.items():
        torch.testing.assert_close(value, reference_losses[key], rtol=0.1, atol=1e-3)
    adapter = reduced.distiller.connectors['student_adapter']
    feat = torch.randn(2, adapter.conv_module.conv.in_channels, 8, 8)
    assert adapter(feat).dtype == torch.float32  # student side untouched

    channels_last = _ka_stage2(tmp_path, teacher_channels_last=True)
    channels_last.load_state_dict(reference.state_dict())
    encoder = channels_last.distiller.connectors['teacher_autoencoder']
    assert encoder.encoder[0].conv.weight.is_contiguous(memory_format=torch.channels_last)
    student_adapter = channels_last.distiller.connectors['student_adapter']
    assert not student_adapter.conv_module.conv.weight.is_contiguous(
        memory_format=torch.channels_last)
    _, encoded, _ = _encoded_teacher(channels_last, batch)
    torch.testing.assert_close(encoded, expected, rtol=1e-5, atol=1e-5)

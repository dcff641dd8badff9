"""SegmentationDistiller on the real tiny pair: mappings, checks and error messages."""
import copy

import pytest
import torch
from tiny_pair import build_algorithm, fake_batch, load_model_cfg

import mmseg_distill  # noqa: F401
from mmseg_distill.methods import METHODS, all_forms, stage1_forms

# the two-stage method (KA): its stage-1 leaf, its stage-2 leaf and the connector between them
TWO_STAGE, STAGE2 = stage1_forms()[0]
STAGE1 = STAGE2.stage1


def test_every_fragment_gives_finite_logged_distill_losses():
    forms = [(m.directory, f.prefix) for m, f in all_forms() if not f.stage1]
    dsd = METHODS['dsd'].directory  # and DSD's extension to stage maps
    for method_dir, name in forms + [(dsd, 'dsd-stages')]:
        algorithm = build_algorithm(load_model_cfg(method_dir, name))
        losses = algorithm.loss(*fake_batch())
        distill = {k: v for k, v in losses.items() if k.startswith('distill.')}
        assert distill, name
        for key, value in distill.items():
            assert 'loss' in key and torch.isfinite(value), (name, key)
        total = sum(v for k, v in losses.items() if 'loss' in k)
        total.backward()
        grads = [p.grad for p in algorithm.student.parameters() if p.grad is not None]
        assert grads and all(torch.isfinite(g).all() for g in grads), name
        assert all(p.grad is None for p in algorithm.teacher.parameters()), name


def test_psd_from_several_recorders_equals_the_loss_on_those_maps():
    algorithm = build_algorithm(load_model_cfg('dsd', 'dsd'))
    algorithm.loss(*fake_batch())
    distiller = algorithm.distiller
    feats = [distiller.get_record('aux_logits', True), distiller.get_record('head_feat', True),
             distiller.get_record('logits', True)]
    feats_t = [distiller.get_record('aux_logits', False),
               distiller.get_record('head_feat', False),
               distiller.get_record('logits', False)]
    expected = distiller.distill_losses['loss_psd'](feats, feats_t)
    torch.testing.assert_close(distiller.compute_distill_losses()['loss_psd'], expected)


def test_unknown_recorder_source_names_side_and_closest_modules():
    cfg = load_model_cfg('pixel_kd', 'pixel-kd')
    cfg.distiller.teacher_recorders.logits = dict(type='ModuleOutputs',
                                                  source='decode_head.conv_sge')
    with pytest.raises(ValueError) as error:
        build_algorithm(cfg)
    message = str(error.value)
    assert "teacher recorder 'logits'" in message and "'decode_head.conv_sge'" in message
    assert 'decode_head.conv_seg' in message  # the closest existing name


def test_recorder_that_records_nothing_is_named_at_the_first_iteration():
    cfg = load_model_cfg('pixel_kd', 'pixel-kd')
    cfg.distiller.student_recorders.logits = dict(type='ModuleOutputs', source='decode_head')
    algorithm = build_algorithm(cfg)
    with pytest.raises(RuntimeError, match=r"student recorder 'logits'.*recorded 0 value.*"
                                           r"decode_head\.conv_seg"):
        algorithm.loss(*fake_batch())


def test_loss_name_without_loss_is_a_build_error():
    cfg = load_model_cfg('pixel_kd', 'pixel-kd')
    cfg.distiller.distill_losses = dict(kd=cfg.distiller.distill_losses.loss_kd)
    cfg.distiller.loss_forward_mappings = dict(kd=cfg.distiller.loss_forward_mappings.loss_kd)
    with pytest.raises(ValueError, match="'kd' has no 'loss'.*'loss_kd'"):
        build_algorithm(cfg)


def test_unmapped_required_argument_and_unknown_recorder_are_build_errors():
    cfg = load_model_cfg('pixel_kd', 'pixel-kd')
    bad = copy.deepcopy(cfg)
    del bad.distiller.loss_forward_mappings.loss_kd['preds_T']
    with pytest.raises(KeyError, match="needs the arguments \\['preds_T'\\]"):
        build_algorithm(bad)
    bad = copy.deepcopy(cfg)
    bad.distiller.loss_forward_mappings.loss_kd.preds_T.recorder = 'logit'
    with pytest.raises(KeyError, match="'logit' is not one of the teacher_recorders"):
        build_algorithm(bad)


def test_logit_losses_on_different_class_counts_name_both_shapes():
    cfg = load_model_cfg('pixel_kd', 'pixel-kd')
    algorithm = build_algorithm(cfg)
    conv = algorithm.teacher.decode_head.conv_seg
    algorithm.teacher.decode_head.conv_seg = torch.nn.Conv2d(conv.in_channels, 9, 1)
    algorithm.distiller.prepare_from_teacher(algorithm.teacher)
    with pytest.raises(ValueError, match=r'student has 7 classes.*teacher 9'):
        algorithm.loss(*fake_batch())


def test_connector_that_does_not_fit_the_record_names_connector_and_shape(tmp_path):
    from tiny_pair import load_model_cfg as load
    stage1 = build_algorithm(load(TWO_STAGE.directory, STAGE1.prefix))
    ckpt = str(tmp_path / 'stage1.pth')
    torch.save({'state_dict': stage1.state_dict()}, ckpt)
    cfg = load(TWO_STAGE.directory, STAGE2.prefix)
    cfg.distiller.connectors[STAGE1.connector].checkpoint = ckpt
    cfg.distiller.connectors.student_adapter.in_channel = 24  # the student feature has 16
    algorithm = build_algorithm(cfg)
    with pytest.raises(RuntimeError, match=r"connector 'student_adapter'.*\(2, 16, 8, 8\)"):
        algorithm.loss(*fake_batch())


def test_shared_teacher_connector_runs_once_per_step(tmp_path):
    stage1 = build_algorithm(load_model_cfg(TWO_STAGE.directory, STAGE1.prefix))
    ckpt = str(tmp_path / 'stage1.pth')
    torch.save({'state_dict': stage1.state_dict()}, ckpt)
    cfg = load_model_cfg(TWO_STAGE.directory, STAGE2.prefix)
    cfg.distiller.connectors[STAGE1.connector].checkpoint = ckpt
    algorithm = build_algorithm(cfg)
    calls = []
    encoder = algorithm.distiller.connectors[STAGE1.connector]
    encoder.register_forward_hook(lambda *args: calls.append(1))
    losses = algorithm.loss(*fake_batch())
    assert len(calls) == 1  # feeds both loss_ka and loss_affinity
    assert torch.isfinite(losses['distill.loss_ka']) and torch.isfinite(
        losses['distill.loss_affinity'])

"""SegmentationDistill: the teacher it distils from is the one the user meant."""
import warnings

import pytest
import torch
from tiny_pair import build_algorithm, fake_batch, load_model_cfg

import mmseg_distill  # noqa: F401


def _teacher_checkpoint(tmp_path, mutate=None):
    from tiny_pair import TEACHER_CFG

    from mmseg_distill.models import ModelFromConfig
    teacher = ModelFromConfig(TEACHER_CFG)
    state = teacher.state_dict()
    if mutate:
        mutate(state)
    path = str(tmp_path / 'teacher.pth')
    torch.save({'state_dict': state}, path)
    return path, teacher


def test_matching_teacher_checkpoint_is_loaded(tmp_path):
    path, teacher = _teacher_checkpoint(tmp_path)
    cfg = load_model_cfg('pixel_kd', 'pixel-kd')
    cfg.teacher_ckpt = path
    algorithm = build_algorithm(cfg)
    for key, value in teacher.state_dict().items():
        torch.testing.assert_close(algorithm.teacher.state_dict()[key], value)
    assert algorithm.teacher._is_init


def test_mismatching_teacher_checkpoint_fails_loudly(tmp_path):
    def drop_and_reshape(state):
        del state['decode_head.conv_seg.weight']
        state['backbone.stem.0.weight'] = torch.zeros(1)
    path, _ = _teacher_checkpoint(tmp_path, drop_and_reshape)
    cfg = load_model_cfg('pixel_kd', 'pixel-kd')
    cfg.teacher_ckpt = path
    with pytest.raises(ValueError, match=r"1 missing keys \['decode_head.conv_seg.weight'\].*"
                                         r'backbone.stem.0.weight: \(1,\)'):
        build_algorithm(cfg)
    cfg.teacher_ckpt_strict = False
    build_algorithm(cfg)  # explicitly accepted: loads the matching part


def test_random_teacher_is_warned_about():
    with pytest.warns(UserWarning, match='no teacher_ckpt'):
        build_algorithm(load_model_cfg('pixel_kd', 'pixel-kd'))


def test_frozen_teacher_runs_in_eval_mode_so_its_targets_are_deterministic():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        algorithm = build_algorithm(load_model_cfg('pixel_kd', 'pixel-kd'))
    algorithm.train()
    assert algorithm.student.training and not algorithm.teacher.training
    batch = fake_batch()
    algorithm.loss(*batch)
    first = algorithm.distiller.get_record('logits', False).clone()
    algorithm.loss(*batch)
    torch.testing.assert_close(algorithm.distiller.get_record('logits', False), first)


def test_bf16_autocast_training_steps_stay_finite():
    """CPU stand-in for AMP: no GPU here, and MMEngine's AmpOptimWrapper needs one."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        algorithm = build_algorithm(load_model_cfg('aicsd', 'aicsd'))
    optimizer = torch.optim.SGD([p for p in algorithm.parameters() if p.requires_grad], lr=0.01)
    for step in range(3):
        with torch.autocast('cpu', dtype=torch.bfloat16):
            losses = algorithm.loss(*fake_batch(seed=step))
        total = sum(v for k, v in losses.items() if 'loss' in k)
        assert torch.isfinite(total), losses
        optimizer.zero_grad()
        total.backward()
        assert all(torch.isfinite(p.grad).all() for p in algorithm.student.parameters()
                   if p.grad is not None)
        optimizer.step()

"""The GroundTruthSeg recorder feeds ignore masks; ExportStudentHook writes the zoo checkpoint."""
import re
import types
import warnings

import torch

import mmseg_distill  # noqa: F401
from mmseg_distill.engine.hooks import ExportStudentHook
from mmseg_distill.models.losses import PixelwiseKDLoss
from tiny_pair import build_algorithm, fake_batch, load_model_cfg


def test_ground_truth_recorder_feeds_the_ignore_mask_of_the_batch():
    cfg = load_model_cfg('pixel_kd', 'pixel-kd')
    cfg.distiller.student_recorders.gt = dict(type='GroundTruthSeg')
    cfg.distiller.loss_forward_mappings.loss_kd.gt_seg = dict(recorder='gt', from_student=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        algorithm = build_algorithm(cfg)
    inputs, samples = fake_batch()
    for sample in samples:  # ignore the left half of every label map
        sample.gt_sem_seg.data[:, :, :32] = 255
    losses = algorithm.loss(inputs, samples)
    distiller = algorithm.distiller
    labels = distiller.get_record('gt', True)
    assert labels.shape == (2, 64, 64) and (labels[:, :, :32] == 255).all()
    preds_S = distiller.get_record('logits', True)
    preds_T = distiller.get_record('logits', False)
    expected = PixelwiseKDLoss()(preds_S, preds_T, labels)
    torch.testing.assert_close(losses['distill.loss_kd'], expected)
    assert not torch.allclose(expected, PixelwiseKDLoss()(preds_S, preds_T))


def test_export_hook_writes_the_student_of_the_last_checkpoint(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        algorithm = build_algorithm(load_model_cfg('pixel_kd', 'pixel-kd'))
    ckpt = tmp_path / 'iter_4.pth'
    torch.save({'meta': {'seed': 0}, 'state_dict': algorithm.state_dict()}, ckpt)
    (tmp_path / 'last_checkpoint').write_text(str(ckpt))
    logs = []
    runner = types.SimpleNamespace(
        work_dir=str(tmp_path), cfg=types.SimpleNamespace(filename='/x/pixel-kd_tiny.py'),
        logger=types.SimpleNamespace(info=logs.append, warning=logs.append))
    ExportStudentHook().after_run(runner)
    files = list((tmp_path / 'student').glob('*.pth'))
    assert len(files) == 1 and re.fullmatch(r'pixel-kd_tiny_\d{8}-[0-9a-f]{8}\.pth', files[0].name)
    exported = torch.load(files[0])
    assert set(exported['state_dict']) == set(algorithm.student.state_dict())
    assert str(files[0]) in logs[-1]

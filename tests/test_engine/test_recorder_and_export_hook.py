"""The GroundTruthSeg recorder feeds ignore masks; ExportStudentHook writes the zoo checkpoint."""
import os.path as osp
import re
import types
import warnings

import torch
from tiny_pair import REPO, build_algorithm, fake_batch, load_model_cfg

import mmseg_distill  # noqa: F401
from mmseg_distill.engine.hooks import ExportStudentHook
from mmseg_distill.models.losses import PixelwiseKDLoss


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
        work_dir=str(tmp_path), model=algorithm,
        cfg=types.SimpleNamespace(filename='/x/pixel-kd_tiny.py'),
        logger=types.SimpleNamespace(info=logs.append, warning=logs.append))
    ExportStudentHook().after_run(runner)
    files = list((tmp_path / 'student').glob('*.pth'))
    # OpenMMLab's published pattern: <config>_<YYYYMMDD_HHMMSS>-<sha256[:8]>.pth
    assert len(files) == 1
    assert re.fullmatch(r'pixel-kd_tiny_\d{8}_\d{6}-[0-9a-f]{8}\.pth', files[0].name)
    exported = torch.load(files[0])
    assert set(exported['state_dict']) == set(algorithm.student.state_dict())
    assert str(files[0]) in logs[-1]


def test_export_of_a_retargeted_student_writes_its_config_and_names_it_after_the_leaf(tmp_path):
    """A student distilled for other classes than its config's: the exported config carries
    the class count, so plain MMSeg builds the model the checkpoint belongs to."""
    from mmengine.config import Config
    from mmseg.apis import init_model
    from tiny_pair import STUDENT_CFG, TEACHER_CFG

    from mmseg_distill.engine.export import export_student
    leaf = tmp_path / 'pixel-kd_r18_mbv2_1xb4-40_synthetic-64x64.py'
    leaf.write_text(
        f"_base_ = [{osp.join(REPO, 'configs/_base_/distill/pixel_kd.py')!r}]\n"
        f"model = dict(architecture=dict(type='ModelFromConfig', cfg_path={STUDENT_CFG!r},\n"
        "                                num_classes=5),\n"
        f"             teacher=dict(type='ModelFromConfig', cfg_path={TEACHER_CFG!r},\n"
        "                          num_classes=5))\n")
    cfg = Config.fromfile(str(leaf))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        algorithm = build_algorithm(cfg.model)
    ckpt = tmp_path / 'iter_2.pth'
    meta = dict(cfg=cfg.pretty_text, experiment_name=leaf.stem + '_20261202_101010')
    torch.save({'meta': meta, 'state_dict': algorithm.state_dict()}, ckpt)
    path, config = export_student(str(ckpt), str(tmp_path / 'out'))
    assert osp.basename(path).startswith(leaf.stem + '_')
    assert config == str(tmp_path / 'out' / (leaf.stem + '.py'))
    student_cfg = Config.fromfile(config)
    assert student_cfg.model.decode_head.num_classes == 5
    assert student_cfg.model.auxiliary_head.num_classes == 5
    model = init_model(config, path, device='cpu')  # strict shapes: no size mismatch
    torch.testing.assert_close(model.decode_head.conv_seg.weight,
                               algorithm.student.decode_head.conv_seg.weight)

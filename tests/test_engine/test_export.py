"""``mmseg_distill.engine.export`` and ``ExportStudentHook``: the exported config is the one the
student was trained and validated with; KA's stage 1 exports nothing."""
import os.path as osp
import types
import warnings

import torch
from tiny_pair import REPO, TEACHER_CFG, build_algorithm

import mmseg_distill  # noqa: F401

FAST_SCNN = 'mmseg::fastscnn/fast_scnn_8xb4-160k_cityscapes-512x1024.py'


# ------------------------------------------------------------------------ export
def _retargeted_leaf(tmp_path):
    """A leaf whose student config (Fast-SCNN, Cityscapes pipelines at 2048x1024, 160k) is
    distilled on the tiny synthetic scenes at 64x64 with the tiny CPU schedule."""
    leaf = tmp_path / 'dsd_tiny_fast-scnn_1xb4-40_synthetic-64x64.py'
    leaf.write_text(
        f"_base_ = [{osp.join(REPO, 'configs/_base_/distill/pixel_kd.py')!r},\n"
        f"          {osp.join(REPO, 'configs/_base_/datasets/synthetic_scenes.py')!r},\n"
        f"          {osp.join(REPO, 'configs/_base_/schedules/tiny_cpu.py')!r}]\n"
        f"data_root = {str(tmp_path / 'data')!r}\n"
        "train_dataloader = dict(dataset=dict(data_root=data_root))\n"
        "val_dataloader = dict(dataset=dict(data_root=data_root))\n"
        "test_dataloader = val_dataloader\n"
        "test_pipeline = None  # a data config need not name one at top level\n"
        f"model = dict(architecture=dict(type='ModelFromConfig', cfg_path={FAST_SCNN!r},\n"
        "                                num_classes=7),\n"
        f"             teacher=dict(type='ModelFromConfig', cfg_path={TEACHER_CFG!r},\n"
        "                          num_classes=7),\n"
        "             data_preprocessor=dict(type='mmseg.SegDataPreProcessor', size=(64, 64),\n"
        "                 mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],\n"
        "                 bgr_to_rgb=True, pad_val=0, seg_pad_val=255))\n"
        "default_hooks = dict(export_student=dict(type='mmrazor.ExportStudentHook'),\n"
        "                     term_shares=dict(type='mmrazor.TermShareHook'))\n"
        "val_cfg = dict(type='mmrazor.SingleTeacherDistillValLoop')\n")
    return leaf


def test_the_exported_config_is_the_one_the_student_was_trained_and_validated_with(tmp_path):
    from mmengine.config import Config
    from mmengine.dataset import Compose
    from mmseg.apis import inference_model, init_model

    from mmseg_distill.engine.export import export_student
    leaf = _retargeted_leaf(tmp_path)
    cfg = Config.fromfile(str(leaf))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        algorithm = build_algorithm(cfg.model)
    ckpt = tmp_path / 'iter_40.pth'
    torch.save({'meta': dict(cfg=cfg.pretty_text, experiment_name=leaf.stem + '_20261203_0'),
                'state_dict': algorithm.state_dict()}, ckpt)
    path, config = export_student(str(ckpt), str(tmp_path / 'out'))
    exported = Config.fromfile(config)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator',
                'train_cfg', 'param_scheduler', 'optim_wrapper', 'crop_size', 'randomness'):
        assert exported[key] == cfg[key], key
    assert exported.test_pipeline == cfg.test_dataloader.dataset.pipeline
    assert not any('Resize' in str(step['type']) for step in exported.test_pipeline)
    assert exported.val_cfg == dict(type='ValLoop')
    distillation_hooks = {'export_student', 'term_shares'}
    # the student trained alone checks its masks as the distillation did
    assert set(exported.default_hooks) == \
        set(cfg.default_hooks) - distillation_hooks | {'check_labels'}
    assert exported.default_hooks.check_labels == dict(type='mmrazor.LabelCheckHook')
    assert exported.model.data_preprocessor.size == (64, 64)
    assert exported.model.decode_head.num_classes == 7
    # inference through plain MMSeg predicts what the distillation's validation predicted
    from mmseg_distill.datasets.synthetic_scenes import generate
    generate(str(tmp_path / 'data'), num_train=2, num_val=2, size=64)
    image = str(tmp_path / 'data' / 'img_dir' / 'val' / 'val_00000.png')
    model = init_model(config, path, device='cpu')
    predicted = inference_model(model, image).pred_sem_seg.data
    algorithm.eval()
    item = Compose(cfg.test_dataloader.dataset.pipeline)(dict(
        img_path=image, seg_map_path=image.replace('img_dir', 'ann_dir'), reduce_zero_label=False,
        seg_fields=[]))
    batch = dict(inputs=[item['inputs']], data_samples=[item['data_samples']])
    with torch.no_grad():
        validated = algorithm.val_step(batch)[0].pred_sem_seg.data
    assert torch.equal(predicted, validated)


def test_ka_stage1_exports_nothing(tmp_path):
    from mmseg_distill.engine.hooks import ExportStudentHook
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_4.pth'))
    logs = []
    runner = types.SimpleNamespace(
        work_dir=str(tmp_path), model=types.SimpleNamespace(student_trainable=False),
        cfg=types.SimpleNamespace(filename='/x/ka-stage1_tiny.py'),
        logger=types.SimpleNamespace(info=logs.append, warning=logs.append))
    ExportStudentHook().after_run(runner)
    assert not (tmp_path / 'student').exists()
    assert 'nothing exported' in logs[-1]

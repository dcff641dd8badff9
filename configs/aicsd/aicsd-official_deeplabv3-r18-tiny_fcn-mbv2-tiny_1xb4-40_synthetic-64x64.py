_base_ = [
    '../_base_/distill/aicsd_official.py', '../_base_/datasets/synthetic_scenes.py',
    '../_base_/schedules/tiny_cpu.py', 'mmseg::_base_/default_runtime.py'
]
# Tiny CPU pair. Pass the trained teacher with --cfg-options model.teacher_ckpt=<teacher .pth>
model = dict(
    architecture=dict(
        type='ModelFromConfig',
        cfg_path='{{ fileDirname }}/../tiny/fcn_mbv2-tiny_1xb4-40_synthetic-64x64.py'),
    teacher=dict(
        type='ModelFromConfig',
        cfg_path='{{ fileDirname }}/../tiny/deeplabv3_r18-tiny_1xb4-40_synthetic-64x64.py'),
    teacher_ckpt=None)
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

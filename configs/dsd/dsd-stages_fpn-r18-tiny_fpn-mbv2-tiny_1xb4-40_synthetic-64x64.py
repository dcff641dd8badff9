_base_ = [
    '../_base_/distill/dsd_stages.py', '../_base_/datasets/synthetic_scenes.py',
    '../_base_/schedules/tiny_cpu.py', 'mmseg::_base_/default_runtime.py'
]
# Tiny CPU pair with FPN necks. Pass the trained teacher with
# --cfg-options model.teacher_ckpt=<teacher .pth>
model = dict(
    architecture=dict(
        type='ModelFromConfig',
        cfg_path='{{ fileDirname }}/../tiny/fpn_mbv2-tiny_1xb4-40_synthetic-64x64.py'),
    teacher=dict(
        type='ModelFromConfig',
        cfg_path='{{ fileDirname }}/../tiny/fpn_r18-tiny_1xb4-40_synthetic-64x64.py'),
    teacher_ckpt=None,
    distiller=dict(
        # the neck switch: PSD on the FPN outputs instead of the backbone stages
        student_recorders=dict(stages=dict(source='neck')),
        teacher_recorders=dict(stages=dict(source='neck')),
        # uncalibrated: CIRKD's 1000 (three stride-8 maps, 64x128 positions) rescaled by 1/P to
        # the 16x16 FPN maps here; PSD on neck outputs is this project's extension.
        distill_losses=dict(loss_psd=dict(loss_weight=1000.0 * 256 / 8192))))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

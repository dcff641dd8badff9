_base_ = [
    '../_base_/distill/dsd_stages.py', '../_base_/datasets/synthetic_scenes.py',
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
    teacher_ckpt=None,
    # uncalibrated: CIRKD's 1000 (three stride-8 maps, 64x128 positions) rescaled by 1/P to the
    # largest stage map here (16x16 at stride 4: 1000 * 256 / 8192); PSD on backbone stages is
    # this project's extension, nobody calibrated a weight for it.
    distiller=dict(distill_losses=dict(loss_psd=dict(loss_weight=1000.0 * 256 / 8192))))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

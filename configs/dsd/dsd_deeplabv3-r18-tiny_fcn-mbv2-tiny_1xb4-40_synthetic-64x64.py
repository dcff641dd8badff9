_base_ = [
    '../_base_/distill/dsd_cirkd.py', '../_base_/datasets/synthetic_scenes.py',
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
    # source: CIRKD's 1000 (train_dsd.sh) for 64x128 positions, rescaled to the 8x8 maps here:
    # PSD is a mean over P positions of squared differences of unit vectors, so it scales as
    # 1/P and weight * PSD stays comparable when the weight scales as P.
    distiller=dict(distill_losses=dict(loss_psd=dict(loss_weight=1000.0 * 64 / 8192))))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

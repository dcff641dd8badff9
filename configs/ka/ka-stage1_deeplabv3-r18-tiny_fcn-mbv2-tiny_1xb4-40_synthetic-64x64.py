_base_ = [
    '../_base_/distill/ka_stage1.py', '../_base_/datasets/synthetic_scenes.py',
    '../_base_/schedules/tiny_cpu.py', 'mmseg::_base_/default_runtime.py'
]
model = dict(
    architecture=dict(
        type='ModelFromConfig',
        cfg_path='{{ fileDirname }}/../tiny/fcn_mbv2-tiny_1xb4-40_synthetic-64x64.py'),
    teacher=dict(
        type='ModelFromConfig',
        cfg_path='{{ fileDirname }}/../tiny/deeplabv3_r18-tiny_1xb4-40_synthetic-64x64.py'),
    teacher_ckpt=None,
    # teacher decode-head feature: ASPP bottleneck, 32 channels
    distiller=dict(connectors=dict(teacher_autoencoder=dict(in_channels=32))))
# paper: about one epoch at lr 0.1
optim_wrapper = dict(optimizer=dict(lr=0.1))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

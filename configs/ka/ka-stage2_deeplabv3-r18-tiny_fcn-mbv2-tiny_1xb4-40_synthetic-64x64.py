_base_ = [
    '../_base_/distill/ka_stage2.py', '../_base_/datasets/synthetic_scenes.py',
    '../_base_/schedules/tiny_cpu.py', 'mmseg::_base_/default_runtime.py'
]
# The last checkpoint of the stage-1 run; elsewhere: --cfg-options
#   model.distiller.connectors.teacher_autoencoder.checkpoint=<stage-1 .pth>
ka_stage1_ckpt = 'work_dirs/ka-stage1_deeplabv3-r18-tiny_fcn-mbv2-tiny_1xb4-40_synthetic-64x64/iter_40.pth'
model = dict(
    architecture=dict(
        type='ModelFromConfig',
        cfg_path='{{ fileDirname }}/../tiny/fcn_mbv2-tiny_1xb4-40_synthetic-64x64.py'),
    teacher=dict(
        type='ModelFromConfig',
        cfg_path='{{ fileDirname }}/../tiny/deeplabv3_r18-tiny_1xb4-40_synthetic-64x64.py'),
    teacher_ckpt=None,
    distiller=dict(
        connectors=dict(
            teacher_autoencoder=dict(in_channels=32, checkpoint=ka_stage1_ckpt),
            student_adapter=dict(in_channel=16, out_channel=16),
            student_affinity_adapter=dict(in_channel=16, out_channel=16))))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

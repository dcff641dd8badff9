# The tiny CPU pair: DeepLabV3 R18-tiny -> FCN MobileNetV2-tiny on the procedural street scenes,
# with the smoke-test schedule. Leaves take the models as `_base_.student_model` /
# `_base_.teacher_model`; pass the trained teacher with
# --cfg-options model.teacher_ckpt=<teacher .pth>.
_base_ = [
    '../datasets/synthetic_scenes.py', '../schedules/tiny_cpu.py',
    'mmseg::_base_/default_runtime.py'
]
student_model = dict(
    type='ModelFromConfig',
    cfg_path='{{ fileDirname }}/../../tiny/fcn_mbv2-tiny_1xb4-40_synthetic-64x64.py')
teacher_model = dict(
    type='ModelFromConfig',
    cfg_path='{{ fileDirname }}/../../tiny/deeplabv3_r18-tiny_1xb4-40_synthetic-64x64.py')
teacher_ckpt = None
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

# The tiny CPU pair with FPN necks (semantic FPN R18-tiny -> semantic FPN MobileNetV2-tiny) on
# the procedural street scenes, with the smoke-test schedule.
_base_ = [
    '../datasets/synthetic_scenes.py', '../schedules/tiny_cpu.py',
    'mmseg::_base_/default_runtime.py'
]
student_model = dict(
    type='ModelFromConfig',
    cfg_path='{{ fileDirname }}/../../tiny/fpn_mbv2-tiny_1xb4-40_synthetic-64x64.py')
teacher_model = dict(
    type='ModelFromConfig',
    cfg_path='{{ fileDirname }}/../../tiny/fpn_r18-tiny_1xb4-40_synthetic-64x64.py')
teacher_ckpt = None
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

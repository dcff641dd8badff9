# Trainable on its own with `mim train mmseg`; also the r18-tiny side of the tiny distillation pair.
_base_ = [
    '../_base_/models/tiny_deeplabv3_r18.py', '../_base_/datasets/synthetic_scenes.py',
    '../_base_/schedules/tiny_cpu.py', 'mmseg::_base_/default_runtime.py'
]

# Trainable on its own with `mim train mmseg`; also one side of the tiny pair with a neck.
_base_ = [
    '../_base_/models/tiny_fpn_mbv2.py', '../_base_/datasets/synthetic_scenes.py',
    '../_base_/schedules/tiny_cpu.py', 'mmseg::_base_/default_runtime.py'
]

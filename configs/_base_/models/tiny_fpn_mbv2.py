# A small Semantic FPN on MobileNetV2 (width 0.25, strides 4-32, FPN neck): the tiny student
# *with a neck*.
_base_ = './tiny_fpn_r18.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='MobileNetV2',
        widen_factor=0.25,
        out_indices=(1, 2, 4, 6),
        norm_cfg=dict(type='BN', requires_grad=True)),
    neck=dict(in_channels=[8, 8, 24, 80], out_channels=16),
    decode_head=dict(in_channels=[16, 16, 16, 16], channels=16))

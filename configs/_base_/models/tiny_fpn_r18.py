# A small Semantic FPN (ResNetV1c-18 at 1/4 width, strides 4-32, FPN neck): the tiny teacher
# *with a neck*, to exercise the recorders' neck switch.
# norm and data preprocessing as the tiny DeepLabV3 (inherited)
_base_ = './tiny_deeplabv3_r18.py'
model = dict(
    auxiliary_head=None,  # Semantic FPN has no auxiliary head
    backbone=dict(
        _delete_=True,
        type='ResNetV1c',
        depth=18,
        stem_channels=16,
        base_channels=16,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        norm_cfg=dict(type='BN', requires_grad=True),
        style='pytorch'),
    neck=dict(type='FPN', in_channels=[16, 32, 64, 128], out_channels=32, num_outs=4),
    decode_head=dict(
        _delete_=True,
        type='FPNHead',
        in_channels=[32, 32, 32, 32],
        in_index=[0, 1, 2, 3],
        feature_strides=[4, 8, 16, 32],
        channels=32,
        dropout_ratio=0.1,
        num_classes=7,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))

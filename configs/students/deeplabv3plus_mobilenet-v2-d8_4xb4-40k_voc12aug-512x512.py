# MMSeg has DeepLabV3+ MobileNetV2 for Cityscapes and ADE20K only; this is the same model on
# Pascal VOC aug (21 classes), the AICSD student.
_base_ = 'mmseg::deeplabv3plus/deeplabv3plus_r101-d8_4xb4-40k_voc12aug-512x512.py'
model = dict(
    pretrained='mmcls://mobilenet_v2',
    backbone=dict(
        _delete_=True,
        type='MobileNetV2',
        widen_factor=1.,
        strides=(1, 2, 2, 1, 1, 1, 1),
        dilations=(1, 1, 1, 2, 2, 4, 4),
        out_indices=(1, 2, 4, 6),
        norm_cfg=dict(type='SyncBN', requires_grad=True)),
    decode_head=dict(in_channels=320, c1_in_channels=24),
    auxiliary_head=dict(in_channels=96))
# the batch the schedule's lr is set for (MMSeg's VOC aug protocol, 4 GPUs x 4 images)
auto_scale_lr = dict(enable=False, base_batch_size=16)

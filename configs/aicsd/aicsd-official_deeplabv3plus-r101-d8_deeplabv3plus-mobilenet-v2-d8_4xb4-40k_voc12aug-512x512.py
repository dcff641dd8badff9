_base_ = ['../_base_/distill/aicsd_official.py', '../_base_/pairs/deeplabv3plus-r101-d8_deeplabv3plus-mobilenet-v2-d8_voc12aug-512x512.py']
model = dict(
    architecture=_base_.student_model, teacher=_base_.teacher_model,
    teacher_ckpt=_base_.teacher_ckpt)
# What the official AICSD README command trains, on the official pair (DeepLabV3+ R101 ->
# DeepLabV3+ MobileNetV2, Pascal VOC aug) in MMSeg's models. Both record the ASPP projection's
# BN output (`decode_head.bottleneck.bn`, the fragment's default): MMSeg's
# DepthwiseSeparableASPPHead concatenates image pooling and the ASPP branches and projects them
# with `bottleneck` (conv + BN + ReLU) before the decoder, as the official ASPP's conv1 + bn1 +
# relu do; the official code reads bn1's output (before the ReLU). MMSeg's projection is a 3x3
# conv where the official one is 1x1.

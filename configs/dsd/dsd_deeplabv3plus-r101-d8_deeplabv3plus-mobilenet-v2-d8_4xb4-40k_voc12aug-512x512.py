# CIRKD's weights as dsd_cirkd.py sets them: CIRKD keeps 1000 / 10 at every resolution (its
# DeepLabV3 runs at 64x128 stride-8 positions, its SegFormer run at 256x256 stride-4 ones); here
# the maps are resized to DeepLabV3+'s stride-4 output, 128x128 positions
_base_ = ['../_base_/distill/dsd_cirkd.py', '../_base_/pairs/deeplabv3plus-r101-d8_deeplabv3plus-mobilenet-v2-d8_voc12aug-512x512.py']
model = dict(
    architecture=_base_.student_model, teacher=_base_.teacher_model,
    teacher_ckpt=_base_.teacher_ckpt)
